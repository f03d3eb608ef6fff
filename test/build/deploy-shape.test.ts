/**
 * What `npm run deploy` would upload, asked of the same listing twilio-run's deploy uses
 * (@twilio-labs/serverless-api getListOfFunctionsAndAssets, with the folders the deploy script passes).
 */
import { getListOfFunctionsAndAssets } from '@twilio-labs/serverless-api/dist/utils/fs';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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
    expect(paths).toEqual(expect.arrayContaining(['/index.html', '/js/flex-sync-client.js']));
    for (const path of paths) {
      expect(path).not.toMatch(/\.(map|ts)$|test|emulator|\.env/);
      expect(path).toMatch(/\.(html|js|css|svg|png|ico)$/);
    }
    for (const asset of assets) expect(asset.access).toBe('public');
  });
});
