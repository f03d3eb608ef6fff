/**
 * The emulator's Serverless v1, driven with the real twilio SDK (routed by host) and multipart uploads shaped like
 * @twilio-labs/serverless-api's, then the deployed domain: builds that fail for the reasons the cloud's would,
 * functions run alone from SID-named files with the environment's variables, visibility enforced, a 10 s cut-off.
 */
import twilio from 'twilio';
import { rejection, useEmulator } from '../helpers/emulator';
import { hostRoutedClient } from '../helpers/host-routed-client';

const t = useEmulator();
const client = () => hostRoutedClient(t.emulator);
const auth = () =>
  `Basic ${Buffer.from(`${t.emulator.config.accountSid}:${t.emulator.config.authToken}`).toString('base64')}`;

/** Uploads a version the way serverless-api does: multipart with Path, Visibility and the Content file. */
async function upload(
  kind: 'Functions' | 'Assets',
  serviceSid: string,
  resourceSid: string,
  path: string,
  visibility: string,
  content: string,
  type = 'application/javascript',
) {
  const form = new FormData();
  form.append('Path', path);
  form.append('Visibility', visibility);
  form.append('Content', new Blob([content], { type }), path.split('/').pop());
  const response = await fetch(
    `${t.emulator.url}/serverless-upload.twilio.com/v1/Services/${serviceSid}/${kind}/${resourceSid}/Versions`,
    {
      method: 'POST',
      headers: { Authorization: auth() },
      body: form,
    },
  );
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function serviceWithEnvironment(suffix: string | undefined = 'dev') {
  const service = await client().serverless.v1.services.create({
    uniqueName: `svc-${Math.random().toString(36).slice(2, 8)}`,
    friendlyName: 'test',
  });
  const environment = await client()
    .serverless.v1.services(service.sid)
    .environments.create({
      uniqueName: suffix ? `${suffix}-environment` : 'production',
      ...(suffix ? { domainSuffix: suffix } : {}),
    });
  return { service, environment };
}

async function deployFunctions(
  serviceSid: string,
  files: Array<{ path: string; visibility: string; code: string }>,
  build: { runtime?: string; dependencies?: Array<{ name: string; version: string }> } = {},
) {
  const versions: string[] = [];
  for (const file of files) {
    const fn = await client().serverless.v1.services(serviceSid).functions.create({ friendlyName: file.path });
    const uploaded = await upload('Functions', serviceSid, fn.sid, file.path, file.visibility, file.code);
    expect(uploaded.status).toBe(201);
    versions.push(uploaded.body.sid);
  }
  const dependencies = build.dependencies ?? [
    { name: 'twilio', version: '*' },
    { name: '@twilio/runtime-handler', version: '2.1.0' },
  ];
  const created = await client()
    .serverless.v1.services(serviceSid)
    .builds.create({
      functionVersions: versions,
      // serverless-api sends the JSON list quoted once more; the emulator accepts that form.
      dependencies: `"${JSON.stringify(dependencies)}"`,
      runtime: build.runtime ?? 'node22',
    });
  return { build: created, status: await finished(serviceSid, created.sid) };
}

/** Polls Build Status as twilio-run does, until the build is no longer building (bounded). */
async function finished(serviceSid: string, buildSid: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const { status } = await client().serverless.v1.services(serviceSid).builds(buildSid).buildStatus().fetch();
    if (status !== 'building') return status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('build still building after 200 polls');
}

async function failure(buildSid: string): Promise<string | null> {
  const { services } = await t.admin.serverless();
  return services.flatMap((s) => s.builds).find((b) => b.sid === buildSid)?.failure ?? null;
}

async function invoke(
  domain: string,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${t.emulator.url}/${domain}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, text: await response.text() };
}

