/**
 * Prints the hostile suite's figures as one plain-text table at the end of `npm run test:hostile` (readable in CI
 * logs). Each test file writes its figures to test-artifacts/hostile/<name>.json (support/figures.ts); stale files
 * are removed when a run starts, so the table only ever shows this run.
 */
const { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const WIDTH = 100;
const ORDER = ['token-endpoint', 'sync-job-faults', 'audit'];

class HostileSummaryReporter {
  constructor(globalConfig) {
    this.dir = join(globalConfig.rootDir, 'test-artifacts', 'hostile');
  }

  onRunStart() {
    if (existsSync(this.dir)) {
      for (const name of readdirSync(this.dir))
        if (/\.(json|txt)$/.test(name)) rmSync(join(this.dir, name), { force: true });
    }
    mkdirSync(this.dir, { recursive: true });
  }

  onRunComplete(_contexts, results) {
    const files = existsSync(this.dir) ? readdirSync(this.dir).filter((n) => n.endsWith('.json')) : [];
    const rank = (name) => {
      const i = ORDER.indexOf(name.replace(/\.json$/, ''));
      return i < 0 ? ORDER.length : i;
    };
    files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const out = [];
    const rule = (ch) => out.push(ch.repeat(WIDTH));
    out.push('');
    rule('=');
    out.push('HOSTILE SUITE SUMMARY');
    rule('=');
    let checks = 0;
    let failedChecks = 0;
    for (const name of ORDER) {
      if (!files.includes(`${name}.json`)) out.push(`(${name}: no figures written - the file did not run or crashed)`);
    }
    for (const file of files) {
      let data;
      try {
        data = JSON.parse(readFileSync(join(this.dir, file), 'utf8'));
      } catch (error) {
        out.push(`${file}: unreadable (${error.message})`);
        continue;
      }
      for (const section of data.sections || []) {
        out.push('');
        out.push(section.title);
        rule('-');
        for (const row of section.rows || []) {
          const value = String(row.value);
          let verdict = '';
          if (row.ok !== undefined) {
            checks += 1;
            if (!row.ok) failedChecks += 1;
            verdict = row.ok ? 'ok' : 'FAIL';
          }
          const expect = row.expect !== undefined ? `expect ${row.expect}` : '';
          const label = `${row.label} `.padEnd(44, '.');
          out.push(`${label} ${value.padStart(10)}  ${expect.padEnd(34)} ${verdict}`.trimEnd());
        }
        for (const note of section.notes || []) out.push(`  note: ${note}`);
      }
    }
    const failureFiles = existsSync(this.dir) ? readdirSync(this.dir).filter((n) => n.endsWith('-failures.txt')) : [];
    if (failureFiles.length > 0) {
      out.push('');
      out.push(`failing requests in full: ${failureFiles.map((n) => `test-artifacts/hostile/${n}`).join(', ')}`);
    }
    out.push('');
    rule('-');
    out.push(
      `checks: ${checks - failedChecks} ok, ${failedChecks} failed | tests: ${results.numPassedTests} passed, ` +
        `${results.numFailedTests} failed | suites: ${results.numPassedTestSuites} passed, ${results.numFailedTestSuites} failed`,
    );
    rule('=');
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

module.exports = HostileSummaryReporter;
