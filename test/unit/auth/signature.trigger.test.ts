/** The trigger script signs exactly what the function verifies (src/auth/signature.ts, form contract). */
import { verifySignature } from '../../../src/auth/signature';
import { signedRequest } from '../../../scripts/sync-calls';

const TOKEN = 'f'.repeat(32);
const JOB_RULES = { allowed: ['Invocation', 'RequestedAt'] };
const context = { DOMAIN_NAME: 'example-1234.twil.io', PATH: '/sync-recent-calls' };

function asFunctionSees(url: string, token: string, params: Record<string, string>) {
  const request = signedRequest(url, token, params);
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { context, params: Object.fromEntries(new URLSearchParams(request.body)), headers };
}

describe('sync-calls signing', () => {
  const url = 'https://example-1234.twil.io/sync-recent-calls';
  const params = { Invocation: '1', RequestedAt: '2026-03-01T00:00:00.000Z' };

  it('is accepted by the function', () => {
    expect(() => verifySignature(asFunctionSees(url, TOKEN, params), TOKEN, JOB_RULES)).not.toThrow();
  });
  it('is refused with another token, another URL or changed parameters', () => {
    expect(() => verifySignature(asFunctionSees(url, 'e'.repeat(32), params), TOKEN, JOB_RULES)).toThrow(
      /does not match/,
    );
    expect(() =>
      verifySignature(asFunctionSees('https://other.twil.io/sync-recent-calls', TOKEN, params), TOKEN, JOB_RULES),
    ).toThrow(/does not match/);
    const tampered = asFunctionSees(url, TOKEN, params);
    tampered.params.Invocation = '2';
    expect(() => verifySignature(tampered, TOKEN, JOB_RULES)).toThrow(/does not match/);
  });
});
