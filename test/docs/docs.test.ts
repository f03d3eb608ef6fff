/**
 * The documentation (README.md and docs/*.md) states facts the code can confirm; this test confirms them:
 * - every npm script a page names exists in package.json;
 * - every environment variable a page names is read by the code or listed in .env.example, and every variable the
 *   code reads or .env.example lists is named in a page; .env.example lists only variables the code reads, and every
 *   variable the functions read is in .env.example (except the ones the Functions runtime provides);
 * - every error code in a page's table (a table with a "code" column) is in the functions' registry
 *   (src/http/error-codes.ts) or the browser client's codes, every code is in a table, and a table's status for a code
 *   is the registry's;
 * - every relative link resolves to a file of the repository (and to a heading, when it names one), and the README
 *   links every page under docs/.
 * Pure file reads inside the checkout: no server, no network.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { CLIENT_ERROR_CODES } from '../../src/client/errors';
import { ERROR_CODES } from '../../src/http/error-codes';

const ROOT = resolve(__dirname, '..', '..');

function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(ext)) out.push(path);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const read = (path: string) => readFileSync(path, 'utf8');
const rel = (path: string) => relative(ROOT, path).split(sep).join('/');

const DOC_FILES = [join(ROOT, 'README.md'), ...filesUnder(join(ROOT, 'docs'), '.md')];
const DOCS = DOC_FILES.map((path) => ({ path, name: rel(path), text: read(path) }));

/** Markdown without fenced code blocks (headings and links inside them are not headings and links). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

// --- what the code says -------------------------------------------------------------------------------------------

const SERVER_SOURCES = ['src', 'scripts', 'emulator'].flatMap((dir) => filesUnder(join(ROOT, dir), '.ts'));
const FUNCTION_SOURCES = filesUnder(join(ROOT, 'src'), '.ts').filter((path) => !rel(path).startsWith('src/client/'));
const TEST_SOURCES = filesUnder(join(ROOT, 'test'), '.ts');

const NAME = '[A-Z][A-Z0-9_]*[A-Z0-9]';

/** Environment variables a source file reads: process.env, the typed readers, and the Functions context. */
function envReads(source: string): string[] {
  const patterns = [
    new RegExp(`process\\.env\\.(${NAME})`, 'g'),
    new RegExp(`process\\.env\\[['"](${NAME})['"]\\]`, 'g'),
    // requiredString(env, 'X'), integerInRange(context, 'X', …), portFromEnv('X', …), pick('X'), numberFromEnv('X', …)
    new RegExp(
      `\\b(?:requiredString|optionalString|integerInRange|list|boolean|portFromEnv|numberFromEnv|pick)\\(\\s*(?:\\w+,\\s*)?['"](${NAME})['"]`,
      'g',
    ),
    new RegExp(`\\bcontext\\.(${NAME})\\b`, 'g'),
    new RegExp(`\\bcontext\\[['"](${NAME})['"]\\]`, 'g'),
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]));
}

const unique = (values: Iterable<string>) => [...new Set(values)].sort();

const SERVER_ENV = unique(SERVER_SOURCES.flatMap((path) => envReads(read(path))));
const FUNCTION_ENV = unique(FUNCTION_SOURCES.flatMap((path) => envReads(read(path))));
const TEST_ENV = unique(TEST_SOURCES.flatMap((path) => envReads(read(path))));
/** Set by the Functions runtime (or the shell), not by the project's .env. */
const PROVIDED_BY_RUNTIME = ['DOMAIN_NAME', 'PATH'];

const ENV_EXAMPLE = unique(
  [...read(join(ROOT, '.env.example')).matchAll(new RegExp(`^#?\\s*(${NAME})=`, 'gm'))].map((m) => m[1]),
);

/** Error codes the code defines: the functions' registry (with each code's status) and the browser client's own. */
const CODE_ERROR_CODES = unique([...Object.keys(ERROR_CODES), ...Object.values(CLIENT_ERROR_CODES)]);

const PACKAGE_SCRIPTS = Object.keys(JSON.parse(read(join(ROOT, 'package.json'))).scripts ?? {});

// --- what the docs say --------------------------------------------------------------------------------------------

function npmScriptsNamed(text: string): string[] {
  const run = [...text.matchAll(/\bnpm\s+(?:run|run-script)(?:\s+-s|\s+--silent)?\s+([a-z][\w:.-]*)/g)].map(
    (m) => m[1],
  );
  const builtIn = [...text.matchAll(/\bnpm\s+(start|test|stop|restart)\b/g)].map((m) => m[1]);
  return [...run, ...builtIn];
}

/** Upper-snake names written as inline code (`NAME` or `NAME=value`): variables or error codes. */
function inlineNames(text: string): string[] {
  return [...prose(text).matchAll(new RegExp(`\`(${NAME})(?:=[^\`]*)?\``, 'g'))].map((m) => m[1]);
}

/** The error codes in every table with a "code" column, with the row's status when the table has a "status" column. */
function tableErrorCodes(text: string): Array<{ code: string; status?: number }> {
  const rows: Array<{ code: string; status?: number }> = [];
  const lines = prose(text).split('\n');
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((c) => c.trim());
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trim().startsWith('|') || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1])) continue;
    const header = cells(lines[i]).map((cell) => cell.toLowerCase());
    const column = header.indexOf('code');
    if (column < 0) continue;
    const statusColumn = header.indexOf('status');
    for (let row = i + 2; row < lines.length && lines[row].trim().startsWith('|'); row++) {
      const cell = cells(lines[row])[column] ?? '';
      const status = statusColumn < 0 ? undefined : Number(cells(lines[row])[statusColumn]);
      for (const m of cell.matchAll(new RegExp(`\`(${NAME})\``, 'g'))) rows.push({ code: m[1], status });
    }
  }
  return rows;
}

