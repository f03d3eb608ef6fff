/**
 * /sync-token end to end: the built function under twilio-run, IAM and credentials from the emulator, over HTTP.
 * The emulator runs with random credentials so the "no secret anywhere" checks cannot pass by accident.
 */
import jwt from 'jsonwebtoken';
import { startSystem, type System } from '../../helpers/system';
import { call, iamCalls, publicUrl, randomHex, seenBodies, signForm, signJson, workerSid } from './support';

let system: System;
let authToken: string;
let apiSecret: string;
const flexTokens: string[] = [];

beforeAll(async () => {
  system = await startSystem({
    emulator: { authToken: randomHex(16), apiSecret: `secret-${randomHex(16)}` },
  });
  authToken = system.emulator.config.authToken;
  apiSecret = system.emulator.config.apiSecret;
});
afterAll(() => system?.stop());
beforeEach(() => system.admin.reset());

async function flexToken(
  input: { identity?: string; roles?: string[]; workerSid?: string | null; ttlSeconds?: number } = {},
) {
  const { token } = await system.admin.flexToken({
    identity: input.identity ?? 'alice_40example_2Ecom',
    roles: input.roles ?? ['agent'],
    workerSid: input.workerSid === undefined ? workerSid() : input.workerSid,
    ttlSeconds: input.ttlSeconds ?? 3600,
  });
  flexTokens.push(token);
  return token;
}

function verified(token: string) {
  const { config } = system.emulator;
  return jwt.verify(token, apiSecret, {
    algorithms: ['HS256'],
    issuer: config.apiKey,
    subject: config.accountSid,
    complete: true,
  }) as unknown as {
    header: Record<string, unknown>;
    payload: Record<string, unknown> & { iat: number; exp: number; grants: any };
  };
}

