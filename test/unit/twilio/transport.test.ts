/**
 * The transport under the SDK: the bytes it puts on the wire are the ones the SDK's own RequestClient (axios) puts
 * there, for the same SDK calls; it reads compressed, truncated and stalled answers, and speaks TLS. Real sockets to
 * local servers throughout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import twilio, { type Twilio } from 'twilio';
import { ProxyCertificateAuthority } from '../../../emulator/proxy/ca';
import { resetWarmState } from '../../../src/runtime/warm-state';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { isRetryableNetworkError } from '../../../src/twilio/retry-policy';
import qs from 'qs';
import { formEncoded, pooledAgent, sendSdkRequest, type SdkRequest } from '../../../src/twilio/transport';

type RequestOptions<T> = import('twilio/lib/base/RequestClient').RequestOptions<T>;

const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
const AUTH_TOKEN = 'b'.repeat(32);
const SERVICE_SID = `IS${'c'.repeat(32)}`;
const WORKSPACE_SID = `WS${'d'.repeat(32)}`;

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A server that records every request and answers an empty page (GET) or an empty object. */
async function recordingServer(): Promise<{ seen: Seen[]; url: string; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.method === 'GET' ? '{"meta":{"key":"items","next_page_url":null},"items":[]}' : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** The SDK's own RequestClient (axios), pointed at a local server. */
class SdkOwnClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super();
  }
  override request<T>(opts: RequestOptions<T>) {
    return super.request<T>({ ...opts, uri: opts.uri.replace(/^https:\/\/[^/]+/, this.base) });
  }
}

/** The headers both clients must agree on (every header the SDK or axios sets). */
const COMPARED_HEADERS = [
  'accept-encoding',
  'authorization',
  'content-type',
  'content-length',
  'accept',
  'accept-charset',
  'user-agent',
  'connection',
];
const comparable = (s: Seen) => ({
  method: s.method,
  url: s.url,
  body: s.body,
  headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, s.headers[name]])),
});

