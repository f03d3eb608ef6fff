/**
 * Deployed Functions live in files named by SID (/var/task/files/ZN…) next to node_modules and nothing else, so a
 * built function that requires a sibling file breaks only after deploy. Each built function is loaded here from such
 * a folder, in a fresh Node process.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const built = process.env.FUNCTIONS_DIST!;

function builtFunctions(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return builtFunctions(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

/** Loads `file` alone in a deployed-like folder; returns what `typeof handler` is, or the load error. */
function loadInIsolation(file: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'isolated-function-'));
  try {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const target = join(dir, `ZN${randomBytes(16).toString('hex')}.js`);
    copyFileSync(file, target);
    return execFileSync(
      process.execPath,
      ['-e', `process.stdout.write(typeof require(${JSON.stringify(target)}).handler)`],
      {
        cwd: dir,
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (error) {
    return `load failed: ${(error as { stderr?: string }).stderr ?? error}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('built functions', () => {
  const files = builtFunctions(built);

  it('exist for every source entry', () => {
    const sources = readdirSync(join(root, 'src', 'functions')).filter((f) => f.endsWith('.ts'));
    expect(files.map((f) => relative(built, f).replace(/\.js$/, '.ts')).sort()).toEqual(sources.sort());
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [relative(built, f), f]))(
    '%s loads alone, with only node_modules beside it',
    (_name, file) => {
      expect(loadInIsolation(file)).toBe('function');
    },
  );

  it('detects a function that requires a sibling file (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-function-'));
    try {
      writeFileSync(join(dir, 'helper.js'), 'module.exports = 1;');
      writeFileSync(join(dir, 'bad.js'), "require('./helper'); exports.handler = () => {};");
      expect(loadInIsolation(join(dir, 'bad.js'))).toMatch(/load failed: .*Cannot find module '\.\/helper'/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