const logLines = () =>
  system.functions.output.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe('a Flex agent', () => {
  it('gets a Sync token for its validated identity, signed with the API key, for the configured lifetime', async () => {
    const token = await flexToken();
    const reply = await call(system, { Token: token });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(reply.body).sort()).toEqual(['expiresAt', 'identity', 'serviceSid', 'token', 'ttl']);
    expect(reply.body).toMatchObject({
      identity: 'alice_40example_2Ecom',
      ttl: 14_400,
      serviceSid: system.emulator.config.syncServiceSid,
    });

    const { header, payload } = verified(reply.body.token);
    expect(header).toMatchObject({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
    expect(payload.grants.identity).toBe('alice_40example_2Ecom');
    expect(payload.grants.data_sync).toEqual({ service_sid: system.emulator.config.syncServiceSid });
    expect(Object.keys(payload.grants).sort()).toEqual(['data_sync', 'identity']);
    expect(payload.exp - payload.iat).toBe(14_400);
    expect(payload.jti).toBe(`${system.emulator.config.apiKey}-${payload.iat}`);
    expect(Math.abs(payload.iat * 1000 - Date.now())).toBeLessThan(10_000);
    expect(reply.body.expiresAt).toBe(new Date(payload.exp * 1000).toISOString());
    // And the signature really depends on the API secret.
    expect(() => jwt.verify(reply.body.token, 'not-the-secret', { algorithms: ['HS256'] })).toThrow(
      /invalid signature/,
    );
  });

  it('may send the Flex token in a JSON body and ask for a shorter lifetime', async () => {
    const token = await flexToken({ identity: 'bob' });
    const reply = await call(system, { Token: token, Ttl: 1800 }, { json: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ identity: 'bob', ttl: 1800 });
    const { payload } = verified(reply.body.token);
    expect(payload.exp - payload.iat).toBe(1800);
  });

  it('supervisors and admins with a worker get a token too', async () => {
    for (const roles of [['supervisor'], ['admin', 'agent']]) {
      const reply = await call(system, { Token: await flexToken({ identity: `u-${roles[0]}`, roles }) });
      expect(reply.status).toBe(200);
      expect(reply.body.identity).toBe(`u-${roles[0]}`);
    }
  });
});

describe('refused Flex tokens', () => {
  it('an expired token (by the Twilio server clock) is 401 FLEX_TOKEN_EXPIRED', async () => {
    const past = await flexToken({ ttlSeconds: -10 });
    expect(await call(system, { Token: past })).toMatchObject({ status: 401, body: { code: 'FLEX_TOKEN_EXPIRED' } });

    const soon = await flexToken({ ttlSeconds: 600 });
    await system.admin.advanceClock(601);
    expect(await call(system, { Token: soon })).toMatchObject({ status: 401, body: { code: 'FLEX_TOKEN_EXPIRED' } });
  });

  it('an unknown token is 401 FLEX_TOKEN_INVALID after asking IAM', async () => {
    const reply = await call(system, { Token: 'eyJhbGciOiJIUzI1NiJ9.eyJmb28iOiJiYXIifQ.c2lnbmF0dXJl' });
    expect(reply).toMatchObject({ status: 401, body: { code: 'FLEX_TOKEN_INVALID', status: 401 } });
    expect(typeof reply.body.requestId).toBe('string');
    expect(await iamCalls(system)).toBe(1);
  });

  it('garbage that cannot be a token is 401 FLEX_TOKEN_INVALID without an IAM call', async () => {
    for (const garbage of ['not a token; drop table', 'x'.repeat(9000), '<script>alert(1)</script>', 'é.é.é']) {
      expect(await call(system, { Token: garbage })).toMatchObject({
        status: 401,
        body: { code: 'FLEX_TOKEN_INVALID' },
      });
    }
    expect(await iamCalls(system)).toBe(0);
  });

  it('a Token that is not a string is 400 INVALID_REQUEST', async () => {
    expect(await call(system, { Token: { a: 1 } }, { json: true })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST' },
    });
    expect(await call(system, { Token: 12345 }, { json: true })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST' },
    });
  });

  it('a guest (role guest, or no worker SID) is 403 GUEST_NOT_ALLOWED', async () => {
    const guest = await flexToken({ identity: 'guest-1', roles: ['guest'], workerSid: null });
    expect(await call(system, { Token: guest })).toMatchObject({ status: 403, body: { code: 'GUEST_NOT_ALLOWED' } });
    const noWorker = await flexToken({ identity: 'carol', roles: ['agent'], workerSid: null });
    expect(await call(system, { Token: noWorker })).toMatchObject({ status: 403, body: { code: 'GUEST_NOT_ALLOWED' } });
    const guestWithWorker = await flexToken({ identity: 'dave', roles: ['guest'] });
    expect(await call(system, { Token: guestWithWorker })).toMatchObject({
      status: 403,
      body: { code: 'GUEST_NOT_ALLOWED' },
    });
  });

  it('no credentials at all is 401 CREDENTIALS_MISSING (an empty Token counts as none)', async () => {
    expect(await call(system, {})).toMatchObject({ status: 401, body: { code: 'CREDENTIALS_MISSING' } });
    expect(await call(system, { Token: '' })).toMatchObject({ status: 401, body: { code: 'CREDENTIALS_MISSING' } });
    expect(await call(system, { Identity: 'alice' }, { json: true })).toMatchObject({
      status: 401,
      body: { code: 'CREDENTIALS_MISSING' },
    });
  });
});

