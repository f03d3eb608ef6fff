/**
 * Contract test: every route the emulator serves answers, for the calls the real SDK makes, bodies that validate
 * against Twilio's official OpenAPI specs, with every documented field present. Errors follow Twilio's error shape,
 * and IAM (which has no public spec) follows the shape twilio-flex-token-validator reads.
 */
import type { Twilio } from 'twilio';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator, type Emulator, type ObservedAnswer } from '../../emulator/server';
import { hostRoutedClient } from '../helpers/host-routed-client';
import { OpenApiValidator } from '../helpers/openapi';
import { emulatorClient } from '../helpers/system';

let emulator: Emulator;
let client: Twilio;
let admin: EmulatorAdmin;
const answers: ObservedAnswer[] = [];
const validator = new OpenApiValidator();

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.observers.push((answer) => answer.family !== 'admin' && answers.push(answer));
  client = emulatorClient(emulator);
  admin = new EmulatorAdmin(emulator.url);
  await admin.setLimits({ writeRatePerSecond: 0 });
  await exerciseEveryRoute();
});
afterAll(() => emulator.close());

const ignore = () => undefined;

/** Calls every route with the real SDK, successes and typical failures. */
async function exerciseEveryRoute(): Promise<void> {
  const seeded = await admin.seed({ agents: 3, callsPerAgent: 4, days: 10 });

  // Sync: services, documents, maps, items, permissions.
  const created = await client.sync.v1.services.create({ friendlyName: 'contract', aclEnabled: true });
  await client.sync.v1.services.list();
  await client.sync.v1.services(created.sid).fetch();
  await client.sync.v1.services(created.sid).update({ aclEnabled: false });
  const sync = client.sync.v1.services(created.sid);
  await sync.documents.create({ uniqueName: 'doc', data: { a: 1 }, ttl: 3600 });
  await sync.documents.list();
  await sync.documents('doc').fetch();
  await sync.documents('doc').update({ data: { a: 2 } });
  await sync.syncMaps.create({ uniqueName: 'map', ttl: 3600 });
  await sync.syncMaps.list();
  await sync.syncMaps('map').fetch();
  await sync.syncMaps('map').update({ ttl: 7200 });
  await sync.syncMaps('map').syncMapItems.create({ key: 'CA1', data: { d: 'inbound' }, itemTtl: 60 });
  await sync.syncMaps('map').syncMapItems.create({ key: 'CA2', data: {} });
  await sync.syncMaps('map').syncMapItems.list({ order: 'desc', pageSize: 1 });
  await sync.syncMaps('map').syncMapItems('CA1').fetch();
  await sync
    .syncMaps('map')
    .syncMapItems('CA1')
    .update({ data: { d: 'outbound' } });
  await sync.syncMaps('map').syncMapPermissions('alice').update({ read: true, write: false, manage: false });
  await sync.syncMaps('map').syncMapPermissions.list();
  await sync.syncMaps('map').syncMapPermissions('alice').fetch();
  await sync.syncMaps('map').syncMapPermissions('alice').remove();
  await sync.syncMaps('map').syncMapItems('CA2').remove();
  await sync.syncMaps('map').syncMapItems.create({ key: 'CA1', data: {} }).catch(ignore); // 409
  await sync.syncMaps('missing').fetch().catch(ignore); // 404
  await sync.syncMaps('map').remove();
  await sync.documents('doc').remove();
  await client.sync.v1.services(created.sid).remove();

  // TaskRouter: workspaces, workers, events.
  const ws = emulator.config.workspaceSid;
  await client.taskrouter.v1.workspaces.list();
  await client.taskrouter.v1.workspaces(ws).fetch();
  await client.taskrouter.v1
    .workspaces(ws)
    .update({ eventCallbackUrl: 'https://example.com/cb', eventsFilter: 'reservation.completed' });
  const workers = await client.taskrouter.v1.workspaces(ws).workers.list({ pageSize: 2 });
  await client.taskrouter.v1.workspaces(ws).workers(workers[0].sid).fetch();
  const events = await client.taskrouter.v1.workspaces(ws).events.list({
    startDate: new Date(Date.now() - 9 * 86_400_000),
    pageSize: 20,
    limit: 40,
  });
  await client.taskrouter.v1.workspaces(ws).events(events[0].sid).fetch();
  await client.taskrouter.v1
    .workspaces(ws)
    .events.list({ eventType: 'reservation.completed', workerSid: seeded.agents[0].workerSid });

  // Events v1: sinks, subscriptions, subscribed events.
  const es = client.events.v1;
  const sink = await es.sinks.create({
    description: 'contract',
    sinkConfiguration: { destination: 'https://user:secret@example.com/es', method: 'POST' },
    sinkType: 'webhook',
  });
  await es.sinks.list();
  await es.sinks(sink.sid).fetch();
  await es.sinks(sink.sid).update({ description: 'contract 2' });
  await es.sinks(sink.sid).sinkValidate.create({ testId: 'TE' + '0'.repeat(32) });
  // The test event goes to a loopback destination (the emulator itself, which refuses it): no outside network.
  const local = await es.sinks.create({
    description: 'contract test event',
    sinkConfiguration: { destination: `${emulator.url}/__admin/stats`, method: 'POST' },
    sinkType: 'webhook',
  });
  await es.sinks(local.sid).sinkTest.create();
  const subscription = await es.subscriptions.create({
    description: 'contract',
    sinkSid: sink.sid,
    types: [{ type: 'com.twilio.taskrouter.reservation.completed', schema_version: 1 }],
  });
  await es.subscriptions.list();
  await es.subscriptions(subscription.sid).fetch();
  await es.subscriptions(subscription.sid).update({ description: 'contract 2' });
  const subscribed = es.subscriptions(subscription.sid).subscribedEvents;
  await subscribed.create({ type: 'com.twilio.taskrouter.task.created', schemaVersion: 1 });
  await subscribed.list();
  await subscribed('com.twilio.taskrouter.task.created').fetch();
  await subscribed('com.twilio.taskrouter.task.created').update({ schemaVersion: 2 });
  await subscribed('com.twilio.taskrouter.task.created').remove();
  await es.subscriptions(subscription.sid).remove();
  await es.sinks(sink.sid).remove();

  // API 2010: calls.
  const calls = await client.calls.list({
    startTimeAfter: new Date(Date.now() - 9 * 86_400_000),
    pageSize: 3,
    limit: 6,
  });
  await client.calls(calls[0].sid).fetch();
  await client.calls('CA00000000000000000000000000000000').fetch().catch(ignore); // 404

  // IAM.
  const { token } = await admin.flexToken({ identity: seeded.agents[0].identity });
  const iam = (t: string) =>
    client.request({
      method: 'post',
      uri: `https://iam.twilio.com/v1/Accounts/${emulator.config.accountSid}/Tokens/validate`,
      data: { token: t },
      headers: { 'Content-Type': 'application/json' },
    });
  await iam(token);
  await iam('not-a-token');

  await exerciseServerless();
}

