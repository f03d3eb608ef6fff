/**
 * getToken(): caching for less than the lifetime, single-flight, refusals and retries. Fetch, storage and the clock
 * are injected fakes (see fakes.ts for why); one test also runs the default global fetch against a loopback server.
 */
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CLIENT_ERROR_CODES,
  SyncTokenError,
  createSyncTokenProvider,
  memoryStorage,
  type SyncTokenErrorContext,
  type SyncTokenProviderOptions,
} from '../../../src/client';
import {
  ENDPOINT,
  FLEX_TOKEN,
  FakeClock,
  FakeStorage,
  FakeTokenEndpoint,
  deferred,
  json,
  recordingSleep,
  refusal,
} from './fakes';

const KEY = `flex-sync-token:${ENDPOINT}`; // the default key names the endpoint

function setup(overrides: Partial<SyncTokenProviderOptions> = {}) {
  const clock = new FakeClock();
  const server = new FakeTokenEndpoint(clock);
  const storage = new FakeStorage();
  const { sleep, delays } = recordingSleep(clock);
  const errors: Array<{ error: SyncTokenError; context: SyncTokenErrorContext }> = [];
  let flexToken = FLEX_TOKEN;
  const options: SyncTokenProviderOptions = {
    endpoint: ENDPOINT,
    getFlexToken: () => flexToken,
    storage,
    fetch: server.fetch,
    now: clock.now,
    sleep,
    random: () => 0,
    onError: (error, context) => errors.push({ error, context }),
    ...overrides,
  };
  const provider = createSyncTokenProvider(options);
  return {
    clock,
    server,
    storage,
    delays,
    errors,
    options,
    provider,
    setFlexToken: (value: string) => {
      flexToken = value;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<SyncTokenError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SyncTokenError);
    return error as SyncTokenError;
  }
  throw new Error('expected a rejection');
}