describe('signed server requests', () => {
  it('a signed form request gets a token for the Identity it names', async () => {
    const params = { Identity: 'svc-reporting', Ttl: '3600' };
    const signature = signForm(authToken, publicUrl(system), params);
    const reply = await call(system, params, { headers: { 'X-Twilio-Signature': signature } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ identity: 'svc-reporting', ttl: 3600 });
    const { payload } = verified(reply.body.token);
    expect(payload.grants.identity).toBe('svc-reporting');
    expect(payload.exp - payload.iat).toBe(3600);
    expect(await iamCalls(system)).toBe(0);
  });

  it('a signed form request with HMAC-SHA256 (X-Twilio-Webhooks-Signature-Settings) is accepted', async () => {
    const params = { Identity: 'svc-256' };
    const signature = signForm(authToken, publicUrl(system), params, 'HMAC_SHA256');
    const reply = await call(system, params, {
      headers: { 'X-Twilio-Signature': signature, 'X-Twilio-Webhooks-Signature-Settings': 'algorithm=HMAC_SHA256' },
    });
    expect(reply).toMatchObject({ status: 200, body: { identity: 'svc-256', ttl: 14_400 } });
  });

  it('a signed JSON request (bodySHA256) gets a token for its Identity', async () => {
    const bodyText = JSON.stringify({ Identity: 'svc-json', Ttl: 7200 });
    const { query, signature } = signJson(authToken, publicUrl(system), bodyText);
    const reply = await call(system, undefined, {
      rawJson: bodyText,
      query,
      headers: { 'X-Twilio-Signature': signature },
    });
    expect(reply).toMatchObject({ status: 200, body: { identity: 'svc-json', ttl: 7200 } });
  });

  it('each tampering is 401 SIGNATURE_INVALID', async () => {
    const url = publicUrl(system);
    const params = { Identity: 'svc-reporting' };
    const good = signForm(authToken, url, params);
    const refused = async (
      body: Record<string, string>,
      signature: string,
      options: Parameters<typeof call>[2] = {},
    ) => {
      const reply = await call(system, body, {
        ...options,
        headers: { 'X-Twilio-Signature': signature, ...options.headers },
      });
      expect(reply).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } });
    };
    // Sanity: the untampered request passes, so each refusal below is caused by its one change.
    expect((await call(system, params, { headers: { 'X-Twilio-Signature': good } })).status).toBe(200);

    await refused(params, signForm(authToken, url.replace('/sync-token', '/sync-recent-calls'), params)); // another URL
    await refused(params, signForm(authToken, url.replace('http://', 'https://'), params)); // another scheme
    await refused(params, signForm(authToken, `${url}?x=1`, params)); // a query string the request does not have
    await refused({ Identity: 'admin' }, good); // a changed parameter
    await refused({ ...params, Ttl: '1800' }, good); // an added parameter
    await refused(params, good.slice(0, -2) + (good.endsWith('A=') ? 'B=' : 'A=')); // a changed signature
    await refused(params, signForm(randomHex(16), url, params)); // signed with another auth token
    await refused(params, signForm(authToken, url, params, 'HMAC_SHA256')); // SHA-256 signature, SHA-1 announced
  });

  it('JSON tampering (body, hash, formatting) is 401 SIGNATURE_INVALID', async () => {
    const url = publicUrl(system);
    const bodyText = JSON.stringify({ Identity: 'svc-json' });
    const { query, signature } = signJson(authToken, url, bodyText);
    const send = (rawJson: string, q = query, sig = signature) =>
      call(system, undefined, { rawJson, query: q, headers: { 'X-Twilio-Signature': sig } });
    expect((await send(bodyText)).status).toBe(200);

    const other = JSON.stringify({ Identity: 'admin' });
    expect(await send(other)).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } }); // body changed, old hash
    const otherSigned = signJson(authToken, url, other);
    expect(await send(other, otherSigned.query)).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } }); // new hash, old signature
    expect(await send(bodyText, '')).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } }); // no hash
    // The contract is compact JSON (as JSON.stringify writes it): other formatting does not verify.
    const pretty = JSON.stringify({ Identity: 'svc-json' }, null, 2);
    const prettySigned = signJson(authToken, url, pretty);
    expect(await send(pretty, prettySigned.query, prettySigned.signature)).toMatchObject({
      status: 401,
      body: { code: 'SIGNATURE_INVALID' },
    });
  });

  it('a valid signature still needs a sane Identity: 400 IDENTITY_INVALID', async () => {
    const url = publicUrl(system);
    for (const params of [
      {},
      { Identity: '' },
      { Identity: 'x'.repeat(122) },
      { Identity: 'bad\nline' },
      { Identity: ' padded' },
      { Identity: 'ünï' },
    ]) {
      const reply = await call(system, params as Record<string, string>, {
        headers: { 'X-Twilio-Signature': signForm(authToken, url, params as Record<string, string>) },
      });
      expect(reply).toMatchObject({ status: 400, body: { code: 'IDENTITY_INVALID' } });
    }
    const longest = { Identity: 'x'.repeat(121) };
    const ok = await call(system, longest, { headers: { 'X-Twilio-Signature': signForm(authToken, url, longest) } });
    expect(ok).toMatchObject({ status: 200, body: { identity: longest.Identity } });
  });
});

