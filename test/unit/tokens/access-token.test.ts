import jwt from 'jsonwebtoken';
import { mintSyncToken } from '../../../src/tokens/access-token';

const signer = {
  accountSid: 'AC' + 'a'.repeat(32),
  apiKey: 'SK' + 'b'.repeat(32),
  apiSecret: 'unit-test-secret',
  syncServiceSid: 'IS' + 'c'.repeat(32),
};

describe('mintSyncToken', () => {
  it('builds an Access Token with only a Sync grant, for the identity and lifetime given', () => {
    const issued = mintSyncToken(signer, 'alice', 3600);
    const { header, payload } = jwt.verify(issued.token, signer.apiSecret, {
      algorithms: ['HS256'],
      issuer: signer.apiKey,
      subject: signer.accountSid,
      complete: true,
    }) as unknown as {
      header: Record<string, unknown>;
      payload: { iat: number; exp: number; jti: string; grants: unknown };
    };
    expect(header.cty).toBe('twilio-fpa;v=1');
    expect(payload.grants).toEqual({ identity: 'alice', data_sync: { service_sid: signer.syncServiceSid } });
    expect(payload.exp - payload.iat).toBe(3600);
    expect(payload.jti).toBe(`${signer.apiKey}-${payload.iat}`);
    expect(issued).toEqual({
      token: issued.token,
      identity: 'alice',
      ttl: 3600,
      expiresAt: new Date(payload.exp * 1000).toISOString(),
      serviceSid: signer.syncServiceSid,
    });
  });
});

describe('mintSyncToken with a server time', () => {
  it('stamps iat and exp from the time given, not the host clock', () => {
    const twilioNow = Date.parse('2030-01-02T03:04:05.678Z');
    const issued = mintSyncToken(signer, 'alice', 1800, twilioNow);
    const payload = jwt.decode(issued.token) as { iat: number; exp: number; jti: string };
    expect(payload.iat).toBe(Math.floor(twilioNow / 1000));
    expect(payload.exp).toBe(payload.iat + 1800);
    expect(payload.jti).toBe(`${signer.apiKey}-${payload.iat}`);
    expect(issued.expiresAt).toBe('2030-01-02T03:34:05.000Z');
  });
});

describe('mintSyncToken signing key', () => {
  it('signs with the secret it is given each time, also when the secret changes (a rotated API key)', () => {
    const first = mintSyncToken(signer, 'alice', 1800);
    const rotated = { ...signer, apiSecret: 'rotated-secret' };
    const second = mintSyncToken(rotated, 'alice', 1800);
    expect(() => jwt.verify(first.token, signer.apiSecret, { algorithms: ['HS256'] })).not.toThrow();
    expect(() => jwt.verify(second.token, 'rotated-secret', { algorithms: ['HS256'] })).not.toThrow();
    expect(() => jwt.verify(second.token, signer.apiSecret, { algorithms: ['HS256'] })).toThrow(/invalid signature/);
  });
});
