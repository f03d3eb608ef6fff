/**
 * The Flex token validation cache against the emulator's IAM over HTTP, in this process so that the cache's clock is
 * injected: no sleeping until a token expires, and no latency race to make requests overlap. Twilio's side of time
 * is the emulator's clock (POST /__admin/clock), which IAM and the Date header follow. The end-to-end checks through
 * twilio-run are in sync-token.test.ts.
 */
import twilio from 'twilio';
import { verifyFlexToken, type FlexValidation } from '../../../src/auth/flex-token';
import { SingleFlightCache } from '../../../src/auth/flex-token-cache';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { answeredAsync } from '../../helpers/answered';
import { useEmulator } from '../../helpers/emulator';
import { IAM_ROUTE, workerSid } from './support';

const t = useEmulator();

/** A cache whose clock only moves when the test moves it. */
function fakeClockCache() {
  const clock = { now: 0 };
  return { clock, cache: new SingleFlightCache<FlexValidation>({ now: () => clock.now }) };
}

function verify(token: string, cache: SingleFlightCache<FlexValidation>, cacheSeconds = 60) {
  const { accountSid, authToken } = t.emulator.config;
  return verifyFlexToken(token, {
    accountSid,
    cacheSeconds,
    policy: { allowGuests: false, allowedRoles: [] },
    twilioClient: () => {
      const http = new TwilioHttpClient({ emulatorUrl: t.emulator.url });
      return { http, client: twilio(accountSid, authToken, { httpClient: http }) };
    },
    cache,
  });
}

const iamCalls = async () => (await t.admin.stats()).byRoute[IAM_ROUTE] ?? 0;
const flexToken = async (identity: string, ttlSeconds = 3600) =>
  (await t.admin.flexToken({ identity, roles: ['agent'], workerSid: workerSid(), ttlSeconds })).token;

describe('the validation cache', () => {
  it('never reuses a validation past the Flex token expiry, though the cache setting would keep it longer', async () => {
    const { clock, cache } = fakeClockCache();
    const token = await flexToken('short-lived');
    await t.admin.advanceClock(3600 - 30); // 30 s of the token's life left by Twilio's clock; the cache allows 60 s
    expect(await verify(token, cache)).toMatchObject({ source: 'miss', user: { identity: 'short-lived' } });
    clock.now += 20_000;
    expect((await verify(token, cache)).source).toBe('hit');
    expect(await iamCalls()).toBe(1);
    // 30 s later on both clocks the token has expired: the cached validation is gone, and IAM refuses the token.
    clock.now += 10_000;
    await t.admin.advanceClock(30);
    expect(await answeredAsync(verify(token, cache))).toMatchObject({ status: 401, code: 'FLEX_TOKEN_EXPIRED' });
    expect(await iamCalls()).toBe(2);
  });

  it('keeps a validation for the cache setting when the token lives longer, then asks IAM again', async () => {
    const { clock, cache } = fakeClockCache();
    const token = await flexToken('long-lived');
    expect((await verify(token, cache)).source).toBe('miss');
    clock.now += 59_000;
    expect((await verify(token, cache)).source).toBe('hit');
    clock.now += 1_000;
    expect((await verify(token, cache)).source).toBe('miss');
    expect(await iamCalls()).toBe(2);
  });

  it('concurrent lookups of one token share one IAM call, valid or not', async () => {
    const { cache } = fakeClockCache();
    const token = await flexToken('burst-agent');
    // All eight start before any answer can arrive (an answer needs the event loop, which this loop holds).
    const results = await Promise.all(Array.from({ length: 8 }, () => verify(token, cache)));
    expect(results.map((r) => r.source).sort()).toEqual(['miss', ...Array(7).fill('shared')]);
    expect(results.map((r) => r.user.identity)).toEqual(Array(8).fill('burst-agent'));
    expect(await iamCalls()).toBe(1);

    const unknown = `eyJhbGciOiJIUzI1NiJ9.e30.${'0'.repeat(32)}`;
    const refusals = await Promise.all(Array.from({ length: 6 }, () => answeredAsync(verify(unknown, cache))));
    for (const refusal of refusals) expect(refusal).toMatchObject({ status: 401, code: 'FLEX_TOKEN_INVALID' });
    expect(await iamCalls()).toBe(2);
  });
});