describe('identity spoofing', () => {
  it('an Identity sent next to a Flex token is ignored', async () => {
    const token = await flexToken({ identity: 'alice' });
    const reply = await call(system, { Token: token, Identity: 'supervisor-bob' });
    expect(reply).toMatchObject({ status: 200, body: { identity: 'alice' } });
    expect(verified(reply.body.token).payload.grants.identity).toBe('alice');
  });

  it('a Flex token with Identity and a forged signature still yields the Flex identity', async () => {
    const token = await flexToken({ identity: 'alice' });
    const reply = await call(
      system,
      { Token: token, Identity: 'bob' },
      { headers: { 'X-Twilio-Signature': 'Zm9yZ2Vk' } },
    );
    expect(reply).toMatchObject({ status: 200, body: { identity: 'alice' } });
  });

  it('a bad Flex token is not rescued by a valid signature naming another identity', async () => {
    const params = { Token: 'eyJhbGciOiJIUzI1NiJ9.e30.Zm9v', Identity: 'bob' };
    const reply = await call(system, params, {
      headers: { 'X-Twilio-Signature': signForm(authToken, publicUrl(system), params) },
    });
    expect(reply).toMatchObject({ status: 401, body: { code: 'FLEX_TOKEN_INVALID' } });
  });

  it('an Identity without a signature or a Flex token gets nothing', async () => {
    const reply = await call(system, { Identity: 'alice' }, { headers: { 'X-Twilio-Signature': '' } });
    expect(reply).toMatchObject({ status: 401, body: { code: 'CREDENTIALS_MISSING' } });
  });
});

describe('lifetime', () => {
  it('accepts any whole Ttl from 1800 to the configured 14400', async () => {
    const token = await flexToken();
    for (const ttl of ['1800', '3599', '14400']) {
      const reply = await call(system, { Token: token, Ttl: ttl });
      expect(reply).toMatchObject({ status: 200, body: { ttl: Number(ttl) } });
      const { payload } = verified(reply.body.token);
      expect(payload.exp - payload.iat).toBe(Number(ttl));
    }
  });

  it('refuses a Ttl outside the bounds with 400 TTL_OUT_OF_RANGE, never clamping', async () => {
    const token = await flexToken();
    for (const ttl of ['1799', '0', '14401', '86400']) {
      const reply = await call(system, { Token: token, Ttl: ttl });
      expect(reply).toMatchObject({ status: 400, body: { code: 'TTL_OUT_OF_RANGE' } });
      expect(reply.body.message).toContain('1800 to 14400');
    }
  });

  it('refuses a Ttl that is not a whole number with 400 TTL_INVALID', async () => {
    const token = await flexToken();
    for (const ttl of ['abc', '3600.5', '-3600', '', '1e4', ' 3600']) {
      expect(await call(system, { Token: token, Ttl: ttl })).toMatchObject({
        status: 400,
        body: { code: 'TTL_INVALID' },
      });
    }
    for (const ttl of [3600.5, '3600s', true, [3600]]) {
      expect(await call(system, { Token: token, Ttl: ttl }, { json: true })).toMatchObject({
        status: 400,
        body: { code: 'TTL_INVALID' },
      });
    }
  });
});

