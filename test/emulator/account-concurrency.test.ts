/**
 * The account-wide concurrency limit: over it Twilio answers 429 with code 20429 "Too Many Requests"
 * (https://www.twilio.com/docs/api/errors/20429), and the project's HTTP layer backs off and gets through.
 */
import twilio from 'twilio';
import { TwilioHttpClient } from '../../src/twilio/http-client';
import { rejection, useEmulator } from '../helpers/emulator';

const t = useEmulator();
afterEach(() => t.admin.setLimits({ accountConcurrency: 0 }));

const fetchService = (client: twilio.Twilio) => client.sync.v1.services(t.emulator.config.syncServiceSid).fetch();

describe('account-wide concurrency limit', () => {
  it('is off by default', async () => {
    expect((await t.admin.config()).accountConcurrency).toBe(0);
  });

  it('answers 429 / 20429 to requests beyond the limit while the others are in flight', async () => {
    await t.admin.setLimits({ accountConcurrency: 2 });
    // Each request is held 1.5 s, so all six arrive while the first two are still being served.
    await t.admin.faults({ latencyMs: 1500 });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetchService(t.client).then(
          () => 'ok',
          (error) => rejection(Promise.reject(error)),
        ),
      ),
    );
    const refused = outcomes.filter((o) => o !== 'ok') as Array<{ status: number; code: number }>;
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(2);
    expect(refused).toHaveLength(4);
    for (const error of refused) expect(error).toMatchObject({ status: 429, code: 20429 });
    expect((await t.admin.stats()).concurrencyLimited).toBe(4);
  });

  it('does not count admin requests, and frees its slots when requests end', async () => {
    await t.admin.setLimits({ accountConcurrency: 1 });
    for (let i = 0; i < 3; i++) await fetchService(t.client); // one at a time: never over the limit
    expect((await t.admin.stats()).concurrencyLimited).toBe(0);
  });

  it("the project's HTTP layer retries 20429 and every request gets through, none lost", async () => {
    await t.admin.setLimits({ accountConcurrency: 3 });
    await t.admin.faults({ latencyMs: 30 });
    const http = new TwilioHttpClient({
      emulatorUrl: t.emulator.url,
      policy: { attempts: 50, baseDelayMs: 5, maxDelayMs: 60 },
    });
    const client = twilio(t.emulator.config.accountSid, t.emulator.config.authToken, { httpClient: http });
    const results = await Promise.all(Array.from({ length: 12 }, () => fetchService(client)));
    expect(results.map((service) => service.sid)).toEqual(Array(12).fill(t.emulator.config.syncServiceSid));
    expect(http.metrics.throttled).toBeGreaterThan(0);
    expect(http.metrics.throttled).toBe((await t.admin.stats()).concurrencyLimited);
  });
});
