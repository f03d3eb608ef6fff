/**
 * Building a Serverless build the way the cloud does, offline: the runtime must be one Twilio still runs and every
 * dependency must be installable; here "installable" means already installed in this checkout's node_modules at a
 * version the range accepts (the emulator never downloads). A completed build is laid out as the cloud lays it out:
 * each function's uploaded content alone in a file named by its version SID, the dependencies beside them, so a
 * function that only works next to its siblings fails here too.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import semver from 'semver';
import type { Dependency, ServerlessBuild, ServerlessVersion } from './state';

/** The checkout whose installed packages builds resolve against. */
export const PROJECT_ROOT = join(__dirname, '..', '..');

/** Every runtime the Build resource documents (the OpenAPI enum build_enum_runtime). */
export const DOCUMENTED_RUNTIMES = ['node8', 'node10', 'node12', 'node14', 'node16', 'node18', 'node20', 'node22'];
/**
 * The runtimes new builds may still use (https://www.twilio.com/docs/serverless/functions-assets/runtime-handler
 * lists node18 as deprecated, node20 and node22 as current; whether node18 builds are still accepted is unconfirmed).
 */
export const SUPPORTED_RUNTIMES = ['node18', 'node20', 'node22'];

/** Why a build cannot complete, or null when it can. */
export function buildFailure(
  build: Pick<ServerlessBuild, 'runtime' | 'dependencies'>,
  root = PROJECT_ROOT,
): string | null {
  if (!DOCUMENTED_RUNTIMES.includes(build.runtime))
    return `Runtime "${build.runtime}" is not a Twilio Functions runtime`;
  if (!SUPPORTED_RUNTIMES.includes(build.runtime))
    return `Runtime "${build.runtime}" is no longer supported for new builds`;
  for (const dependency of build.dependencies) {
    const problem = dependencyProblem(dependency, root);
    if (problem) return problem;
  }
  return null;
}

function installedVersion(name: string, root: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function dependencyProblem({ name, version }: Dependency, root: string): string | null {
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return `Dependency "${name}" is not a valid package name`;
  const installed = installedVersion(name, root);
  if (!installed)
    return `Dependency ${name}@${version} could not be installed: the package is not installed here (the emulator never downloads)`;
  const range = version === 'latest' ? '*' : version;
  if (semver.validRange(range) === null)
    return `Dependency ${name}@${version}: "${version}" is not a version range the emulator can resolve`;
  if (!semver.satisfies(installed, range, { includePrerelease: true })) {
    return `Dependency ${name}@${version} could not be installed: only ${installed} is installed here`;
  }
  return null;
}

/** Parses the Build's `Dependencies` parameter: a JSON list of {name, version}, which twilio-run sends quoted once more. */
export function parseDependencies(raw: string | null): Dependency[] | string {
  if (raw === null || raw.trim() === '') return [];
  let text = raw.trim();
  // @twilio-labs/serverless-api triggerBuild sends `"${JSON.stringify(dependencies)}"`.
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) text = text.slice(1, -1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'Dependencies must be a JSON list of {"name", "version"} objects';
  }
  if (!Array.isArray(parsed)) return 'Dependencies must be a JSON list of {"name", "version"} objects';
  const dependencies: Dependency[] = [];
  for (const entry of parsed) {
    if (!entry || typeof entry.name !== 'string' || typeof entry.version !== 'string') {
      return 'Each dependency needs a string "name" and "version"';
    }
    dependencies.push({ name: entry.name, version: entry.version });
  }
  return dependencies;
}

/** A fresh folder for one emulator's builds. */
export function createBuildsFolder(): string {
  return mkdtempSync(join(tmpdir(), 'flex-sync-emulator-builds-'));
}

/** Lays a completed build out under `parent` and returns its folder: functions/<ZN…>.js, assets/<ZN…>, node_modules/<dep>. */
export function layOutBuild(
  parent: string,
  build: ServerlessBuild,
  versions: ServerlessVersion[],
  root = PROJECT_ROOT,
): string {
  const dir = join(parent, build.sid);
  mkdirSync(join(dir, 'functions'), { recursive: true });
  mkdirSync(join(dir, 'assets'), { recursive: true });
  for (const version of versions) {
    const file =
      version.kind === 'function' ? join(dir, 'functions', `${version.sid}.js`) : join(dir, 'assets', version.sid);
    writeFileSync(file, version.content);
  }
  const dependencies = Object.fromEntries(build.dependencies.map((d) => [d.name, d.version]));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: build.sid.toLowerCase(), private: true, dependencies }, null, 2),
  );
  for (const { name } of build.dependencies) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync(join(root, 'node_modules', name), link, 'dir');
  }
  return dir;
}

/** Removes a builds folder and everything laid out in it. */
export function removeBuildsFolder(parent: string): void {
  rmSync(parent, { recursive: true, force: true });
}