describe('wire parity with the SDK’s own RequestClient', () => {
  let recorder: Awaited<ReturnType<typeof recordingServer>>;
  beforeAll(async () => {
    recorder = await recordingServer();
  });
  afterAll(() => {
    recorder.server.closeAllConnections();
    recorder.server.close();
  });
  beforeEach(resetWarmState);

  /** Runs `call` through both clients and returns what each sent. */
  async function bothWays(call: (client: Twilio) => Promise<unknown>): Promise<[Seen, Seen]> {
    const sent: Seen[] = [];
    for (const httpClient of [
      new SdkOwnClient(recorder.url),
      new TwilioHttpClient({ emulatorUrl: recorder.url, policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } }),
    ]) {
      const before = recorder.seen.length;
      await call(twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient })).catch(() => undefined);
      expect(recorder.seen.length).toBe(before + 1);
      sent.push(recorder.seen[before]);
    }
    return [sent[0], sent[1]];
  }

  const calls: Array<[string, (client: Twilio) => Promise<unknown>]> = [
    [
      'a Sync map item with nested data and characters that need escaping',
      (c) =>
        c.sync.v1
          .services(SERVICE_SID)
          .syncMaps('recent-calls-WK1')
          .syncMapItems.create({
            key: 'CA1 + 2&3=4%',
            data: { from: '+1 (555) 010-0000', name: 'Zoë & Łukasz', tags: ['a', 'b'], nested: { n: 1.5, ok: true } },
            itemTtl: 2_592_000,
          }),
    ],
    [
      'a TaskRouter events page with dates and filters',
      (c) =>
        c.taskrouter.v1.workspaces(WORKSPACE_SID).events.page({
          eventType: 'reservation.completed',
          taskChannel: 'voice',
          startDate: new Date('2026-11-01T10:00:00.123Z'),
          endDate: new Date('2026-11-02T00:00:00Z'),
          pageSize: 1000,
        }),
    ],
    [
      'repeated parameters (an array)',
      (c) => c.notify.v1.services(SERVICE_SID).notifications.create({ toBinding: ['{"a":1}', 'x y'], body: 'hi' }),
    ],
    [
      'a delete (no body; axios’s default Accept)',
      (c) => c.sync.v1.services(SERVICE_SID).syncMaps('m').syncMapItems('k').remove(),
    ],
    [
      'a JSON body',
      (c) =>
        c.content.v1.contents.create({
          friendlyName: 'greeting',
          language: 'en',
          types: { 'twilio/text': { body: 'Hello {{1}} ✓' } },
        } as never),
    ],
  ];

  it.each(calls)('%s', async (_name, call) => {
    const [sdk, ours] = await bothWays(call);
    expect(comparable(ours)).toEqual(comparable(sdk));
  });

  it('encodes any item data and key the way the SDK does (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
        fc.option(fc.integer({ min: 0, max: 31_536_000 }), { nil: undefined }),
        async (key, data, itemTtl) => {
          const [sdk, ours] = await bothWays((c) =>
            c.sync.v1.services(SERVICE_SID).syncMaps('m').syncMapItems.create({ key, data, itemTtl }),
          );
          expect(comparable(ours)).toEqual(comparable(sdk));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('form encoding', () => {
  const special = fc.constantFrom(
    '!',
    "'",
    '(',
    ')',
    '*',
    '~',
    '-',
    '.',
    '_',
    ' ',
    '%',
    '+',
    '&',
    '=',
    '[',
    'a',
    'é',
    '😀',
  );
  const scalar = fc.oneof(
    fc.string({ unit: special, maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 12 }), // lone surrogates included: encodeURIComponent refuses them
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
  );
  const value = fc.oneof(
    scalar,
    fc.constant(null),
    fc.constant(undefined),
    fc.array(scalar, { maxLength: 4 }),
    fc.array(fc.oneof(scalar, fc.constant(null)), { maxLength: 3 }),
    fc.sparseArray(scalar, { maxLength: 4 }),
    fc.tuple(fc.array(scalar, { maxLength: 2 }), scalar).map(([list, extra]) => Object.assign(list, { extra })),
    fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 2 }),
    fc.date({ noInvalidDate: true }),
  );

  it("gives qs's bytes (the SDK's encoder, arrayFormat 'repeat') for any fields (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.string({ unit: special, maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 10 })),
          value,
          { maxKeys: 6 },
        ),
        (params) => {
          expect(formEncoded(params)).toBe(qs.stringify(params, { arrayFormat: 'repeat' }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("encodes the characters encodeURIComponent leaves alone and RFC 3986 reserves (!'()*)", () => {
    expect(formEncoded({ "a!'()*": "b!'()*~-._" })).toBe('a%21%27%28%29%2A=b%21%27%28%29%2A~-._');
  });
});

describe('answers', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });
  beforeEach(resetWarmState);

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/Services`;
  }
  const agents = () => ({ http: pooledAgent('http', 4), https: pooledAgent('https', 4) });
  const get = (uri: string, timeoutMs = 2000) =>
    sendSdkRequest({ method: 'get', uri, headers: { Accept: 'application/json' } }, agents(), timeoutMs);

  it.each([
    ['gzip', 'gzip', gzipSync],
    ['x-gzip', 'x-gzip', gzipSync],
    ['deflate', 'deflate', deflateSync],
    ['raw deflate (no zlib header, which axios accepts too)', 'deflate', deflateRawSync],
    ['br', 'br', brotliCompressSync],
  ] as const)('decodes a %s body and drops the Content-Encoding, as axios does', async (_name, encoding, compress) => {
    const json = JSON.stringify({ sid: SERVICE_SID, friendly_name: 'Zoë ✓'.repeat(50) });
    const uri = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': encoding });
      res.end(compress(Buffer.from(json)));
    });
    const answer = await get(uri);
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual(JSON.parse(json));
    expect(answer.headers['content-encoding']).toBeUndefined();
  });

  it('resolves every status with its body and headers (the SDK turns errors into RestException)', async () => {
    const uri = await serve((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json', 'Twilio-Request-Id': 'RQ1' });
      res.end('{"code":20404,"message":"not found","status":404}');
    });
    const answer = await get(uri);
    expect(answer).toMatchObject({ statusCode: 404, body: { code: 20404, status: 404 } });
    expect(answer.headers['twilio-request-id']).toBe('RQ1');
  });

  it.each([
    ['JSON', 'application/json', '{"sid":"IS1","n":[1,2]}'],
    ['text that is not JSON', 'text/plain', 'Service Unavailable'],
    ['an empty body', 'application/json', ''],
  ])('hands on %s as the SDK’s own client does (client.request() callers see no change)', async (_name, type, text) => {
    const uri = await serve((_req, res) => {
      res.writeHead(503, { 'Content-Type': type });
      res.end(text);
    });
    const base = uri.replace(/\/v1\/Services$/, '');
    const sdk = await new SdkOwnClient(base).request({ method: 'get', uri: 'https://sync.twilio.com/v1/Services' });
    const ours = await get(uri);
    expect({ statusCode: ours.statusCode, body: ours.body }).toEqual({ statusCode: sdk.statusCode, body: sdk.body });
  });

  it('does not follow a redirect', async () => {
    const uri = await serve((_req, res) => {
      res.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    });
    expect((await get(uri)).statusCode).toBe(302);
  });

  it('rejects a stalled answer with a retryable ETIMEDOUT after the timeout', async () => {
    const uri = await serve(() => undefined); // never answers
    const started = performance.now();
    const error = await get(uri, 150).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
    expect(isRetryableNetworkError(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('lets a big answer that keeps arriving take longer than the timeout; an answer that stalls mid-way times out', async () => {
    const text = JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ i, pad: 'x'.repeat(100) })) });
    const slowBody = (stallAfter?: number) =>
      serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
        let sent = 0;
        const step = 200;
        const tick = setInterval(() => {
          if (stallAfter !== undefined && sent >= stallAfter) return clearInterval(tick); // no more bytes
          res.write(text.slice(sent, sent + step));
          sent += step;
          if (sent >= text.length) {
            clearInterval(tick);
            res.end();
          }
        }, 20); // about 23 chunks: 460 ms in all, never 100 ms without a byte
      });
    const steady = await get(await slowBody(), 100);
    expect(steady.body).toEqual(JSON.parse(text));
    const stalled = await get(await slowBody(1000), 100).catch((e: unknown) => e);
    expect(stalled).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('rejects a body cut off mid-way with a retryable network error', async () => {
    const uri = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"sid":"IS');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const error = await get(uri).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: expect.any(String) });
    expect(isRetryableNetworkError(error)).toBe(true);
  });

  it('sends Basic credentials, or what an auth strategy gives', async () => {
    const seen: Array<string | undefined> = [];
    const uri = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.end('{}');
    });
    const base: SdkRequest = { method: 'get', uri, headers: {} };
    await sendSdkRequest({ ...base, username: ACCOUNT_SID, password: AUTH_TOKEN }, agents(), 2000);
    await sendSdkRequest({ ...base, authStrategy: { getAuthString: async () => 'Bearer t0k' } }, agents(), 2000);
    expect(seen).toEqual([`Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`, 'Bearer t0k']);
  });
});

describe('https', () => {
  beforeEach(resetWarmState);
  afterEach(() => {
    delete process.env.TWILIO_CA_BUNDLE;
    resetWarmState();
  });

  it('speaks TLS to a Twilio host name, trusting only the roots it is given', async () => {
    const ca = await ProxyCertificateAuthority.create();
    const server = createHttpsServer(await ca.certificateFor('sync.twilio.com'), (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`{"sid":"${SERVICE_SID}"}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // Resolve sync.twilio.com to the local server; the certificate is still checked for that name.
    const lookup = ((_host: string, _options: unknown, callback: (e: null, a: unknown[]) => void) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }])) as never;
    const request = (agent: HttpsAgent) =>
      sendSdkRequest(
        { method: 'get', uri: `https://sync.twilio.com:${port}/v1/Services/${SERVICE_SID}` },
        { http: pooledAgent('http', 1), https: agent },
        2000,
      );
    try {
      const trusted = await request(new HttpsAgent({ ca: ca.certPem, lookup }));
      expect(trusted.body).toEqual({ sid: SERVICE_SID });
      await expect(request(new HttpsAgent({ lookup }))).rejects.toMatchObject({
        code: expect.stringMatching(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/),
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('gives the https pools the roots of TWILIO_CA_BUNDLE, as the SDK does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-bundle-'));
    try {
      const file = join(dir, 'roots.pem');
      writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      process.env.TWILIO_CA_BUNDLE = file;
      const agent = pooledAgent('https', 3, 'ca-test');
      expect(String(agent.options.ca)).toContain('BEGIN CERTIFICATE');
      delete process.env.TWILIO_CA_BUNDLE;
      resetWarmState();
      expect(pooledAgent('https', 3, 'ca-test').options.ca).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
