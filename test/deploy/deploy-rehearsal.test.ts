/**
 * `npm run deploy` rehearsed end to end: the real `twilio-run deploy` (same flags as npm run deploy) uploads the
 * suite's build to the emulator through its proxy, then the deployed functions are called over HTTPS through the
 * proxy, on the environment's *.twil.io domain, as a Flex plugin and the scheduler would call them in the cloud.
 * The emulator runs with random credentials so the "no secret in any output" checks cannot pass by accident.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { EmulatorAdmin, type ServerlessRecord } from '../../emulator/admin-client';
import { startEmulator, type Emulator } from '../../emulator/server';
import { signedRequest } from '../../scripts/sync-calls';
import {
  deployToEmulator,
  rehearsalEnv,
  writeRehearsalEnvFile,
  type RehearsalResult,
} from '../../scripts/lib/deploy-rehearsal';
import { proxiedRequest } from '../helpers/proxied-https';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let emulator: Emulator;
let admin: EmulatorAdmin;
let work: string;
let envFile: string;
let ca: string;
let first: RehearsalResult;
let domain: string;
const outputs: string[] = [];

async function deploy(
  options: { functionsFolder?: string; packageJson?: Record<string, unknown> } = {},
): Promise<RehearsalResult> {
  const result = await deployToEmulator({
    emulatorUrl: emulator.url,
    envFile,
    functionsFolder: options.functionsFolder ?? process.env.FUNCTIONS_DIST!,
    packageJson: options.packageJson,
  });
  outputs.push(result.output);
  return result;
}

function call(path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return proxiedRequest({ proxyUrl: emulator.url, ca, url: `https://${domain}${path}`, ...init });
}

const form = (params: Record<string, string>) => ({
  method: 'POST',
  body: new URLSearchParams(params).toString(),
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
});

async function record(): Promise<ServerlessRecord['services'][number]> {
  const { services } = await admin.serverless();
  expect(services).toHaveLength(1);
  return services[0];
}

beforeAll(async () => {
  emulator = await startEmulator({ authToken: hex(16), apiSecret: `secret-${hex(16)}` });
  admin = new EmulatorAdmin(emulator.url);
  const config = await admin.config();
  ca = config.caPem;
  work = mkdtempSync(join(tmpdir(), 'deploy-rehearsal-test-'));
  envFile = join(work, '.env.emulator');
  writeRehearsalEnvFile(envFile, rehearsalEnv(config));
  first = await deploy();
  if (first.code !== 0) throw new Error(`twilio-run deploy failed:\n${first.output}`);
  domain = (await record()).environments[0].domainName;
});
afterAll(async () => {
  await emulator?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('deploy rehearsal', () => {
  it('deploys with the real twilio-run to the dev environment, whose domain twilio-run prints', async () => {
    const service = await record();
    expect(service.uniqueName).toBe(JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).name);
    expect(service.environments).toEqual([
      expect.objectContaining({ domainSuffix: 'dev', buildSid: service.builds[0].sid }),
    ]);
    expect(domain).toMatch(new RegExp(`^${service.uniqueName}-\\d+-dev\\.twil\\.io$`));
    expect(first.output).toContain(`https://${domain}/sync-token`);
  });

  it('/sync-token issues a Sync token for a Flex user, over HTTPS through the proxy', async () => {
    const [agent] = (await admin.seed({ agents: 1, callsPerAgent: 1, days: 1 })).agents;
    const { token: flexToken } = await admin.flexToken({ identity: agent.identity, workerSid: agent.workerSid });
    const reply = await call('/sync-token', form({ Token: flexToken }));
    expect(reply.status).toBe(200);
    const { token } = reply.json();
    const verified = jwt.verify(token, emulator.config.apiSecret, {
      algorithms: ['HS256'],
      issuer: emulator.config.apiKey,
    }) as any;
    expect(verified.grants).toMatchObject({
      identity: agent.identity,
      data_sync: { service_sid: emulator.config.syncServiceSid },
    });
  });

  it('/sync-recent-calls is protected by the runtime: unsigned 401, signed it runs; then /recent-calls reads', async () => {
    const seeded = await admin.seed({ agents: 2, callsPerAgent: 3, days: 2 });
    const unsigned = await call('/sync-recent-calls', form({ Invocation: '1' }));
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers['content-type']).toMatch(/^text\/plain/); // the runtime's refusal, not the function's JSON

    const url = `https://${domain}/sync-recent-calls`;
    let summary: { done: boolean; written: number } | undefined;
    for (let n = 1; n <= 30 && !summary?.done; n++) {
      const signed = signedRequest(url, emulator.config.authToken, { Invocation: String(n) });
      const reply = await call('/sync-recent-calls', { method: 'POST', body: signed.body, headers: signed.headers });
      expect(reply.status).toBe(200);
      summary = reply.json();
    }
    expect(summary?.done).toBe(true);

    const agent = seeded.agents[0];
    const { token } = await admin.flexToken({ identity: agent.identity, workerSid: agent.workerSid });
    const calls = await call('/recent-calls', { method: 'GET', headers: { Authorization: `Bearer ${token}` } });
    expect(calls.status).toBe(200);
    expect(calls.json().workerSid).toBe(agent.workerSid);
    expect(calls.json().calls.length).toBeGreaterThan(0);
  });

  it('serves the page and the browser client as assets', async () => {
    const page = await call('/index.html');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toBe(readFileSync(join(__dirname, '..', '..', 'assets', 'index.html'), 'utf8'));
    const bundle = await call('/js/flex-sync-client.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.body).toBe(readFileSync(join(__dirname, '..', '..', 'assets', 'js', 'flex-sync-client.js'), 'utf8'));
  });

  it('a second deploy uploads everything again as a new build, and the domain serves it', async () => {
    const before = await record();
    const functions = join(work, 'functions-v2');
    cpSync(process.env.FUNCTIONS_DIST!, functions, { recursive: true });
    writeFileSync(
      join(functions, 'build-marker.js'),
      'exports.handler = (context, event, callback) => callback(null, "second build");\n',
    );
    expect((await call('/build-marker')).status).toBe(404);
    const second = await deploy({ functionsFolder: functions });
    expect(second.code).toBe(0);
    const after = await record();
    expect(after.builds).toHaveLength(before.builds.length + 1);
    const newest = after.builds[after.builds.length - 1];
    const firstPaths = before.builds[0].functions.map((f) => f.path);
    expect(newest.functions.map((f) => f.path).sort()).toEqual([...firstPaths, '/build-marker'].sort());
    // Every file uploaded again: no version is shared with the first build.
    const firstSids = new Set([...before.builds[0].functions, ...before.builds[0].assets].map((v) => v.sid));
    expect([...newest.functions, ...newest.assets].filter((v) => firstSids.has(v.sid))).toEqual([]);
    expect(after.environments[0]).toMatchObject({
      buildSid: newest.sid,
      deployments: [before.builds[0].sid, newest.sid],
    });
    expect(await call('/build-marker')).toMatchObject({ status: 200, body: 'second build' });
  });

  it('a build that cannot resolve a dependency fails, says why, and leaves the last good build serving', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const failed = await deploy({
      packageJson: { dependencies: { ...pkg.dependencies, 'left-pad-never-installed': '^1.3.0' } },
    });
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(/Failed Deployment/);
    const after = await record();
    const newest = after.builds[after.builds.length - 1];
    expect(newest).toMatchObject({
      status: 'failed',
      failure: expect.stringMatching(/left-pad-never-installed@\^1\.3\.0 could not be installed/),
    });
    expect(after.environments[0].buildSid).not.toBe(newest.sid);
    expect(await call('/build-marker')).toMatchObject({ status: 200, body: 'second build' });
  });

  it('never prints a secret: not in twilio-run output, the emulator record, or the deployed logs', async () => {
    const secrets = [emulator.config.authToken, emulator.config.apiSecret];
    const logs = emulator.state.serverless.logs.map((l) => l.message).join('\n');
    const seen = [...outputs, JSON.stringify(await admin.serverless()), logs].join('\n');
    expect(outputs.length).toBeGreaterThanOrEqual(3);
    for (const secret of secrets) expect(seen).not.toContain(secret);
  });
});
