/**
 * What `npm run deploy` would upload, asked of the same listing twilio-run's deploy uses
 * (@twilio-labs/serverless-api getListOfFunctionsAndAssets, with the folders the deploy script passes), and what a
 * real `twilio-run deploy` did upload, as the emulator recorded it (scripts/lib/deploy-rehearsal.ts).
 */
import { getListOfFunctionsAndAssets } from '@twilio-labs/serverless-api/dist/utils/fs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { EmulatorAdmin, type ServerlessRecord } from '../../emulator/admin-client';
import { startEmulator, type Emulator } from '../../emulator/server';
import {
  deployToEmulator,
  rehearsalEnv,
  writeRehearsalEnvFile,
  type RehearsalResult,
} from '../../scripts/lib/deploy-rehearsal';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const rc = JSON.parse(readFileSync(join(root, '.twilioserverlessrc'), 'utf8'));

function flag(script: string, name: string): string | undefined {
  return new RegExp(`--${name}[= ](\\S+)`).exec(script)?.[1];
}

describe('deploy shape', () => {
  const deployScript: string = pkg.scripts.deploy;

  it('deploys dist/functions and assets on node22, the same in npm run deploy and .twilioserverlessrc', () => {
    expect(deployScript).toMatch(/^npm run build && twilio-run deploy /);
    expect(flag(deployScript, 'functions-folder')).toBe('dist/functions');
    expect(flag(deployScript, 'assets-folder')).toBe('assets');
    expect(flag(deployScript, 'runtime')).toBe('node22');
    expect(rc).toMatchObject({ functionsFolder: 'dist/functions', assetsFolder: 'assets', runtime: 'node22' });
  });

  it('uploads exactly the intended functions with the intended visibility', async () => {
    // The suite's own build of dist/functions (same bundler, same entries) stands in for npm run build's.
    const functionsFolder = relative(root, process.env.FUNCTIONS_DIST!);
    const { functions } = await getListOfFunctionsAndAssets(root, {
      functionsFolderNames: [functionsFolder],
      assetsFolderNames: [flag(deployScript, 'assets-folder')!],
    });
    const routes = Object.fromEntries(functions.map((f) => [f.path, f.access]));
    expect(routes).toEqual({
      '/sync-token': 'public',
      '/recent-calls': 'public',
      '/sync-recent-calls': 'protected',
      // Public on purpose: it checks its callers itself (signature, Basic credentials), see docs/realtime.md.
      '/taskrouter-events': 'public',
    });
    for (const fn of functions) {
      const code = String(fn.content);
      // esbuild marks each bundled module with a "// path" comment: none may come from tests, scripts or the emulator.
      expect(code).not.toMatch(/^\s*\/\/ (emulator|test|scripts)\//m);
      expect(code).not.toMatch(/require\(["']\.\.?\//);
    }
  });

  it('uploads the page and the browser client as assets, and nothing else', async () => {
    const { assets } = await getListOfFunctionsAndAssets(root, {
      functionsFolderNames: [relative(root, process.env.FUNCTIONS_DIST!)],
      assetsFolderNames: ['assets'],
    });
    const paths = assets.map((a) => a.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        '/index.html',
        '/live.html',
        '/js/flex-sync-client.js',
        '/js/twilio-sync.min.js',
        '/js/twilio-sync.LICENSE.txt',
      ]),
    );
    for (const path of paths) {
      expect(path).not.toMatch(/\.(map|ts)$|test|emulator|\.env/);
      // .txt: the licence notice shipped beside the twilio-sync browser build.
      expect(path).toMatch(/\.(html|js|css|svg|png|ico|txt)$/);
    }
    for (const asset of assets) expect(asset.access).toBe('public');
  });
});

describe('deploy shape, as the emulator recorded a real twilio-run deploy', () => {
  let emulator: Emulator;
  let work: string;
  let result: RehearsalResult;
  let env: Record<string, string>;
  let service: ServerlessRecord['services'][number];

  beforeAll(async () => {
    emulator = await startEmulator({
      authToken: randomBytes(16).toString('hex'),
      apiSecret: `secret-${randomBytes(16).toString('hex')}`,
    });
    const admin = new EmulatorAdmin(emulator.url);
    work = mkdtempSync(join(tmpdir(), 'deploy-shape-'));
    env = rehearsalEnv(await admin.config());
    writeRehearsalEnvFile(join(work, '.env.emulator'), env);
    result = await deployToEmulator({
      emulatorUrl: emulator.url,
      envFile: join(work, '.env.emulator'),
      functionsFolder: process.env.FUNCTIONS_DIST!,
    });
    if (result.code !== 0) throw new Error(`twilio-run deploy failed:\n${result.output}`);
    [service] = (await admin.serverless()).services;
  });
  afterAll(async () => {
    await emulator?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('uploaded the functions with their visibility, and the assets, all public', async () => {
    const [build] = service.builds;
    expect(build.status).toBe('completed');
    expect(Object.fromEntries(build.functions.map((f) => [f.path, f.visibility]))).toEqual({
      '/sync-token': 'public',
      '/recent-calls': 'public',
      '/sync-recent-calls': 'protected',
      '/taskrouter-events': 'public',
    });
    const { assets } = await getListOfFunctionsAndAssets(root, {
      functionsFolderNames: [],
      assetsFolderNames: ['assets'],
    });
    expect(build.assets.map((a) => a.path).sort()).toEqual(assets.map((a) => a.path).sort());
    for (const asset of build.assets) expect(asset.visibility).toBe('public');
    for (const fn of build.functions) expect(fn.bytes).toBeGreaterThan(0);
  });

  it("built on the deploy script's runtime with package.json's dependencies", () => {
    const [build] = service.builds;
    expect(build.runtime).toBe(flag(pkg.scripts.deploy, 'runtime'));
    expect(build.dependencies).toEqual(Object.entries(pkg.dependencies).map(([name, version]) => ({ name, version })));
  });

  it("set the env file's variables by name, without the credentials twilio-run keeps to itself, and never a value in any output", () => {
    const [environment] = service.environments;
    const expected = Object.keys(env)
      .filter((key) => key !== 'ACCOUNT_SID' && key !== 'AUTH_TOKEN')
      .sort();
    expect(environment.variableNames).toEqual(expected);
    const seen = `${result.output}\n${JSON.stringify(service)}`;
    for (const secret of [env.AUTH_TOKEN, env.API_SECRET]) expect(seen).not.toContain(secret);
    for (const name of expected) expect(result.output).toContain(name); // twilio-run lists the names it sets
  });
});
