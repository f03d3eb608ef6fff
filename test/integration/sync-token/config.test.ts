/**
 * /sync-token under non-default settings: a shorter configured lifetime, a role allow-list, a short validation
 * cache, other CORS origins, guests allowed, and misconfigurations reported as CONFIG_INVALID at the first request.
 */
import jwt from 'jsonwebtoken';
import { startSystem, type System } from '../../helpers/system';
import { call, iamCalls, randomHex, sleep, workerSid } from './support';

async function flexToken(
  system: System,
  input: { identity?: string; roles?: string[]; workerSid?: string | null } = {},
) {
  const { token } = await system.admin.flexToken({
    identity: input.identity ?? 'alice',
    roles: input.roles ?? ['agent'],
    workerSid: input.workerSid === undefined ? workerSid() : input.workerSid,
    ttlSeconds: 3600,
  });
  return token;
}

describe('configured: SYNC_TOKEN_TTL=3600, roles supervisor/admin, 1 s cache, local origin', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem({
      env: {
        SYNC_TOKEN_TTL: '3600',
        SYNC_TOKEN_ALLOWED_ROLES: 'supervisor, admin',
        FLEX_VALIDATION_CACHE_SECONDS: '1',
        ALLOWED_ORIGINS: 'http://localhost:3000',
      },
    });
  });
  afterAll(() => system?.stop());
  beforeEach(() => system.admin.reset());

  it('issues tokens for the configured lifetime and refuses a longer Ttl', async () => {
    const token = await flexToken(system, { roles: ['supervisor'] });
    const reply = await call(system, { Token: token });
    expect(reply).toMatchObject({ status: 200, body: { ttl: 3600, identity: 'alice' } });
    const payload = jwt.verify(reply.body.token, system.emulator.config.apiSecret) as { exp: number; iat: number };
    expect(payload.exp - payload.iat).toBe(3600);

    expect(await call(system, { Token: token, Ttl: '3601' })).toMatchObject({
      status: 400,
      body: { code: 'TTL_OUT_OF_RANGE' },
    });
    expect(await call(system, { Token: token, Ttl: '1800' })).toMatchObject({ status: 200, body: { ttl: 1800 } });
  });

  it('refuses a Flex user with none of the allowed roles: 403 ROLE_NOT_ALLOWED', async () => {
    expect(await call(system, { Token: await flexToken(system, { roles: ['agent'] }) })).toMatchObject({
      status: 403,
      body: { code: 'ROLE_NOT_ALLOWED' },
    });
    expect((await call(system, { Token: await flexToken(system, { roles: ['agent', 'admin'] }) })).status).toBe(200);
  });

  it('the role policy does not apply to signed requests (the signer holds the auth token)', async () => {
    const { getExpectedTwilioSignature } = await import('twilio');
    const params = { Identity: 'svc' };
    const url = `http://localhost:${system.functions.port}/sync-token`;
    const signature = getExpectedTwilioSignature(system.emulator.config.authToken, url, params);
    expect(await call(system, params, { headers: { 'X-Twilio-Signature': signature } })).toMatchObject({
      status: 200,
      body: { identity: 'svc', ttl: 3600 },
    });
  });

  it('reuses a validation for at most FLEX_VALIDATION_CACHE_SECONDS', async () => {
    const token = await flexToken(system, { roles: ['supervisor'] });
    expect((await call(system, { Token: token })).status).toBe(200);
    expect((await call(system, { Token: token })).status).toBe(200);
    expect(await iamCalls(system)).toBe(1);
    await sleep(1200);
    expect((await call(system, { Token: token })).status).toBe(200);
    expect(await iamCalls(system)).toBe(2);
  });

  it('grants CORS to ALLOWED_ORIGINS only: the default Flex origin is now refused', async () => {
    const token = await flexToken(system, { roles: ['admin'] });
    const local = await call(system, { Token: token }, { headers: { Origin: 'http://localhost:3000' } });
    expect(local.status).toBe(200);
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const flex = await call(system, { Token: token }, { headers: { Origin: 'https://flex.twilio.com' } });
    expect(flex).toMatchObject({ status: 403, body: { code: 'ORIGIN_NOT_ALLOWED' } });
    expect(flex.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('configured: guests allowed, validation cache off', () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem({ env: { SYNC_TOKEN_ALLOW_GUESTS: 'true', FLEX_VALIDATION_CACHE_SECONDS: '0' } });
  });
  afterAll(() => system?.stop());
  beforeEach(() => system.admin.reset());

  it('a guest gets a token when SYNC_TOKEN_ALLOW_GUESTS is true', async () => {
    const guest = await flexToken(system, { identity: 'guest-1', roles: ['guest'], workerSid: null });
    expect(await call(system, { Token: guest })).toMatchObject({ status: 200, body: { identity: 'guest-1' } });
  });

  it('with the cache off every request asks IAM, but concurrent ones still share one call', async () => {
    const token = await flexToken(system);
    expect((await call(system, { Token: token })).status).toBe(200);
    expect((await call(system, { Token: token })).status).toBe(200);
    expect(await iamCalls(system)).toBe(2);
    await system.admin.faults({ latencyMs: 2000, families: ['iam'] }); // wide enough for every request to arrive on a loaded machine
    const replies = await Promise.all(Array.from({ length: 5 }, () => call(system, { Token: token })));
    for (const reply of replies) expect(reply.status).toBe(200);
    expect(await iamCalls(system)).toBe(3);
  });
});

