/** Token cache entries: encoding, freshness checks and the refresh margin. */
import { decodeEntry, encodeEntry, fingerprint, isFresh, makeEntry, marginMs } from '../../../src/client/token-cache';
import { T0 } from './fakes';

describe('token cache entries', () => {
  const result = {
    token: 'jwt',
    identity: 'alice',
    ttl: 3600,
    expiresAt: new Date(T0 + 3600_000).toISOString(),
    serviceSid: 'IS1',
  };

  it('round-trips through storage text', () => {
    const entry = makeEntry('https://x.twil.io/sync-token', 'u1', T0, result);
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    expect(entry.expiresAtMs).toBe(T0 + 3600_000);
  });

  it('rejects anything malformed', () => {
    for (const text of [
      null,
      '',
      'x',
      '[]',
      '{}',
      '{"v":1}',
      JSON.stringify({ v: 1, endpoint: 'e', user: 'u', obtainedAtMs: 'a' }),
    ]) {
      expect(decodeEntry(text)).toBeUndefined();
    }
  });

  it('is fresh only before expiry minus the margin, and not when the clock went back', () => {
    const entry = makeEntry('e', 'u', T0, result);
    const staleAt = T0 + 3600_000 - 360_000;
    expect(isFresh(entry, T0)).toBe(true);
    expect(isFresh(entry, staleAt - 1)).toBe(true);
    expect(isFresh(entry, staleAt)).toBe(false);
    expect(isFresh(entry, T0 - 1)).toBe(false);
    expect(isFresh(entry, Number.NaN)).toBe(false);
  });

  it('uses 10 % of the lifetime as the default margin, at least 300 s, at most half the lifetime', () => {
    expect(marginMs(3600)).toBe(360_000);
    expect(marginMs(86_400)).toBe(8_640_000);
    expect(marginMs(1800)).toBe(300_000);
    expect(marginMs(400)).toBe(200_000);
    expect(marginMs(3600, 60)).toBe(60_000);
    expect(marginMs(3600, 0)).toBe(0);
    expect(marginMs(3600, 99_999)).toBe(1_800_000);
  });

  it('fingerprints tokens stably and tells different ones apart', () => {
    expect(fingerprint('token-a')).toBe(fingerprint('token-a'));
    expect(fingerprint('token-a')).not.toBe(fingerprint('token-b'));
    expect(fingerprint('token-a')).not.toContain('token');
  });
});