describe('Serverless API', () => {
  it('forms domain_base and domain_name from the unique name, a random number and the suffix', async () => {
    const { service, environment } = await serviceWithEnvironment('dev');
    expect(service.domainBase).toMatch(new RegExp(`^${service.uniqueName}-\\d+$`));
    expect(service.includeCredentials).toBe(true);
    expect(environment.domainName).toBe(`${service.domainBase}-dev.twil.io`);
    const production = await client()
      .serverless.v1.services(service.sid)
      .environments.create({ uniqueName: 'production' });
    expect(production.domainSuffix).toBeNull();
    expect(production.domainName).toBe(`${service.domainBase}.twil.io`);
    const again = await rejection(
      client().serverless.v1.services.create({ uniqueName: service.uniqueName, friendlyName: 'x' }),
    );
    expect(again.status).toBe(409);
  });

  it('keeps uploads as sent: leading slash added, visibility checked, content readable back', async () => {
    const { service } = await serviceWithEnvironment();
    const fn = await client().serverless.v1.services(service.sid).functions.create({ friendlyName: 'hello' });
    const uploaded = await upload(
      'Functions',
      service.sid,
      fn.sid,
      'hello',
      'protected',
      'exports.handler = () => {};',
    );
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ path: '/hello', visibility: 'protected', function_sid: fn.sid });
    expect(uploaded.body.url).toBe(
      `${t.emulator.url}/serverless.twilio.com/v1/Services/${service.sid}/Functions/${fn.sid}/Versions/${uploaded.body.sid}`,
    );
    const content = await client()
      .serverless.v1.services(service.sid)
      .functions(fn.sid)
      .functionVersions(uploaded.body.sid)
      .functionVersionContent()
      .fetch();
    expect(content.content).toBe('exports.handler = () => {};');
    expect((await upload('Functions', service.sid, fn.sid, '/x', 'secret', 'x')).status).toBe(400);
  });

  it('completes a build whose runtime and dependencies resolve here, then deploys it', async () => {
    const { service, environment } = await serviceWithEnvironment();
    const { build, status } = await deployFunctions(service.sid, [
      { path: '/a', visibility: 'public', code: 'exports.handler = (c, e, cb) => cb(null, "a");' },
    ]);
    expect(build.status).toBe('building');
    expect(status).toBe('completed');
    const fetched = await client().serverless.v1.services(service.sid).builds(build.sid).fetch();
    expect(fetched.runtime).toBe('node22');
    expect(fetched.dependencies).toEqual([
      { name: 'twilio', version: '*' },
      { name: '@twilio/runtime-handler', version: '2.1.0' },
    ]);
    expect(fetched.functionVersions).toEqual([expect.objectContaining({ path: '/a', visibility: 'public' })]);
    const deployment = await client()
      .serverless.v1.services(service.sid)
      .environments(environment.sid)
      .deployments.create({ buildSid: build.sid });
    expect(deployment.buildSid).toBe(build.sid);
    expect((await client().serverless.v1.services(service.sid).environments(environment.sid).fetch()).buildSid).toBe(
      build.sid,
    );
    expect(await invoke(environment.domainName, '/a')).toEqual({ status: 200, text: 'a' });
  });

  it('fails builds the cloud would fail, says why in the admin record, and refuses to deploy them', async () => {
    const { service, environment } = await serviceWithEnvironment();
    const code = [{ path: '/a', visibility: 'public', code: 'exports.handler = (c, e, cb) => cb(null, 1);' }];
    const old = await deployFunctions(service.sid, code, { runtime: 'node14' });
    expect(old.status).toBe('failed');
    expect(await failure(old.build.sid)).toMatch(/node14.*no longer supported/);
    const unknown = await deployFunctions(service.sid, code, { runtime: 'node99' });
    expect(await failure(unknown.build.sid)).toMatch(/node99.*not a Twilio Functions runtime/);
    const missing = await deployFunctions(service.sid, code, {
      dependencies: [{ name: 'left-pad-never-installed', version: '1.0.0' }],
    });
    expect(missing.status).toBe('failed');
    expect(await failure(missing.build.sid)).toMatch(/left-pad-never-installed@1\.0\.0 could not be installed/);
    const tooOld = await deployFunctions(service.sid, code, { dependencies: [{ name: 'twilio', version: '^1.0.0' }] });
    expect(await failure(tooOld.build.sid)).toMatch(
      /twilio@\^1\.0\.0 could not be installed: only \d+\.\d+\.\d+ is installed/,
    );
    const refused = await rejection(
      client()
        .serverless.v1.services(service.sid)
        .environments(environment.sid)
        .deployments.create({ buildSid: missing.build.sid }),
    );
    expect(refused.status).toBe(400);
  });
});

