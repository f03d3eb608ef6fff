/** The retrying HTTP layer against the emulator's injected faults (real sockets, real SDK). */
import { createServer } from 'node:http';
import twilio from 'twilio';
import { useEmulator } from '../../helpers/emulator';
import { createTwilioClient, emulatorUrl } from '../../../src/twilio/client-factory';
import { Deadline } from '../../../src/twilio/deadline';
import { estimatedServerNow, TwilioHttpClient } from '../../../src/twilio/http-client';
import { resetWarmState } from '../../../src/runtime/warm-state';

const t = useEmulator();
// Each test starts as a cold instance: no server clock learnt, no pooled connections.
beforeEach(resetWarmState);

function client(options: ConstructorParameters<typeof TwilioHttpClient>[0] = {}) {
  const http = new TwilioHttpClient({ emulatorUrl: t.emulator.url, ...options });
  return { http, client: twilio(t.emulator.config.accountSid, t.emulator.config.authToken, { httpClient: http }) };
}
const fastPolicy = { attempts: 8, baseDelayMs: 1, maxDelayMs: 5 };

describe('TwilioHttpClient', () => {
  it('routes Twilio hosts to the emulator and records the server clock from the Date header', async () => {
    const { http, client: c } = client();
    await t.admin.advanceClock(86_400);
    const service = await c.sync.v1.services(t.emulator.config.syncServiceSid).fetch();
    expect(service.url).toContain(t.emulator.url);
    // The Date header has second precision; the emulator is a day ahead of this process.
    expect(http.serverNow() - Date.now()).toBeGreaterThan(86_400_000 - 2000);
  });

  it('keeps what it learnt of the server clock for the next client of a warm instance, until the warm state is reset', async () => {
    await t.admin.advanceClock(86_400);
    await client().client.sync.v1.services(t.emulator.config.syncServiceSid).fetch();
    expect(estimatedServerNow(t.emulator.url) - Date.now()).toBeGreaterThan(86_400_000 - 2000);
    expect(new TwilioHttpClient({ emulatorUrl: t.emulator.url }).serverNow() - Date.now()).toBeGreaterThan(
      86_400_000 - 2000,
    );
    resetWarmState();
    expect(Math.abs(estimatedServerNow(t.emulator.url) - Date.now())).toBeLessThan(1000);
    expect(Math.abs(new TwilioHttpClient({ emulatorUrl: t.emulator.url }).serverNow() - Date.now())).toBeLessThan(1000);
  });

  it("converges on the server's clock from second-precision Date headers, and follows it back", async () => {
    // A server whose clock is TRUE_OFFSET ahead of the client's monotonic clock, printing it floored to the second.
    const TRUE_OFFSET = 1_795_000_000_450;
    let local = 0;
    let serverOffset = TRUE_OFFSET;
    const server = createServer((_req, res) => {
      const date = new Date(Math.floor((local + serverOffset) / 1000) * 1000).toUTCString();
      res.writeHead(200, { 'Content-Type': 'application/json', Date: date });
      res.end(JSON.stringify({ sid: t.emulator.config.syncServiceSid }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const http = new TwilioHttpClient({ emulatorUrl: `http://127.0.0.1:${port}`, monotonicNow: () => local });
    const c = twilio(t.emulator.config.accountSid, t.emulator.config.authToken, { httpClient: http });
    const fetchService = () => c.sync.v1.services(t.emulator.config.syncServiceSid).fetch();
    try {
      await fetchService();
      const first = http.serverNow() - (local + TRUE_OFFSET);
      expect(first).toBeLessThanOrEqual(0); // a lower bound, never ahead
      // Answers spread over two seconds, 130 ms apart: the estimate closes in on the true clock.
      for (local = 130; local <= 2000; local += 130) await fetchService();
      const error = http.serverNow() - (local + TRUE_OFFSET);
      expect(error).toBeLessThanOrEqual(0);
      expect(error).toBeGreaterThan(-130);
      // The server's clock is set back an hour: the next answer moves the estimate back.
      serverOffset = TRUE_OFFSET - 3_600_000;
      await fetchService();
      expect(Math.abs(http.serverNow() - (local + serverOffset))).toBeLessThan(1000);
    } finally {
      server.close();
    }
  });

  it('retries injected 5xx and 429 answers until one succeeds, and counts them', async () => {
    await t.admin.faults({ errorRate: 0.3, throttleRate: 0.3 });
    const { http, client: c } = client({ policy: { ...fastPolicy, attempts: 30 } });
    for (let i = 0; i < 20; i++) await c.sync.v1.services(t.emulator.config.syncServiceSid).fetch();
    expect(http.metrics.retries).toBeGreaterThan(0);
    expect(http.metrics.retries).toBe(http.metrics.throttled + http.metrics.serverErrors);
    expect(http.metrics.requests).toBe(20 + http.metrics.retries);
  });

  it('retries dropped connections (network errors)', async () => {
    await t.admin.faults({ dropRate: 0.5 });
    const { http, client: c } = client({ policy: { ...fastPolicy, attempts: 30 } });
    for (let i = 0; i < 10; i++) await c.sync.v1.services(t.emulator.config.syncServiceSid).fetch();
    expect(http.metrics.networkErrors).toBeGreaterThan(0);
  });

  it('gives up after policy.attempts and surfaces the real status and code', async () => {
    await t.admin.faults({ throttleRate: 1 });
    const { http, client: c } = client({ policy: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    await expect(c.sync.v1.services(t.emulator.config.syncServiceSid).fetch()).rejects.toMatchObject({
      status: 429,
      code: 54009,
    });
    expect(http.metrics.requests).toBe(3);
  });

  it('never sleeps past the deadline', async () => {
    await t.admin.faults({ errorRate: 1 });
    const sleeps: number[] = [];
    const { client: c } = client({
      deadline: new Deadline(300),
      policy: { attempts: 100, baseDelayMs: 50, maxDelayMs: 200 },
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
    const started = performance.now();
    await expect(c.sync.v1.services(t.emulator.config.syncServiceSid).fetch()).rejects.toMatchObject({
      status: expect.any(Number),
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(300);
  });

  it('honours Retry-After as the least delay', async () => {
    const sleeps: number[] = [];
    // A tiny server that throttles once with Retry-After: 1, then answers.
    let calls = 0;
    const server = createServer((_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: 20429, message: 'Too Many Requests', status: 429 }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ sid: t.emulator.config.syncServiceSid }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const http = new TwilioHttpClient({
      emulatorUrl: `http://127.0.0.1:${port}`,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const c = twilio(t.emulator.config.accountSid, t.emulator.config.authToken, { httpClient: http });
    await c.sync.v1.services(t.emulator.config.syncServiceSid).fetch();
    server.close();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1000);
  });
});

describe('connection pool', () => {
  /** Fires `count` requests at a server that holds every one; returns how many reached it at once. */
  async function peakInFlight(count: number, maxSockets?: number): Promise<{ reached: number; queued: number }> {
    const held: Array<() => void> = [];
    let holding = true;
    const server = createServer((_req, res) => {
      const answer = () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      };
      if (holding) held.push(answer);
      else answer();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const http = new TwilioHttpClient({ emulatorUrl: `http://127.0.0.1:${port}`, maxSockets });
    const agent = http.agents.http;
    const requests = Array.from({ length: count }, () =>
      http.request({ method: 'get', uri: 'https://sync.twilio.com/v1/Services' }),
    );
    const expected = Math.min(count, maxSockets ?? 20);
    for (let i = 0; i < 200 && held.length < expected; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const reached = held.length;
    const queued = Object.values(agent.requests).reduce((sum, list) => sum + (list?.length ?? 0), 0);
    // Release everything; requests that waited in the pool's queue are answered as they arrive.
    holding = false;
    while (held.length > 0) held.shift()!();
    const responses = await Promise.all(requests.map((request) => request.then((r) => r.statusCode)));
    expect(responses.every((status) => status === 200)).toBe(true);
    server.closeAllConnections();
    server.close();
    return { reached, queued };
  }

  it("caps requests in flight at the SDK's 20 sockets per host unless told otherwise", async () => {
    expect(await peakInFlight(30)).toEqual({ reached: 20, queued: 10 });
  });

  it('lets a caller keep as many requests in flight as it asks for (the job asks for SYNC_WRITE_CONCURRENCY)', async () => {
    expect(await peakInFlight(40, 32)).toEqual({ reached: 32, queued: 8 });
  });

  it('gives the https agent the same size (production) and keeps idle sockets for the next burst', () => {
    const httpsAgent = new TwilioHttpClient({ maxSockets: 32 }).agents.https;
    expect(httpsAgent.maxSockets).toBe(32);
    expect(httpsAgent.maxFreeSockets).toBe(32);
    // A warm instance's next invocation reuses the same pool (and its open connections).
    expect(new TwilioHttpClient({ maxSockets: 32 }).agents.https).toBe(httpsAgent);
    // A reset (a cold start) closes the pools: the next client gets a new one.
    resetWarmState();
    expect(new TwilioHttpClient({ maxSockets: 32 }).agents.https).not.toBe(httpsAgent);
  });

  it('keeps a named pool apart: shards in one local process each get the sockets of their own instance', async () => {
    const agentOf = (pool?: string) => new TwilioHttpClient({ maxSockets: 32, pool }).agents.http;
    expect(agentOf('0-of-2')).toBe(agentOf('0-of-2'));
    expect(agentOf('0-of-2')).not.toBe(agentOf('1-of-2'));
    expect(agentOf('0-of-2')).not.toBe(agentOf());
    expect(agentOf('1-of-2').maxSockets).toBe(32);
  });
});

describe('client factory', () => {
  const context = (extra: Record<string, string> = {}) => ({
    ACCOUNT_SID: t.emulator.config.accountSid,
    getTwilioClient: (opts?: Record<string, unknown>) =>
      twilio(t.emulator.config.accountSid, t.emulator.config.authToken, opts),
    ...extra,
  });

  it('uses the emulator only when TWILIO_EMULATOR_URL is set', async () => {
    const { http } = createTwilioClient(context());
    expect((http as unknown as { emulatorUrl?: string }).emulatorUrl).toBeUndefined();
    const routed = createTwilioClient(context({ TWILIO_EMULATOR_URL: t.emulator.url }));
    const service = await routed.client.sync.v1.services(t.emulator.config.syncServiceSid).fetch();
    expect(service.sid).toBe(t.emulator.config.syncServiceSid);
  });

  it('refuses an emulator URL that is not loopback', () => {
    expect(emulatorUrl({ TWILIO_EMULATOR_URL: 'http://127.0.0.1:3001' })).toBe('http://127.0.0.1:3001');
    expect(() => emulatorUrl({ TWILIO_EMULATOR_URL: 'https://evil.example.com' })).toThrow(/TWILIO_EMULATOR_URL/);
    expect(() => emulatorUrl({ TWILIO_EMULATOR_URL: 'http://10.0.0.1:3001' })).toThrow(/loopback/);
  });

  it('fails loudly when the runtime ignores the httpClient option', () => {
    const ignoring = { getTwilioClient: () => twilio(t.emulator.config.accountSid, t.emulator.config.authToken) };
    expect(() => createTwilioClient(ignoring)).toThrow(/httpClient/);
  });
});
