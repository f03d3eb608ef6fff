import { ConfigError } from '../../../src/config/errors';
import {
  cacheLifetimeMs,
  enforceFlexPolicy,
  flexTokenKey,
  interpretIamAnswer,
  isAgent,
  looksLikeFlexToken,
  verifyFlexToken,
  type FlexUser,
} from '../../../src/auth/flex-token';
import { SingleFlightCache } from '../../../src/auth/flex-token-cache';
import { FlexTokenRejected, FlexUserNotAllowed } from '../../../src/auth/errors';
import { describeError } from '../../../src/http/error-response';
import { isUpstreamFailure } from '../../../src/twilio/errors';
import type { ProjectTwilioClient } from '../../../src/twilio/client-factory';
import { answeredAsync } from '../../helpers/answered';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const WK = 'WK' + '0'.repeat(32);
const valid = (overrides: Record<string, unknown> = {}) => ({
  valid: true,
  code: 0,
  message: null,
  expiration: new Date(NOW + 3600_000).toISOString(),
  realm_user_id: 'alice@example.com',
  identity: 'alice',
  roles: ['agent'],
  worker_sid: WK,
  ...overrides,
});

function statusAndCode(fn: () => unknown): [number, string] | undefined {
  try {
    fn();
  } catch (error) {
    // The domain's own types, answered with these statuses and codes by the one table at the edge.
    if (error instanceof FlexTokenRejected || error instanceof FlexUserNotAllowed) {
      const { status, code } = describeError(error);
      return [status, code];
    }
    throw error;
  }
  return undefined;
}

describe('interpretIamAnswer', () => {
  it('reads a valid answer (also as a JSON string)', () => {
    const expected = {
      valid: true,
      user: { identity: 'alice', roles: ['agent'], workerSid: WK, expiration: valid().expiration },
      expiresAtMs: NOW + 3600_000,
    };
    expect(interpretIamAnswer(200, valid(), NOW)).toEqual(expected);
    expect(interpretIamAnswer(200, JSON.stringify(valid()), NOW)).toEqual(expected);
  });

  it('treats anything but valid: true as a refusal, telling expired from invalid', () => {
    expect(interpretIamAnswer(200, { valid: false, code: 20101, message: 'Invalid Access Token' }, NOW)).toMatchObject({
      valid: false,
      reason: 'invalid',
    });
    expect(interpretIamAnswer(200, { valid: false, code: 20104, message: 'x' }, NOW)).toMatchObject({
      valid: false,
      reason: 'expired',
    });
    expect(interpretIamAnswer(200, { valid: false, message: 'Token expired' }, NOW)).toMatchObject({
      valid: false,
      reason: 'expired',
    });
    expect(interpretIamAnswer(200, { valid: 'true', identity: 'alice' }, NOW)).toMatchObject({
      valid: false,
      reason: 'invalid',
    });
    expect(interpretIamAnswer(200, 'not json', NOW)).toMatchObject({ valid: false });
    expect(interpretIamAnswer(200, null, NOW)).toMatchObject({ valid: false });
    expect(interpretIamAnswer(400, valid(), NOW)).toMatchObject({ valid: false, reason: 'invalid' });
    expect(interpretIamAnswer(404, { code: 20001 }, NOW)).toMatchObject({ valid: false });
  });

  // twilio/twilio-flex-token-validator's public fixtures: expiration with and without milliseconds; the refusal body
  // with every key present and null where unknown; guests with worker_sid null.
  it('reads IAM answers in their real shapes', () => {
    const withoutMs = valid({ expiration: '2026-01-01T13:00:00Z' });
    expect(interpretIamAnswer(200, withoutMs, NOW)).toMatchObject({ valid: true, expiresAtMs: NOW + 3600_000 });
    expect(interpretIamAnswer(200, valid({ expiration: '2026-01-01T13:00:00.240Z' }), NOW)).toMatchObject({
      valid: true,
      expiresAtMs: NOW + 3600_240,
    });
    const refusal = {
      code: 20101,
      worker_sid: null,
      roles: null,
      realm_user_id: null,
      valid: false,
      expiration: null,
      message: 'Invalid Access Token',
      identity: null,
    };
    expect(interpretIamAnswer(200, refusal, NOW)).toMatchObject({ valid: false, reason: 'invalid' });
    expect(interpretIamAnswer(200, valid({ worker_sid: null, roles: ['guest'] }), NOW)).toMatchObject({
      valid: true,
      user: { workerSid: null, roles: ['guest'] },
    });
  });

  // The validator's fixture for a made-up account SID: 404 / 20404 "The requested resource … was not found".
  it('a wrong ACCOUNT_SID (404 / 20404) is a configuration error, not a bad token', () => {
    expect(() =>
      interpretIamAnswer(
        404,
        { code: 20404, message: 'The requested resource /Accounts/AC1/Tokens/validate was not found', status: 404 },
        NOW,
      ),
    ).toThrow(/ACCOUNT_SID/);
  });

  it('refuses a "valid" answer with no identity, no expiry, or an expiry already past by the server clock', () => {
    expect(interpretIamAnswer(200, valid({ identity: '' }), NOW)).toMatchObject({ valid: false, reason: 'invalid' });
    expect(interpretIamAnswer(200, valid({ expiration: undefined }), NOW)).toMatchObject({
      valid: false,
      reason: 'invalid',
    });
    expect(interpretIamAnswer(200, valid({ expiration: new Date(NOW).toISOString() }), NOW)).toMatchObject({
      valid: false,
      reason: 'expired',
    });
  });

  it('keeps only string roles and a non-empty worker SID', () => {
    const answer = interpretIamAnswer(200, valid({ roles: ['agent', 7, null], worker_sid: '' }), NOW);
    expect(answer).toMatchObject({ valid: true, user: { roles: ['agent'], workerSid: null } });
    expect(interpretIamAnswer(200, valid({ roles: 'admin' }), NOW)).toMatchObject({ user: { roles: [] } });
  });

  it('throws an upstream failure for 429 / 5xx and a ConfigError for refused credentials', () => {
    for (const status of [429, 500, 502, 503, 504]) {
      let thrown: unknown;
      try {
        interpretIamAnswer(status, { code: 20500, message: 'boom' }, NOW);
      } catch (error) {
        thrown = error;
      }
      expect(isUpstreamFailure(thrown)).toBe(true);
    }
    expect(() => interpretIamAnswer(401, { code: 20003, message: 'Authentication Error' }, NOW)).toThrow(ConfigError);
    expect(() => interpretIamAnswer(401, { code: 20003 }, NOW)).toThrow(/AUTH_TOKEN/);
  });
});

