/**
 * `npm run build`: bundles each src/functions entry into one self-contained CommonJS file in dist/functions
 * (deployed Functions cannot require sibling files), keeping the `.protected` / `.private` suffixes; npm
 * `dependencies` stay external because the Functions build installs them. Type-checking is `npm run typecheck`,
 * which `npm run build` runs first.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..');
const functionsSrc = join(root, 'src', 'functions');
const functionsOut = join(root, 'dist', 'functions');

function entries(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return entries(path);
    return /\.ts$/.test(name) && !/\.(test|d)\.ts$/.test(name) ? [path] : [];
  });
}

/** Bundles every function into `outDir` (default dist/functions); returns their paths relative to it. */
export async function buildFunctions(outDir = functionsOut): Promise<string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const external = Object.keys(pkg.dependencies ?? {});
  rmSync(outDir, { recursive: true, force: true });
  const files = entries(functionsSrc);
  await build({
    entryPoints: files,
    outbase: functionsSrc,
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return files.map((file) => relative(functionsSrc, file).replace(/\.ts$/, '.js'));
}

export async function buildClient(): Promise<void> {
  await build({
    entryPoints: [join(root, 'src', 'client', 'index.ts')],
    outfile: join(root, 'assets', 'js', 'flex-sync-client.js'),
    bundle: true,
    platform: 'browser',
    target: 'es2020',
    format: 'esm',
    logLevel: 'warning',
  });
  copySyncSdk();
}

/**
 * The live page loads the twilio-sync SDK's own browser build (pinned in package.json), copied from the installed
 * package with its licence beside it; neither is committed. Flex plugins bring their own copy of the SDK.
 */
export function copySyncSdk(): void {
  const sdk = join(root, 'node_modules', 'twilio-sync');
  const out = join(root, 'assets', 'js');
  mkdirSync(out, { recursive: true });
  copyFileSync(join(sdk, 'builds', 'twilio-sync.min.js'), join(out, 'twilio-sync.min.js'));
  copyFileSync(join(sdk, 'LICENSE'), join(out, 'twilio-sync.LICENSE.txt'));
}

if (require.main === module) {
  Promise.all([buildFunctions(), buildClient()])
    .then(([functions]) =>
      console.log(`built ${functions.length} functions into dist/functions: ${functions.join(', ')}`),
    )
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