describe('HTTP behaviour', () => {
  it('answers the allowed Flex origin with a CORS grant', async () => {
    const reply = await call(system, { Token: await flexToken() }, { headers: { Origin: 'https://flex.twilio.com' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('access-control-allow-origin')).toBe('https://flex.twilio.com');
    expect(reply.headers.get('vary')).toMatch(/Origin/);
  });

  it('refuses another origin with 403 ORIGIN_NOT_ALLOWED, no grant, and no IAM call', async () => {
    const reply = await call(system, { Token: await flexToken() }, { headers: { Origin: 'https://evil.example' } });
    expect(reply).toMatchObject({ status: 403, body: { code: 'ORIGIN_NOT_ALLOWED' } });
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    expect(await iamCalls(system)).toBe(0);
  });

  it('answers the preflight (the runtime does, locally and deployed)', async () => {
    const reply = await call(system, undefined, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://flex.twilio.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(reply.headers.get('access-control-allow-headers')).toMatch(/Content-Type/i);
  });

  it('refuses GET (even with the token in the query string) with 405 METHOD_NOT_ALLOWED', async () => {
    // Not added to the tracked Flex tokens: twilio-run's own access log prints query strings, which is exactly
    // why the token must travel in a POST body and a GET is refused before anything else.
    const { token } = await system.admin.flexToken({ identity: 'alice', workerSid: workerSid() });
    const reply = await call(system, undefined, { query: `Token=${encodeURIComponent(token)}` });
    expect(reply).toMatchObject({ status: 405, body: { code: 'METHOD_NOT_ALLOWED' } });
    expect(reply.headers.get('allow')).toBe('POST, OPTIONS');
    expect(await iamCalls(system)).toBe(0);
    expect((await call(system, undefined)).status).toBe(405);
  });
});

describe('IAM failures', () => {
  it.each([
    ['5xx', { errorRate: 1 }],
    ['429', { throttleRate: 1 }],
    ['dropped connections', { dropRate: 1 }],
  ])(
    'IAM failing with %s after retries is 503 UPSTREAM_UNAVAILABLE with Retry-After, then recovers',
    async (_name, faults) => {
      const token = await flexToken();
      await system.admin.faults({ ...faults, families: ['iam'] });
      const failed = await call(system, { Token: token });
      expect(failed).toMatchObject({ status: 503, body: { code: 'UPSTREAM_UNAVAILABLE' } });
      expect(Number(failed.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(failed.text).not.toMatch(/stack|at .*\.js/);
      expect(await iamCalls(system)).toBeGreaterThan(1); // retried before giving up

      await system.admin.faults({});
      // The failure was not cached: the same token works as soon as IAM answers again.
      expect(await call(system, { Token: token })).toMatchObject({
        status: 200,
        body: { identity: 'alice_40example_2Ecom' },
      });
    },
  );

  it('transient IAM errors are absorbed by the retries', async () => {
    await system.admin.faults({ errorRate: 0.5, families: ['iam'] });
    let ok = 0;
    for (let i = 0; i < 10; i++)
      if ((await call(system, { Token: await flexToken({ identity: `t${i}` }) })).status === 200) ok++;
    await system.admin.faults({});
    // Each request fails only if all 6 attempts fail (1/64); without retries about half would.
    expect(ok).toBeGreaterThanOrEqual(8);
    expect((await system.admin.stats()).faults.errors).toBeGreaterThan(0);
  });
});

describe('validation cache', () => {
  it('the same Flex token twice costs one IAM call', async () => {
    const token = await flexToken({ identity: 'cached-agent' });
    expect((await call(system, { Token: token })).status).toBe(200);
    expect((await call(system, { Token: token, Ttl: '1800' })).status).toBe(200);
    expect(await iamCalls(system)).toBe(1);
    const issued = logLines().filter((l) => l.msg === 'sync token issued' && l.identity === 'cached-agent');
    expect(issued.map((l) => l.validation)).toEqual(['miss', 'hit']);
  });

  // Whether a request joins the IAM call in flight ("shared") or comes after its answer ("hit") depends on timing, so
  // only the timing-free facts are asserted here; flex-validation-cache.test.ts checks the sharing itself, in process.
  it('concurrent requests with one token cost one IAM call', async () => {
    const token = await flexToken({ identity: 'burst-agent' });
    await system.admin.faults({ latencyMs: 300, families: ['iam'] }); // makes overlap likely; nothing below needs it
    const replies = await Promise.all(Array.from({ length: 8 }, () => call(system, { Token: token })));
    for (const reply of replies) expect(reply).toMatchObject({ status: 200, body: { identity: 'burst-agent' } });
    expect(await iamCalls(system)).toBe(1);
    const sources = logLines()
      .filter((l) => l.msg === 'sync token issued' && l.identity === 'burst-agent')
      .map((l) => l.validation);
    expect(sources.filter((s) => s === 'miss')).toHaveLength(1);
    expect(sources.filter((s) => s === 'shared' || s === 'hit')).toHaveLength(7);
  });

  it('concurrent requests with one unknown token cost one IAM call too', async () => {
    await system.admin.faults({ latencyMs: 300, families: ['iam'] }); // makes overlap likely; nothing below needs it
    const token = `eyJhbGciOiJIUzI1NiJ9.e30.${randomHex(16)}`;
    const replies = await Promise.all(Array.from({ length: 6 }, () => call(system, { Token: token })));
    for (const reply of replies) expect(reply).toMatchObject({ status: 401, body: { code: 'FLEX_TOKEN_INVALID' } });
    expect(await iamCalls(system)).toBe(1);
  });

  it('different tokens are validated separately', async () => {
    const a = await flexToken({ identity: 'a' });
    const b = await flexToken({ identity: 'b' });
    expect((await call(system, { Token: a })).body.identity).toBe('a');
    expect((await call(system, { Token: b })).body.identity).toBe('b');
    expect(await iamCalls(system)).toBe(2);
  });
});

describe('secrets', () => {
  it('no auth token, API secret, Flex token or issued token appears in any response body or log line', async () => {
    // This test makes its own traffic through every kind of answer, so it holds whether or not other tests ran first;
    // it then also scans whatever the rest of this file produced.
    const agent = await flexToken({ identity: 'secret-check' });
    const guest = await flexToken({ identity: 'secret-guest', workerSid: null });
    const signed = { Identity: 'svc-secret-check' };
    const replies = [
      await call(system, { Token: agent }), // issued, IAM asked
      await call(system, { Token: agent, Ttl: '1800' }), // issued, validation reused
      await call(system, signed, { headers: { 'X-Twilio-Signature': signForm(authToken, publicUrl(system), signed) } }),
      await call(system, { Token: guest }), // refused: guest
      await call(system, { Token: agent }, { headers: { Origin: 'https://evil.example' } }), // refused: origin
      await call(system, signed, { headers: { 'X-Twilio-Signature': signForm(apiSecret, publicUrl(system), signed) } }),
    ];
    await system.admin.faults({ errorRate: 1, families: ['iam'] });
    const upstreamToken = await flexToken({ identity: 'secret-upstream' });
    replies.push(await call(system, { Token: upstreamToken })); // IAM failing: 503
    await system.admin.faults({});
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 403, 403, 401, 503]);
    const issuedHere = replies.flatMap((r) => (typeof r.body?.token === 'string' ? [r.body.token as string] : []));
    expect(issuedHere).toHaveLength(3);

    const output = system.functions.output.join('\n');
    expect(output).toContain('"msg":"sync token issued"'); // the function's log lines are captured
    expect(output).toContain('secret-check'); // ...including this test's requests
    const bodies = [...replies.map((r) => r.text), ...seenBodies].join('\n');
    const issuedTokens = seenBodies.flatMap((text) => {
      const token = (JSON.parse(text.startsWith('{') ? text : '{}') as { token?: unknown }).token;
      return typeof token === 'string' ? [token] : [];
    });
    for (const secret of [authToken, apiSecret, agent, guest, upstreamToken, ...flexTokens]) {
      expect(output).not.toContain(secret);
      expect(bodies).not.toContain(secret);
    }
    for (const issued of new Set([...issuedHere, ...issuedTokens])) expect(output).not.toContain(issued);
  });
});