describe('misconfiguration is a clear 500 CONFIG_INVALID at the first request, never clamped', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['SYNC_TOKEN_TTL below 1800', { SYNC_TOKEN_TTL: '60' }, /SYNC_TOKEN_TTL must be from 1800 to 86400, got 60/],
    ['SYNC_TOKEN_TTL above 24 h', { SYNC_TOKEN_TTL: '86401' }, /SYNC_TOKEN_TTL must be from 1800 to 86400, got 86401/],
    ['SYNC_TOKEN_TTL not a number', { SYNC_TOKEN_TTL: '4h' }, /SYNC_TOKEN_TTL must be a whole number/],
    [
      'FLEX_VALIDATION_CACHE_SECONDS negative',
      { FLEX_VALIDATION_CACHE_SECONDS: '-1' },
      /FLEX_VALIDATION_CACHE_SECONDS/,
    ],
    [
      'SYNC_TOKEN_ALLOW_GUESTS not a boolean',
      { SYNC_TOKEN_ALLOW_GUESTS: 'maybe' },
      /SYNC_TOKEN_ALLOW_GUESTS must be true or false/,
    ],
    ['API_KEY missing', { API_KEY: '' }, /API_KEY is not set/],
    ['SYNC_SERVICE_SID malformed', { SYNC_SERVICE_SID: 'default' }, /SYNC_SERVICE_SID must be a Sync service SID/],
  ];
  const systems: System[] = [];
  afterAll(() => Promise.all(systems.map((s) => s.stop())));

  it.each(cases)('%s', async (_name, env, message) => {
    const system = await startSystem({ env });
    systems.push(system);
    const token = await flexToken(system);
    const reply = await call(system, { Token: token });
    expect(reply).toMatchObject({ status: 500, body: { code: 'CONFIG_INVALID' } });
    expect(reply.body.message).toMatch(message);
    expect(reply.text).not.toContain(system.emulator.config.authToken);
    expect(reply.text).not.toContain(system.emulator.config.apiSecret);
    // Reported before any work: no IAM call, and the same answer to a caller without credentials.
    expect(await iamCalls(system)).toBe(0);
    expect(await call(system, {})).toMatchObject({ status: 500, body: { code: 'CONFIG_INVALID' } });
    expect(system.functions.output.join('\n')).toMatch(/"level":"error".*"code":"CONFIG_INVALID"/);
  });

  it('credentials IAM refuses (a wrong AUTH_TOKEN) are CONFIG_INVALID naming AUTH_TOKEN, not a refused caller', async () => {
    const wrong = randomHex(16);
    const system = await startSystem({ env: { AUTH_TOKEN: wrong } });
    systems.push(system);
    const reply = await call(system, { Token: await flexToken(system) });
    expect(reply).toMatchObject({ status: 500, body: { code: 'CONFIG_INVALID' } });
    expect(reply.body.message).toMatch(/AUTH_TOKEN was refused by Twilio IAM/);
    expect(reply.text).not.toContain(wrong);
    expect(system.functions.output.join('\n')).not.toContain(wrong);
    expect(await iamCalls(system)).toBe(1); // not retried: a 401 will not get better
  });
});

describe('a Sync service without ACLs (every token could read and write every map)', () => {
  const systems: System[] = [];
  afterAll(() => Promise.all(systems.map((s) => s.stop())));
  const serviceFetches = async (system: System) =>
    (await system.admin.stats()).byRoute['GET /v1/Services/:ServiceSid'] ?? 0;

  it('issues no token: 500 CONFIG_INVALID naming SYNC_SERVICE_SID and the way out', async () => {
    const system = await startSystem();
    systems.push(system);
    await system.twilio.sync.v1.services(system.emulator.config.syncServiceSid).update({ aclEnabled: false });
    const token = await flexToken(system);
    const reply = await call(system, { Token: token });
    expect(reply).toMatchObject({ status: 500, body: { code: 'CONFIG_INVALID' } });
    expect(reply.body.message).toMatch(/SYNC_SERVICE_SID has ACLs disabled.*SYNC_TOKEN_ALLOW_ACL_DISABLED/);
    expect(reply.text).not.toMatch(/"token"/);
    // An unauthenticated caller learns nothing and costs no Sync lookup.
    const before = await serviceFetches(system);
    expect(await call(system, {})).toMatchObject({ status: 401, body: { code: 'CREDENTIALS_MISSING' } });
    expect(await serviceFetches(system)).toBe(before);
  });

  it('issues tokens when SYNC_TOKEN_ALLOW_ACL_DISABLED=true, without looking the service up', async () => {
    const system = await startSystem({ env: { SYNC_TOKEN_ALLOW_ACL_DISABLED: 'true' } });
    systems.push(system);
    await system.twilio.sync.v1.services(system.emulator.config.syncServiceSid).update({ aclEnabled: false });
    expect(await call(system, { Token: await flexToken(system) })).toMatchObject({ status: 200 });
    expect(await serviceFetches(system)).toBe(0);
  });

  it('with ACLs on, looks the service up once per warm instance, not per request', async () => {
    const system = await startSystem();
    systems.push(system);
    for (let i = 0; i < 3; i++) expect((await call(system, { Token: await flexToken(system) })).status).toBe(200);
    expect(await serviceFetches(system)).toBe(1);
  });
});