describe('deployed domain', () => {
  it('runs each function alone from its SID-named file, with the variables, credentials and context of a deployment', async () => {
    const { service, environment } = await serviceWithEnvironment();
    await client()
      .serverless.v1.services(service.sid)
      .environments(environment.sid)
      .variables.create({ key: 'GREETING', value: 'hi' });
    const context = `exports.handler = (context, event, callback) => callback(null, {
      file: __filename.split('/').pop(), PATH: context.PATH, DOMAIN_NAME: context.DOMAIN_NAME, GREETING: context.GREETING,
      SERVICE_SID: context.SERVICE_SID, ENVIRONMENT_SID: context.ENVIRONMENT_SID, account: context.ACCOUNT_SID,
      hasToken: typeof context.AUTH_TOKEN === 'string', emulatorUrl: process.env.TWILIO_EMULATOR_URL ?? null, q: event.q });`;
    const sibling = `const helper = require('./helper'); exports.handler = (c, e, cb) => cb(null, helper);`;
    await deployAndActivate(service.sid, environment.sid, [
      { path: '/context', visibility: 'public', code: context },
      {
        path: '/helper',
        visibility: 'public',
        code: 'module.exports = 1; exports.handler = (c, e, cb) => cb(null, "helper");',
      },
      { path: '/needs-sibling', visibility: 'public', code: sibling },
    ]);
    const reply = await invoke(environment.domainName, '/context?q=1');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({
      file: expect.stringMatching(/^ZN[0-9a-f]{32}\.js$/),
      PATH: '/context',
      DOMAIN_NAME: environment.domainName,
      GREETING: 'hi',
      SERVICE_SID: service.sid,
      ENVIRONMENT_SID: environment.sid,
      account: t.emulator.config.accountSid,
      hasToken: true,
      emulatorUrl: null,
      q: '1',
    });
    // A function that needs a sibling file works under twilio-run start, not once deployed.
    const broken = await invoke(environment.domainName, '/needs-sibling');
    expect(broken.status).toBe(500);
    expect(broken.text).toMatch(/Cannot find module '\.\/helper'/);
  });

  it('enforces visibility: protected needs a valid X-Twilio-Signature for the public URL, private is not routable', async () => {
    const { service, environment } = await serviceWithEnvironment();
    const ok = 'exports.handler = (c, e, cb) => cb(null, "ran");';
    await deployAndActivate(service.sid, environment.sid, [
      { path: '/guarded', visibility: 'protected', code: ok },
      { path: '/hidden', visibility: 'private', code: ok },
    ]);
    const url = `https://${environment.domainName}/guarded`;
    const params = { CallSid: 'CA1' };
    const body = new URLSearchParams(params).toString();
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const signature = twilio.getExpectedTwilioSignature(t.emulator.config.authToken, url, params);
    expect((await invoke(environment.domainName, '/guarded', { method: 'POST', body, headers: form })).status).toBe(
      401,
    );
    const forged = twilio.getExpectedTwilioSignature('0'.repeat(32), url, params);
    expect(
      (
        await invoke(environment.domainName, '/guarded', {
          method: 'POST',
          body,
          headers: { ...form, 'X-Twilio-Signature': forged },
        })
      ).status,
    ).toBe(401);
    const tampered = { method: 'POST', body: 'CallSid=CA2', headers: { ...form, 'X-Twilio-Signature': signature } };
    expect((await invoke(environment.domainName, '/guarded', tampered)).status).toBe(401);
    const signed = await invoke(environment.domainName, '/guarded', {
      method: 'POST',
      body,
      headers: { ...form, 'X-Twilio-Signature': signature },
    });
    expect(signed).toEqual({ status: 200, text: 'ran' });
    expect((await invoke(environment.domainName, '/hidden')).status).toBe(404);
  });

  it('cuts an invocation off after 10 s with 504, and the next request gets a fresh process', async () => {
    const { service, environment } = await serviceWithEnvironment();
    await deployAndActivate(service.sid, environment.sid, [
      { path: '/hang', visibility: 'public', code: 'exports.handler = () => {};' },
      { path: '/pid', visibility: 'public', code: 'exports.handler = (c, e, cb) => cb(null, String(process.pid));' },
    ]);
    const before = await invoke(environment.domainName, '/pid');
    const hung = await invoke(environment.domainName, '/hang');
    expect(hung.status).toBe(504);
    const after = await invoke(environment.domainName, '/pid');
    expect(after.status).toBe(200);
    expect(after.text).not.toBe(before.text);
  });

  it("records what the functions print in the environment's Logs, newest first", async () => {
    const { service, environment } = await serviceWithEnvironment();
    await deployAndActivate(service.sid, environment.sid, [
      {
        path: '/log',
        visibility: 'public',
        code: 'exports.handler = (c, e, cb) => { console.log("first " + e.n); console.error("second " + e.n); cb(null, "ok"); };',
      },
    ]);
    expect((await invoke(environment.domainName, '/log?n=7')).status).toBe(200);
    let messages: string[] = [];
    for (let i = 0; i < 200 && messages.length < 2; i++) {
      const logs = await client().serverless.v1.services(service.sid).environments(environment.sid).logs.list();
      messages = logs.map((l) => `${l.level} ${l.message}`).filter((m) => m.endsWith(' 7'));
      if (messages.length < 2) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(messages.sort()).toEqual(['error second 7', 'info first 7']);
  });
});

async function deployAndActivate(
  serviceSid: string,
  environmentSid: string,
  files: Array<{ path: string; visibility: string; code: string }>,
) {
  const { build, status } = await deployFunctions(serviceSid, files);
  expect(status).toBe('completed');
  await client()
    .serverless.v1.services(serviceSid)
    .environments(environmentSid)
    .deployments.create({ buildSid: build.sid });
}