describe('getToken: fetching and caching', () => {
  it('fetches a token with the Flex token as a JSON body and returns the server answer', async () => {
    const { provider, server, clock } = setup();
    const result = await provider.getToken();
    expect(result).toEqual({
      token: 'sync-token-1',
      identity: 'alice_40example_2Ecom',
      ttl: 3600,
      expiresAt: new Date(clock.t + 3600_000).toISOString(),
      serviceSid: expect.stringMatching(/^IS/),
    });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request.url).toBe(ENDPOINT);
    expect(request.init.method).toBe('POST');
    expect(request.init.headers).toMatchObject({ 'Content-Type': 'application/json' });
    expect(request.init.credentials).toBe('omit');
    expect(request.init.cache).toBe('no-store');
    expect(request.body).toEqual({ Token: FLEX_TOKEN });
  });

  it('asks for the configured lifetime as Ttl', async () => {
    const { provider, server } = setup({ ttlSeconds: 7200 });
    await provider.getToken();
    expect(server.requests[0].body).toEqual({ Token: FLEX_TOKEN, Ttl: 7200 });
  });

  it('keeps the token in storage, but never the Flex token', async () => {
    const { provider, storage } = setup();
    await provider.getToken();
    const stored = storage.values.get(KEY);
    expect(stored).toContain('sync-token-1');
    expect(stored).not.toContain(FLEX_TOKEN);
    expect(stored).not.toContain('flex-signature');
  });

  it('serves the cached token until the refresh margin (default 10 % of the lifetime, at least 300 s)', async () => {
    const { provider, server, clock } = setup();
    await provider.getToken(); // ttl 3600: margin 360 s
    clock.advance((3600 - 360) * 1000 - 1);
    expect((await provider.getToken()).token).toBe('sync-token-1');
    expect(server.requests).toHaveLength(1);
    clock.advance(1); // exactly expiresAt - margin: stale
    expect((await provider.getToken()).token).toBe('sync-token-2');
    expect(server.requests).toHaveLength(2);
  });

  it('uses at least 300 s of margin for short lifetimes', async () => {
    const { provider, server, clock } = setup();
    server.ttl = 1800; // 10 % would be 180 s, less than the SDK's 3-minute tokenAboutToExpire warning
    await provider.getToken();
    clock.advance((1800 - 300) * 1000 - 1);
    await provider.getToken();
    expect(server.requests).toHaveLength(1);
    clock.advance(1);
    await provider.getToken();
    expect(server.requests).toHaveLength(2);
  });

  it('honours an explicit refreshMarginSeconds, capped at half the lifetime', async () => {
    const explicit = setup({ refreshMarginSeconds: 60 });
    await explicit.provider.getToken();
    explicit.clock.advance((3600 - 60) * 1000 - 1);
    await explicit.provider.getToken();
    expect(explicit.server.requests).toHaveLength(1);
    explicit.clock.advance(1);
    await explicit.provider.getToken();
    expect(explicit.server.requests).toHaveLength(2);

    const huge = setup({ refreshMarginSeconds: 10 * 3600 });
    const first = await huge.provider.getToken(); // usable: the margin is capped at 1800 s
    huge.clock.advance(1800 * 1000 - 1);
    expect((await huge.provider.getToken()).token).toBe(first.token);
    huge.clock.advance(1);
    expect((await huge.provider.getToken()).token).not.toBe(first.token);
  });

  it('never hands out an expired token', async () => {
    const { provider, server, clock } = setup();
    await provider.getToken();
    clock.advance(3600 * 1000 + 1);
    expect((await provider.getToken()).token).toBe('sync-token-2');
    expect(server.requests).toHaveLength(2);
  });

  it('shares the cached token with a later provider on the same storage (a page reload)', async () => {
    const first = setup();
    await first.provider.getToken();
    const reloaded = createSyncTokenProvider({ ...first.options, fetch: () => Promise.reject(new Error('no fetch')) });
    first.clock.advance(60_000);
    expect((await reloaded.getToken()).token).toBe('sync-token-1');
  });

  it('refetches when the clock has gone back before the token was fetched', async () => {
    const { provider, server, clock } = setup();
    await provider.getToken();
    clock.advance(-60_000);
    await provider.getToken();
    expect(server.requests).toHaveLength(2);
  });

  it('measures freshness by the browser clock and ttl, so a skewed browser clock neither breaks nor stretches it', async () => {
    const { provider, server, clock } = setup();
    server.serverNow = () => clock.t - 2 * 3600_000; // browser 2 h ahead: expiresAt is in the browser's past
    expect((await provider.getToken()).token).toBe('sync-token-1');
    clock.advance(60_000);
    expect((await provider.getToken()).token).toBe('sync-token-1');
    expect(server.requests).toHaveLength(1);

    server.serverNow = () => clock.t + 5 * 3600_000; // browser 5 h behind: expiresAt looks far away
    clock.advance(3600_000); // but ttl says the first token is gone
    expect((await provider.getToken()).token).toBe('sync-token-2');
  });
});