/** Uploads a version as @twilio-labs/serverless-api does: multipart on serverless-upload.twilio.com. */
async function upload(kind: 'Functions' | 'Assets', serviceSid: string, sid: string, path: string, content: string) {
  const form = new FormData();
  form.append('Path', path);
  form.append('Visibility', 'public');
  form.append(
    'Content',
    new Blob([content], { type: kind === 'Functions' ? 'application/javascript' : 'text/plain' }),
    'file',
  );
  const auth = Buffer.from(`${emulator.config.accountSid}:${emulator.config.authToken}`).toString('base64');
  const response = await fetch(
    `${emulator.url}/serverless-upload.twilio.com/v1/Services/${serviceSid}/${kind}/${sid}/Versions`,
    {
      method: 'POST',
      headers: { Authorization: `Basic ${auth}` },
      body: form,
    },
  );
  return (await response.json()) as { sid: string };
}

/** Serverless v1 as twilio-run deploy, list and logs drive it (routed by host: Sync owns the same paths). */
async function exerciseServerless(): Promise<void> {
  const serverless = hostRoutedClient(emulator).serverless.v1;
  const created = await serverless.services.create({ uniqueName: 'contract', friendlyName: 'contract' });
  await serverless.services.list();
  await serverless.services(created.sid).fetch();
  await serverless.services(created.sid).update({ uiEditable: true });
  const svc = serverless.services(created.sid);
  const env = await svc.environments.create({ uniqueName: 'dev-environment', domainSuffix: 'dev' });
  await svc.environments.list();
  await svc.environments(env.sid).fetch();
  const variable = await svc.environments(env.sid).variables.create({ key: 'GREETING', value: 'hi' });
  await svc.environments(env.sid).variables.list();
  await svc.environments(env.sid).variables(variable.sid).fetch();
  await svc.environments(env.sid).variables(variable.sid).update({ value: 'hello' });

  const fn = await svc.functions.create({ friendlyName: 'hello' });
  await svc.functions.list();
  await svc.functions(fn.sid).fetch();
  await svc.functions(fn.sid).update({ friendlyName: 'hello' });
  const fnVersion = await upload(
    'Functions',
    created.sid,
    fn.sid,
    '/hello',
    'exports.handler = (c, e, cb) => { console.log("hello"); cb(null, "hi"); };',
  );
  await svc.functions(fn.sid).functionVersions.list();
  await svc.functions(fn.sid).functionVersions(fnVersion.sid).fetch();
  await svc.functions(fn.sid).functionVersions(fnVersion.sid).functionVersionContent().fetch();
  const asset = await svc.assets.create({ friendlyName: 'note' });
  await svc.assets.list();
  await svc.assets(asset.sid).fetch();
  await svc.assets(asset.sid).update({ friendlyName: 'note' });
  const assetVersion = await upload('Assets', created.sid, asset.sid, '/note.txt', 'note');
  await svc.assets(asset.sid).assetVersions.list();
  await svc.assets(asset.sid).assetVersions(assetVersion.sid).fetch();

  const build = await svc.builds.create({
    functionVersions: [fnVersion.sid],
    assetVersions: [assetVersion.sid],
    runtime: 'node22',
  });
  let status = build.status;
  for (let i = 0; i < 200 && status === 'building'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    status = (await svc.builds(build.sid).buildStatus().fetch()).status;
  }
  await svc.builds.list();
  await svc.builds(build.sid).fetch();
  const deployment = await svc.environments(env.sid).deployments.create({ buildSid: build.sid });
  await svc.environments(env.sid).deployments.list();
  await svc.environments(env.sid).deployments(deployment.sid).fetch();
  // A log line: invoke the deployed function on its domain, then read what it printed.
  await fetch(`${emulator.url}/${env.domainName}/hello`).then((r) => r.text());
  let logs = await svc.environments(env.sid).logs.list();
  for (let i = 0; i < 200 && logs.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    logs = await svc.environments(env.sid).logs.list();
  }
  await svc.environments(env.sid).logs(logs[0].sid).fetch();

  // Deletes, on resources made for them (the deployed ones stay).
  await svc.environments(env.sid).variables(variable.sid).remove();
  const spareBuild = await svc.builds.create({ functionVersions: [fnVersion.sid] });
  await svc.builds(spareBuild.sid).remove();
  await svc.functions((await svc.functions.create({ friendlyName: 'spare' })).sid).remove();
  await svc.assets((await svc.assets.create({ friendlyName: 'spare' })).sid).remove();
  await svc.environments((await svc.environments.create({ uniqueName: 'spare', domainSuffix: 'spare' })).sid).remove();
  await serverless
    .services((await serverless.services.create({ uniqueName: 'spare', friendlyName: 'spare' })).sid)
    .remove();
  await serverless.services('ZS00000000000000000000000000000000').fetch().catch(ignore); // 404
}

