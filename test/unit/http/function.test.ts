/**
 * The function wrapper with the runtime's own Response class (the global Functions provide). The HTTP-level
 * behaviour is covered again through twilio-run by each function's integration tests.
 */
import { join } from 'node:path';
import { FlexTokenRejected } from '../../../src/auth/errors';
import { ConfigError } from '../../../src/config/errors';
import { HttpError } from '../../../src/http/errors';
import {
  defineFunction,
  type FunctionContext,
  type FunctionEvent,
  type FunctionSpec,
} from '../../../src/http/function';
import { MAX_PARAMS_DEPTH, MAX_PARAMS_VALUES } from '../../../src/http/params-shape';
import { Deadline, FUNCTION_TIME_LIMIT_MS, ROOT_MARGIN_MS } from '../../../src/twilio/deadline';

// The package's exports map hides its internals, so load the runtime's Response class by path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Response } = require(
  join(__dirname, '../../../node_modules/@twilio/runtime-handler/dist/dev-runtime/internal/response.js'),
);
(globalThis as unknown as { Twilio: unknown }).Twilio = { Response };

type Answer = { statusCode: number; body: Record<string, unknown>; headers: Record<string, string> };

async function call(spec: Partial<FunctionSpec>, event: Record<string, unknown>, env: Record<string, string> = {}) {
  const handler = defineFunction({
    name: 'test',
    methods: ['POST'],
    cors: true,
    handle: async () => ({ body: { ok: true } }),
    ...spec,
  });
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  const answer = await new Promise<Answer>((resolve, reject) => {
    // What the runtime hands a function: its own fields and the environment's variables, plus getTwilioClient.
    // The package's Context type (those fields & a string index signature) has no literal form, hence the cast.
    const context = {
      getTwilioClient: () => undefined as never,
      DOMAIN_NAME: 'localhost:3000',
      PATH: '/test',
      ...env,
    } as unknown as FunctionContext;
    void handler(context, event as FunctionEvent, (error, response) =>
      error ? reject(error) : resolve(response as unknown as Answer),
    );
  });
  log.mockRestore();
  return { answer, lines };
}

const post = (headers: Record<string, string> = {}, params: Record<string, unknown> = {}) => ({
  request: { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, cookies: {} },
  ...params,
});