describe('getToken: what it finds in storage', () => {
  const corrupt: Array<[string, (valid: Record<string, unknown>) => string]> = [
    ['not JSON', () => '{"v":1,'],
    ['JSON null', () => 'null'],
    ['a string', () => JSON.stringify('sync-token-0')],
    ['another format version', (v) => JSON.stringify({ ...v, v: 2 })],
    ['no token', (v) => JSON.stringify({ ...v, result: { ...(v.result as object), token: '' } })],
    ['a ttl that is not a number', (v) => JSON.stringify({ ...v, result: { ...(v.result as object), ttl: '3600' } })],
    [
      'an expiry stretched by hand',
      (v) => JSON.stringify({ ...v, expiresAtMs: (v.expiresAtMs as number) + 86_400_000 }),
    ],
    ['another endpoint', (v) => JSON.stringify({ ...v, endpoint: 'https://other-1234.twil.io/sync-token' })],
    ['another Flex session', (v) => JSON.stringify({ ...v, user: 'someone-else' })],
  ];

  it.each(corrupt)('ignores and replaces an entry with %s', async (_name, spoil) => {
    const { provider, server, storage } = setup();
    await provider.getToken();
    const valid = JSON.parse(storage.values.get(KEY)!);
    storage.values.set(KEY, spoil(valid));
    const result = await provider.getToken();
    expect(result.token).toBe('sync-token-2');
    expect(server.requests).toHaveLength(2);
    expect(JSON.parse(storage.values.get(KEY)!).result.token).toBe('sync-token-2');
  });

  it('does not hand a token fetched for one Flex login to the next login in the tab', async () => {
    const { provider, server, setFlexToken } = setup();
    await provider.getToken();
    setFlexToken('eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJUSzIifQ.flex-signature-b');
    server.identity = 'bob_40example_2Ecom';
    const result = await provider.getToken();
    expect(result.identity).toBe('bob_40example_2Ecom');
    expect(server.requests[1].body.Token).toContain('flex-signature-b');
  });

  it('works without usable storage (reads and writes refused)', async () => {
    const { provider, server, storage } = setup();
    storage.refuseReads = true;
    storage.refuseWrites = true;
    expect((await provider.getToken()).token).toBe('sync-token-1');
    expect((await provider.getToken()).token).toBe('sync-token-2');
    expect(server.requests).toHaveLength(2);
  });

  it('falls back to memory when no storage is given and sessionStorage does not exist (Node)', async () => {
    const { options, server } = setup();
    const provider = createSyncTokenProvider({ ...options, storage: undefined });
    await provider.getToken();
    await provider.getToken();
    expect(server.requests).toHaveLength(1);
  });

  it('clear() forgets the token; a request in flight during clear() does not refill the cache', async () => {
    const { provider, server, storage } = setup();
    await provider.getToken();
    provider.clear();
    expect(storage.values.has(KEY)).toBe(false);

    const gate = deferred<Response>();
    server.plan(() => gate.promise);
    const inFlight = provider.getToken();
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.requests).toHaveLength(2); // sent, not answered
    provider.clear();
    gate.resolve(server.success());
    expect((await inFlight).token).toBe('sync-token-2');
    expect(storage.values.has(KEY)).toBe(false);
    await provider.getToken();
    expect(server.requests).toHaveLength(3);
  });

  it('a clear() right after getToken() (before its request is sent) keeps the answer out of the cache too', async () => {
    const { provider, storage } = setup({ getFlexToken: async () => FLEX_TOKEN }); // an async Flex token: more turns
    const pending = provider.getToken();
    provider.clear(); // a logout in the same tick
    expect((await pending).token).toBe('sync-token-1');
    expect(storage.values.size).toBe(0);
  });

  it('two providers of different endpoints in one storage keep one entry each', async () => {
    const { options, server, storage } = setup();
    const first = createSyncTokenProvider(options);
    const second = createSyncTokenProvider({ ...options, endpoint: `${ENDPOINT}-other` });
    for (let i = 0; i < 3; i++) {
      await first.getToken();
      await second.getToken();
    }
    expect(server.requests).toHaveLength(2); // one each; each later call was served from its own entry
    expect(storage.values.size).toBe(2);
  });
});