const tableCodes = (text: string) => tableErrorCodes(text).map((row) => row.code);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

// --- the checks ---------------------------------------------------------------------------------------------------

describe('documentation', () => {
  test('finds the pages and the facts it checks (a broken extractor must not pass silently)', () => {
    expect(DOCS.map((d) => d.name)).toEqual(
      expect.arrayContaining(['README.md', 'docs/endpoints.md', 'docs/configuration.md']),
    );
    expect(SERVER_ENV).toEqual(
      expect.arrayContaining(['SYNC_TOKEN_TTL', 'AUTH_TOKEN', 'EMULATOR_PORT', 'TWILIO_EMULATOR_URL']),
    );
    expect(ENV_EXAMPLE).toEqual(expect.arrayContaining(['SYNC_TOKEN_TTL', 'SYNC_TOKEN_ALLOWED_ROLES']));
    expect(CODE_ERROR_CODES).toEqual(expect.arrayContaining(['FLEX_TOKEN_EXPIRED', 'PAGE_TOKEN_INVALID', 'INTERNAL']));
    expect(DOCS.flatMap((d) => tableCodes(d.text))).toEqual(expect.arrayContaining(['TTL_OUT_OF_RANGE']));
    expect(DOCS.flatMap((d) => tableErrorCodes(d.text))).toContainEqual({ code: 'FLEX_TOKEN_EXPIRED', status: 401 });
    expect(DOCS.flatMap((d) => npmScriptsNamed(d.text))).toEqual(
      expect.arrayContaining(['start', 'test', 'sync-calls']),
    );
  });

  test('every npm script a page names exists in package.json', () => {
    const missing = DOCS.flatMap((d) =>
      npmScriptsNamed(d.text)
        .filter((s) => !PACKAGE_SCRIPTS.includes(s))
        .map((s) => `${d.name}: npm ${s}`),
    );
    expect(unique(missing)).toEqual([]);
  });

  test('every upper-case name a page writes as code is a variable the code reads, an .env.example entry or an error code', () => {
    const known = new Set([...SERVER_ENV, ...TEST_ENV, ...ENV_EXAMPLE, ...CODE_ERROR_CODES, ...PROVIDED_BY_RUNTIME]);
    const httpWords = new Set(['GET', 'POST', 'OPTIONS']);
    const unknown = DOCS.flatMap((d) =>
      inlineNames(d.text)
        .filter((n) => !known.has(n) && !httpWords.has(n))
        .map((n) => `${d.name}: ${n}`),
    );
    expect(unique(unknown)).toEqual([]);
  });

  test('every variable the code reads or .env.example lists is named in a page', () => {
    const allText = DOCS.map((d) => d.text).join('\n');
    const undocumented = unique([...SERVER_ENV, ...ENV_EXAMPLE]).filter(
      (name) => !new RegExp(`\\b${name}\\b`).test(allText),
    );
    expect(undocumented).toEqual([]);
  });

  test('.env.example lists only variables the code reads, and every variable the functions read', () => {
    expect(ENV_EXAMPLE.filter((name) => !SERVER_ENV.includes(name))).toEqual([]);
    expect(FUNCTION_ENV.filter((name) => !ENV_EXAMPLE.includes(name) && !PROVIDED_BY_RUNTIME.includes(name))).toEqual(
      [],
    );
  });

  test('every error code in a table exists in the code, and every code the code defines is in a table', () => {
    const documented = unique(DOCS.flatMap((d) => tableCodes(d.text)));
    expect(documented.filter((code) => !CODE_ERROR_CODES.includes(code))).toEqual([]);
    expect(CODE_ERROR_CODES.filter((code) => !documented.includes(code))).toEqual([]);
  });

  test("every status a table gives a code is the registry's status for it", () => {
    const registry: Record<string, number> = ERROR_CODES;
    const wrong = DOCS.flatMap((d) =>
      tableErrorCodes(d.text)
        .filter((row) => row.status !== undefined && row.code in registry && registry[row.code] !== row.status)
        .map((row) => `${d.name}: ${row.status} ${row.code} (the registry says ${registry[row.code]})`),
    );
    expect(unique(wrong)).toEqual([]);
  });

  test('every relative link resolves inside the repository, to a heading when it names one', () => {
    const broken: string[] = [];
    for (const doc of DOCS) {
      for (const link of relativeLinks(doc.text)) {
        const [pathPart, anchor] = link.split('#', 2);
        const target = pathPart === '' ? doc.path : resolve(dirname(doc.path), decodeURIComponent(pathPart));
        if (!target.startsWith(ROOT + sep) || !existsSync(target)) {
          broken.push(`${doc.name}: ${link} (no such file in the repository)`);
          continue;
        }
        if (anchor && target.endsWith('.md') && !anchorsOf(read(target)).has(anchor)) {
          broken.push(`${doc.name}: ${link} (no such heading in ${rel(target)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  test('the README links every page under docs/', () => {
    const readme = DOCS.find((d) => d.name === 'README.md')!;
    const linked = new Set(relativeLinks(readme.text).map((link) => link.split('#')[0]));
    const pages = DOCS.filter((d) => d.name.startsWith('docs/')).map((d) => d.name);
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });
});