/** serverless-upload's Version creation is not in the spec: its answer is the Version resource, as GET returns it. */
function specFor(answer: ObservedAnswer): { method: string; pattern: string; family: string; status: number } {
  if (answer.family !== 'serverless-upload') return { ...answer };
  return { method: 'GET', pattern: `${answer.pattern}/:Sid`, family: 'serverless', status: 200 };
}

describe('emulator contract', () => {
  it('answered every Twilio route it serves with a success at least once', () => {
    const served = emulator.router.routes.filter((r) => !r.admin).map((r) => `${r.family} ${r.method} ${r.pattern}`);
    const answered = new Set(answers.filter((a) => a.status < 300).map((a) => `${a.family} ${a.method} ${a.pattern}`));
    expect(served.filter((route) => !answered.has(route))).toEqual([]);
  });

  it('documents every Sync, TaskRouter, Events, API 2010 and Serverless route it serves in the official specs', () => {
    const missing = emulator.router.routes
      .filter((r) => !r.admin && r.family !== 'iam')
      .map((r) => ({ ...specFor({ ...r, status: 201, body: undefined }), served: `${r.method} ${r.pattern}` }))
      .filter((r) => !validator.operation(r.method, r.pattern, r.family))
      .map((r) => r.served);
    expect(missing).toEqual([]);
  });

  it('answers bodies that validate against the official OpenAPI schemas, with every documented field', () => {
    const failures: string[] = [];
    for (const answer of answers.filter((a) => a.family !== 'iam' && a.status < 300 && a.status !== 204)) {
      const documented = specFor(answer);
      const op = validator.operation(documented.method, documented.pattern, documented.family);
      if (!op) {
        failures.push(`${answer.method} ${answer.pattern}: not in the specs`);
        continue;
      }
      for (const error of validator.validate(op, documented.status, answer.body)) {
        failures.push(`${answer.method} ${answer.pattern} ${answer.status}: ${error}`);
      }
    }
    expect([...new Set(failures)]).toEqual([]);
    expect(answers.filter((a) => a.family !== 'iam' && a.status < 300).length).toBeGreaterThan(30);
  });

  it('answers deletes with 204 and an empty body', () => {
    const deletes = answers.filter((a) => a.method === 'DELETE');
    expect(deletes.length).toBeGreaterThan(0);
    for (const answer of deletes) {
      expect(answer.status).toBe(204);
      expect(answer.body).toBeUndefined();
    }
  });

  it("answers errors in Twilio's shape {code, message, more_info, status}", () => {
    const errors = answers.filter((a) => a.status >= 400);
    expect(errors.map((e) => e.status).sort()).toEqual(expect.arrayContaining([404, 409]));
    for (const error of errors) {
      expect(error.body).toEqual({
        code: expect.any(Number),
        message: expect.any(String),
        more_info: `https://www.twilio.com/docs/errors/${(error.body as { code: number }).code}`,
        status: error.status,
      });
    }
  });

  it('answers IAM validate like the real service: the fields twilio-flex-token-validator reads', () => {
    const iam = answers.filter((a) => a.family === 'iam');
    const valid = iam.find((a) => (a.body as { valid: boolean }).valid);
    const invalid = iam.find((a) => !(a.body as { valid: boolean }).valid);
    expect(valid?.body).toEqual({
      valid: true,
      code: 0,
      message: null,
      // twilio/twilio-flex-token-validator fixtures: ISO expiration with milliseconds, raw user name, no other keys.
      expiration: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      realm_user_id: expect.any(String),
      identity: expect.any(String),
      roles: ['agent'],
      worker_sid: expect.stringMatching(/^WK[0-9a-f]{32}$/),
    });
    expect(invalid?.status).toBe(200);
    // Every key present, null where unknown (the validator's invalid-token fixture).
    expect(invalid?.body).toEqual({
      valid: false,
      code: expect.any(Number),
      message: expect.any(String),
      expiration: null,
      realm_user_id: null,
      identity: null,
      roles: null,
      worker_sid: null,
    });
  });
});