describe('getToken: concurrency', () => {
  it('lets concurrent callers share one request', async () => {
    const { provider, server } = setup();
    const gate = deferred<Response>();
    server.plan(() => gate.promise);
    const callers = [provider.getToken(), provider.getToken(), provider.getToken()];
    await new Promise((resolve) => setImmediate(resolve));
    gate.resolve(server.success());
    const results = await Promise.all(callers);
    expect(server.requests).toHaveLength(1);
    expect(new Set(results.map((r) => r.token))).toEqual(new Set(['sync-token-1']));
  });

  it('concurrent callers share the retries too: one backoff, one report per failure', async () => {
    const { provider, server, delays, errors } = setup();
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE'));
    const results = await Promise.all([provider.getToken(), provider.getToken(), provider.getToken()]);
    expect(results.map((r) => r.token)).toEqual(['sync-token-1', 'sync-token-1', 'sync-token-1']);
    expect(server.requests).toHaveLength(2);
    expect(delays).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('shares a failure too, and the next call starts afresh', async () => {
    const { provider, server } = setup({ retry: { attempts: 1 } });
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE'));
    const [a, b] = await Promise.allSettled([provider.getToken(), provider.getToken()]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    expect(server.requests).toHaveLength(1);
    expect((await provider.getToken()).token).toBe('sync-token-1');
  });
});

describe('getToken: refusals', () => {
  it.each([
    [401, 'FLEX_TOKEN_EXPIRED'],
    [401, 'FLEX_TOKEN_INVALID'],
    [403, 'GUEST_NOT_ALLOWED'],
    [403, 'ORIGIN_NOT_ALLOWED'],
  ])('%d %s: rejects with a typed error, clears the cache, does not retry', async (status, code) => {
    const { provider, server, storage, clock, errors } = setup();
    await provider.getToken();
    clock.advance(3600_000);
    server.plan(refusal(status, code));
    const error = await rejection(provider.getToken());
    expect(error).toMatchObject({ code, status, retryable: false, requestId: 'RQ-test', name: 'SyncTokenError' });
    expect(server.requests).toHaveLength(2);
    expect(storage.values.has(KEY)).toBe(false);
    expect(errors.map((e) => e.context)).toEqual([{ source: 'getToken', attempt: 1, willRetry: false }]);
  });

  it.each([
    [500, 'CONFIG_INVALID'],
    [400, 'TTL_OUT_OF_RANGE'],
    [405, 'METHOD_NOT_ALLOWED'],
  ])('%d %s is not retried', async (status, code) => {
    const { provider, server } = setup();
    server.plan(refusal(status, code));
    expect(await rejection(provider.getToken())).toMatchObject({ code, status, retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('a 200 that is not a token is an INVALID_RESPONSE, not retried', async () => {
    const { provider, server } = setup();
    server.plan(json(200, { token: 'x' }));
    expect(await rejection(provider.getToken())).toMatchObject({
      code: CLIENT_ERROR_CODES.INVALID_RESPONSE,
      retryable: false,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('a Flex token that cannot be read is FLEX_TOKEN_UNAVAILABLE, and nothing is sent', async () => {
    for (const getFlexToken of [
      () => '',
      () => Promise.reject(new Error('logged out')),
      () => undefined as unknown as string,
    ]) {
      const { provider, server } = setup({ getFlexToken });
      expect(await rejection(provider.getToken())).toMatchObject({ code: 'FLEX_TOKEN_UNAVAILABLE', retryable: false });
      expect(server.requests).toHaveLength(0);
    }
  });
});

describe('getToken: retries', () => {
  it('retries 5xx and network errors with growing backoff, then succeeds', async () => {
    const { provider, server, delays, errors } = setup();
    server.plan(refusal(502, 'UPSTREAM_UNAVAILABLE'), refusal(500, 'INTERNAL'), new TypeError('Failed to fetch'));
    expect((await provider.getToken()).token).toBe('sync-token-1');
    expect(server.requests).toHaveLength(4);
    // random() = 0: half of each ceiling 500, 1000, 2000
    expect(delays).toEqual([250, 500, 1000]);
    expect(errors.map((e) => [e.error.code, e.context.willRetry])).toEqual([
      ['UPSTREAM_UNAVAILABLE', true],
      ['INTERNAL', true],
      ['NETWORK_ERROR', true],
    ]);
  });

  it('retries a body it cannot read on a 5xx (a proxy page) and 429', async () => {
    const { provider, server } = setup();
    server.plan(new Response('<html>Bad gateway</html>', { status: 502 }), refusal(429, 'TOO_MANY_REQUESTS'));
    expect((await provider.getToken()).token).toBe('sync-token-1');
    expect(server.requests).toHaveLength(3);
  });

  it('waits at least Retry-After (seconds or an HTTP date)', async () => {
    const { provider, server, delays, clock } = setup();
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE', { 'Retry-After': '7' }), () =>
      refusal(503, 'UPSTREAM_UNAVAILABLE', { 'Retry-After': new Date(clock.t + 12_000).toUTCString() }),
    );
    await provider.getToken();
    expect(delays).toEqual([7000, 12_000]);
  });

  it('gives up at once, retryable, when Retry-After is longer than it would ever wait', async () => {
    const { provider, server } = setup({ retry: { maxDelayMs: 10_000 } });
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE', { 'Retry-After': '120' }));
    expect(await rejection(provider.getToken())).toMatchObject({ retryable: true, retryAfterMs: 120_000 });
    expect(server.requests).toHaveLength(1);
  });

  it('gives up after the configured attempts with the last, retryable error', async () => {
    const { provider, server, errors, delays } = setup({ retry: { attempts: 3 } });
    server.plan(...Array.from({ length: 5 }, () => () => refusal(503, 'UPSTREAM_UNAVAILABLE')));
    const error = await rejection(provider.getToken());
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503, retryable: true });
    expect(server.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(errors.map((e) => e.context.willRetry)).toEqual([true, true, false]);
  });

  it('times out a request that hangs (retryable)', async () => {
    const { provider, server } = setup({ requestTimeoutMs: 20, retry: { attempts: 2 } });
    const hang = () =>
      new Promise<Response>((_resolve, reject) => {
        const { signal } = server.requests[server.requests.length - 1].init;
        signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    server.plan(hang, hang);
    expect(await rejection(provider.getToken())).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(server.requests).toHaveLength(2);
  });

  it('keeps going when onError throws', async () => {
    const { provider, server } = setup({
      onError: () => {
        throw new Error('bad callback');
      },
    });
    server.plan(refusal(503, 'UPSTREAM_UNAVAILABLE'));
    expect((await provider.getToken()).token).toBe('sync-token-1');
  });
});

describe('getToken: never stale (property)', () => {
  it('every token it returns is outside its refresh margin, and it fetches only when the last one is not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 60, max: 86_400 }), // ttl
        fc.option(fc.integer({ min: 0, max: 7200 }), { nil: undefined }), // refreshMarginSeconds
        fc.array(fc.integer({ min: -120_000, max: 4 * 3600_000 }), { minLength: 1, maxLength: 25 }), // clock moves
        async (ttl, refreshMarginSeconds, moves) => {
          const { provider, server, clock } = setup({ refreshMarginSeconds, storage: memoryStorage() });
          server.ttl = ttl;
          const margin = Math.min(refreshMarginSeconds ?? Math.max(300, ttl * 0.1), ttl / 2) * 1000;
          let model: { fetchedAt: number; staleAt: number } | undefined;
          for (const move of moves) {
            clock.advance(move);
            const expectFetch = !model || clock.t < model.fetchedAt || clock.t >= model.staleAt;
            const before = server.requests.length;
            const result = await provider.getToken();
            expect(server.requests.length - before).toBe(expectFetch ? 1 : 0);
            if (expectFetch) model = { fetchedAt: clock.t, staleAt: clock.t + ttl * 1000 - margin };
            expect(Date.parse(result.expiresAt) - margin).toBeGreaterThan(clock.t);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('getToken with the real fetch', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ method?: string; type?: string; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method, type: req.headers['content-type'], body });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(
          JSON.stringify({
            token: 'real-fetch-token',
            identity: 'alice',
            ttl: 3600,
            expiresAt: new Date(Date.now() + 3600_000).toISOString(),
            serviceSid: 'IS00000000000000000000000000000001',
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sync-token`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts JSON through the global fetch when none is injected', async () => {
    const provider = createSyncTokenProvider({ endpoint: url, getFlexToken: () => FLEX_TOKEN });
    expect((await provider.getToken()).token).toBe('real-fetch-token');
    expect(seen).toEqual([{ method: 'POST', type: 'application/json', body: JSON.stringify({ Token: FLEX_TOKEN }) }]);
  });
});

describe('options', () => {
  it.each<[string, Partial<SyncTokenProviderOptions>]>([
    ['no endpoint', { endpoint: '' }],
    ['no getFlexToken', { getFlexToken: undefined as unknown as () => string }],
    ['a negative margin', { refreshMarginSeconds: -1 }],
    ['a fractional Ttl', { ttlSeconds: 1800.5 }],
    ['zero attempts', { retry: { attempts: 0 } }],
    ['a cap below the base delay', { refreshRetry: { baseDelayMs: 1000, maxDelayMs: 10 } }],
    ['a zero timeout', { requestTimeoutMs: 0 }],
  ])('refuses %s', (_name, bad) => {
    expect(() => createSyncTokenProvider({ endpoint: ENDPOINT, getFlexToken: () => FLEX_TOKEN, ...bad })).toThrow(
      TypeError,
    );
  });
});