describe('cacheLifetimeMs', () => {
  const ok = interpretIamAnswer(200, valid(), NOW);
  it('is the cache setting, capped by the token remaining life on the server clock (less the Date header resolution)', () => {
    expect(cacheLifetimeMs(ok, 200, 60, NOW)).toBe(60_000);
    expect(cacheLifetimeMs(ok, 200, 60, NOW + 3600_000 - 10_000)).toBe(9_000);
    expect(cacheLifetimeMs(ok, 200, 60, NOW + 3600_000 - 500)).toBeLessThanOrEqual(0);
    expect(cacheLifetimeMs(ok, 200, 0, NOW)).toBe(0);
  });
  it('remembers refusals for the cache setting, but only IAM regular answers', () => {
    const refused = interpretIamAnswer(200, { valid: false }, NOW);
    expect(cacheLifetimeMs(refused, 200, 60, NOW)).toBe(60_000);
    expect(cacheLifetimeMs(refused, 400, 60, NOW)).toBe(0);
  });
});

describe('enforceFlexPolicy', () => {
  const user = (roles: string[], workerSid: string | null = WK): FlexUser => ({
    identity: 'u',
    roles,
    workerSid,
    expiration: '',
  });
  const open = { allowGuests: false, allowedRoles: [] };

  it('lets workers with any role through by default', () => {
    for (const roles of [['agent'], ['supervisor'], ['admin'], [], ['wfo.full_access']]) {
      expect(statusAndCode(() => enforceFlexPolicy(user(roles), open))).toBeUndefined();
    }
  });

  it('refuses guests: role guest, no worker SID, or a worker SID that is not one', () => {
    for (const u of [user(['guest']), user(['agent'], null), user(['agent'], 'WK123'), user(['agent', 'guest'])]) {
      expect(statusAndCode(() => enforceFlexPolicy(u, open))).toEqual([403, 'GUEST_NOT_ALLOWED']);
      expect(statusAndCode(() => enforceFlexPolicy(u, { ...open, allowGuests: true }))).toBeUndefined();
    }
  });

  it('uses the one guest rule that /recent-calls uses too (isAgent)', () => {
    expect(isAgent(user(['agent']))).toBe(true);
    expect(isAgent(user([]))).toBe(true);
    for (const u of [user(['guest']), user(['agent'], null), user(['agent'], 'WK123'), user(['agent', 'guest'])]) {
      expect(isAgent(u)).toBe(false);
    }
  });

  it('applies the role allow-list', () => {
    const policy = { allowGuests: false, allowedRoles: ['supervisor', 'admin'] };
    expect(statusAndCode(() => enforceFlexPolicy(user(['agent']), policy))).toEqual([403, 'ROLE_NOT_ALLOWED']);
    expect(statusAndCode(() => enforceFlexPolicy(user(['agent', 'admin']), policy))).toBeUndefined();
    expect(statusAndCode(() => enforceFlexPolicy(user(['guest'], null), { ...policy, allowGuests: true }))).toEqual([
      403,
      'ROLE_NOT_ALLOWED',
    ]);
  });
});