describe('defineFunction', () => {
  it('answers JSON with no-store and a request id, passing params without the runtime request entry', async () => {
    let seen: Record<string, unknown> = {};
    const { answer } = await call(
      { handle: async (r) => ((seen = r.params), { body: { ok: true } }) },
      post({}, { A: '1' }),
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ ok: true });
    expect(answer.headers['Cache-Control']).toBe('no-store');
    expect(answer.headers['X-Request-Id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen).toEqual({ A: '1' });
  });

  it("hands the function the invocation's deadline: the platform's limit minus the margin, one per request", async () => {
    const seen: Deadline[] = [];
    const handle = async (r: { deadline: Deadline }) => (seen.push(r.deadline), { body: { ok: true } });
    await call({ handle }, post());
    await call({ handle }, post());
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    const remaining = seen[1].remainingMs();
    expect(remaining).toBeLessThanOrEqual(FUNCTION_TIME_LIMIT_MS - ROOT_MARGIN_MS);
    expect(remaining).toBeGreaterThan(0);
    expect(seen[1].child(60_000).endsAt).toBe(seen[1].endsAt);
  });

  it("answers with its own request id: a client's X-Request-Id is logged next to it as clientRequestId", async () => {
    const { answer, lines } = await call({}, post({ 'x-request-id': 'client-chosen-1' }));
    const own = answer.headers['X-Request-Id'];
    expect(own).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      expect.arrayContaining([expect.objectContaining({ requestId: own, clientRequestId: 'client-chosen-1' })]),
    );
    const unsafe = await call({}, post({ 'x-request-id': 'bad id with spaces' }));
    expect(unsafe.lines.map((line) => JSON.parse(line)).every((l) => l.clientRequestId === undefined)).toBe(true);
  });

  it('refuses a request without a body (a GET) with 405 and Allow', async () => {
    const { answer } = await call({}, { request: { headers: {} } });
    expect(answer.statusCode).toBe(405);
    expect(answer.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED', status: 405 });
    expect(answer.headers.Allow).toBe('POST, OPTIONS');
  });

  it('grants CORS to allowed origins only and refuses others outright', async () => {
    const allowed = await call({}, post({ origin: 'https://flex.twilio.com' }));
    expect(allowed.answer.headers['Access-Control-Allow-Origin']).toBe('https://flex.twilio.com');
    expect(allowed.answer.headers['Access-Control-Expose-Headers']).toBe('Retry-After, X-Request-Id');
    expect(allowed.answer.headers['Access-Control-Allow-Methods']).toBe('POST, OPTIONS');
    const denied = await call({}, post({ origin: 'https://evil.example' }));
    expect(denied.answer.statusCode).toBe(403);
    expect(denied.answer.body.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(denied.answer.headers['Access-Control-Allow-Origin']).toBeUndefined();
    const configured = await call({}, post({ origin: 'http://localhost:3000' }), {
      ALLOWED_ORIGINS: 'http://localhost:3000',
    });
    expect(configured.answer.headers['Access-Control-Allow-Origin']).toBe('http://localhost:3000');
  });

  it('maps domain errors, ConfigError, upstream failures and unknown errors to the one JSON shape', async () => {
    const failWith = (error: unknown) => call({ handle: async () => Promise.reject(error) }, post());
    const domain = await failWith(new FlexTokenRejected('invalid', 'nope'));
    expect(domain.answer.statusCode).toBe(401);
    expect(domain.answer.body).toEqual({
      code: 'FLEX_TOKEN_INVALID',
      message: 'nope',
      status: 401,
      requestId: expect.any(String),
    });
    const edge = await failWith(new HttpError('METHOD_NOT_ALLOWED', 'no', { Allow: 'POST, OPTIONS' }));
    expect(edge.answer.statusCode).toBe(405);
    expect(edge.answer.headers.Allow).toBe('POST, OPTIONS');

    const config = await failWith(new ConfigError('SYNC_TOKEN_TTL', 'must be from 1800 to 86400, got 60'));
    expect(config.answer.statusCode).toBe(500);
    expect(config.answer.body.code).toBe('CONFIG_INVALID');
    expect(config.answer.body.message).toContain('SYNC_TOKEN_TTL');

    const upstream = await failWith(Object.assign(new Error('Too many'), { status: 429, code: 54009 }));
    expect(upstream.answer.statusCode).toBe(503);
    expect(upstream.answer.headers['Retry-After']).toBeDefined();

    const bug = await failWith(new TypeError('secret stack detail'));
    expect(bug.answer.statusCode).toBe(500);
    expect(JSON.stringify(bug.answer.body)).not.toContain('secret stack detail');
  });

  it('never logs the auth token, the API secret or a secret the handler registers', async () => {
    const authToken = 'a'.repeat(32);
    const apiSecret = 'S3cretS3cretS3cret';
    const flexToken = 'eyJflex.token.value';
    const { lines } = await call(
      {
        handle: async (r) => {
          r.addSecret(flexToken);
          r.log.info('echo', { text: `${authToken} ${apiSecret} ${flexToken}`, token: 'anything' });
          throw new Error(`failed with ${flexToken}`);
        },
      },
      post(),
      { AUTH_TOKEN: authToken, API_SECRET: apiSecret },
    );
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const secret of [authToken, apiSecret, flexToken]) expect(all).not.toContain(secret);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ requestId: expect.any(String), fn: 'test' });
  });
  it('redacts a secret added later from the logger (and its children) taken before it was added', async () => {
    const secret = 'late-secret-0123456789';
    const { lines } = await call(
      {
        handle: async ({ log, addSecret }) => {
          const child = log.child({ part: 'child' });
          addSecret(secret);
          log.info('early logger', { text: secret });
          child.info('early child', { text: secret });
          return { body: { ok: true } };
        },
      },
      post(),
    );
    expect(lines.filter((line) => line.includes('early')).length).toBe(2);
    expect(lines.join('\n')).not.toContain(secret);
  });
  it('refuses a body nested deeper than MAX_PARAMS_DEPTH (or holding too many values) with 400, before the function runs', async () => {
    const nest = (depth: number) => {
      let value: unknown = 'x';
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    };
    let ran = 0;
    const handle = async () => ((ran += 1), { body: { ok: true } });
    for (const params of [
      { a: nest(5000) },
      { a: nest(MAX_PARAMS_DEPTH + 1) },
      { a: Array.from({ length: MAX_PARAMS_VALUES }, () => 1) },
    ]) {
      const { answer } = await call({ handle }, post({}, params));
      expect(answer.statusCode).toBe(400);
      expect(answer.body).toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
    }
    expect(ran).toBe(0);
    expect((await call({ handle }, post({}, { a: nest(MAX_PARAMS_DEPTH - 1) }))).answer.statusCode).toBe(200);
    expect(ran).toBe(1);
  });
});