describe('token shape and key', () => {
  it('accepts opaque tokens of any number of segments (Flex tokens are five-segment JWEs) and refuses what cannot be one', () => {
    expect(looksLikeFlexToken('eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2ln-_')).toBe(true);
    expect(looksLikeFlexToken('eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn')).toBe(true);
    for (const bad of ['', 'a b', 'a\nb', '<x>', 'é', 'x'.repeat(8193)]) expect(looksLikeFlexToken(bad)).toBe(false);
  });

  it('keys the cache by a hash that depends on account and token and does not contain the token', () => {
    const key = flexTokenKey('AC1', 'token-value-123');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain('token-value-123');
    expect(flexTokenKey('AC2', 'token-value-123')).not.toBe(key);
    expect(flexTokenKey('AC1', 'token-value-124')).not.toBe(key);
  });
});

describe('verifyFlexToken', () => {
  /** A fake project client whose server clock runs an hour ahead of this machine (clock skew). */
  function fakeTwilio(answers: Array<{ status: number; body: unknown }>) {
    const serverNow = () => Date.now() + 3600_000;
    const request = jest.fn(async () => {
      const answer = answers.shift()!;
      return { statusCode: answer.status, body: answer.body, headers: {} };
    });
    const project = { client: { request }, http: { serverNow } } as unknown as ProjectTwilioClient;
    return { request, factory: () => project, serverNow };
  }

  it('caches a validation until the token expires by the server clock, whatever the local clock says', async () => {
    let local = 0;
    const cache = new SingleFlightCache<never>({ now: () => local }) as unknown as SingleFlightCache<
      import('../../../src/auth/flex-token').FlexValidation
    >;
    const skewed = fakeTwilio([]);
    const expiration = new Date(skewed.serverNow() + 30_000).toISOString(); // 30 s left by the server's clock
    const twilio = fakeTwilio([
      { status: 200, body: valid({ expiration }) },
      { status: 200, body: { valid: false, code: 20104, message: 'expired' } },
    ]);
    const options = {
      accountSid: 'AC1',
      cacheSeconds: 60,
      policy: { allowGuests: false, allowedRoles: [] },
      twilioClient: twilio.factory,
      cache,
    };
    expect(await verifyFlexToken('tok.en.x', options)).toMatchObject({ user: { identity: 'alice' }, source: 'miss' });
    local += 28_500; // 30 s left by the server clock, less 1 s for the Date header's resolution
    expect(await verifyFlexToken('tok.en.x', options)).toMatchObject({ source: 'hit' });
    local += 600;
    expect(await answeredAsync(verifyFlexToken('tok.en.x', options))).toMatchObject({
      status: 401,
      code: 'FLEX_TOKEN_EXPIRED',
    });
    expect(twilio.request).toHaveBeenCalledTimes(2);
    const [[firstCall]] = twilio.request.mock.calls as unknown as Array<[Record<string, unknown>]>;
    expect(firstCall).toEqual({
      method: 'post',
      uri: 'https://iam.twilio.com/v1/Accounts/AC1/Tokens/validate',
      headers: { 'Content-Type': 'application/json' },
      data: { token: 'tok.en.x' },
    });
  });

  it('refuses a malformed token without making a client', async () => {
    const factory = jest.fn();
    const refused = await answeredAsync(
      verifyFlexToken('not a token', {
        accountSid: 'AC1',
        cacheSeconds: 60,
        policy: { allowGuests: false, allowedRoles: [] },
        twilioClient: factory,
      }),
    );
    expect(refused).toMatchObject({ status: 401, code: 'FLEX_TOKEN_INVALID' });
    expect(refused.error).toMatchObject({ reason: 'malformed' });
    expect(factory).not.toHaveBeenCalled();
  });

  it('applies the policy to cached validations too (settings are read per request)', async () => {
    const cache = new SingleFlightCache<import('../../../src/auth/flex-token').FlexValidation>();
    const twilio = fakeTwilio([
      { status: 200, body: valid({ expiration: new Date(Date.now() + 7200_000).toISOString() }) },
    ]);
    const base = { accountSid: 'AC1', cacheSeconds: 60, twilioClient: twilio.factory, cache };
    await verifyFlexToken('a.b.c', { ...base, policy: { allowGuests: false, allowedRoles: [] } });
    expect(
      await answeredAsync(
        verifyFlexToken('a.b.c', { ...base, policy: { allowGuests: false, allowedRoles: ['admin'] } }),
      ),
    ).toMatchObject({ status: 403, code: 'ROLE_NOT_ALLOWED' });
    expect(twilio.request).toHaveBeenCalledTimes(1);
  });
});
