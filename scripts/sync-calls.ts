/**
 * `npm run sync-calls -- --url <function URL> [--max-invocations N]`: the scheduler's client for /sync-recent-calls.
 *
 * Signs each request as Twilio does (X-Twilio-Signature: HMAC-SHA1 of the URL followed by the sorted form parameters,
 * keyed with the auth token, base64) and calls the function until it answers `done`, printing progress. The URL
 * must be the function's public URL exactly as the function rebuilds it (deployed: https://<domain>/sync-recent-calls;
 * local twilio-run: http://localhost:<port>/sync-recent-calls), because the signature covers it.
 *
 * AUTH_TOKEN comes from the environment, else from ./.env. Exit codes: 0 done; 1 refused or failing; 2 not done
 * within --max-invocations.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import twilio from 'twilio';
import type { JobSummary } from '../src/recent-calls/job';
import { barReporter, plainReporter, type ProgressReporter } from './lib/progress';

/** What one invocation answers (the job's summary). */
export type RunSummary = JobSummary;

export interface SyncUntilDoneOptions {
  url: string;
  authToken: string;
  maxInvocations?: number;
  /** Consecutive 5xx / network failures tolerated before giving up. */
  maxConsecutiveErrors?: number;
  log?: (line: string) => void;
  /** Shows each invocation (a terminal's progress bar); default: each invocation's line goes to `log`. */
  progress?: ProgressReporter;
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout (the function answers within ~10 s). */
  timeoutMs?: number;
}

export interface SyncUntilDoneResult {
  done: boolean;
  invocations: number;
  totals: { processed: number; written: number; skipped: number; failed: number };
  last?: RunSummary;
  error?: string;
}

/** The form parameters and headers of one signed invocation. */
export function signedRequest(url: string, authToken: string, params: Record<string, string>) {
  const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
  return {
    body: new URLSearchParams(params).toString(),
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Twilio-Signature': signature,
    },
  };
}

export async function syncUntilDone(options: SyncUntilDoneOptions): Promise<SyncUntilDoneResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const maxInvocations = options.maxInvocations ?? 50;
  const maxErrors = options.maxConsecutiveErrors ?? 3;
  const totals = { processed: 0, written: 0, skipped: 0, failed: 0 };
  let consecutiveErrors = 0;
  let last: RunSummary | undefined;
  const startedAt = Date.now();
  const report = (invocations: number, line: string) => {
    if (!options.progress) return log(line);
    options.progress.update(
      {
        invocations,
        written: totals.written,
        remaining: Number(last?.remaining ?? 0),
        remainingExact: last ? last.remainingExact !== false : false,
        elapsedMs: Date.now() - startedAt,
      },
      line,
    );
  };

  for (let n = 1; n <= maxInvocations; n++) {
    const started = Date.now();
    const request = signedRequest(options.url, options.authToken, {
      Invocation: String(n),
      RequestedAt: new Date().toISOString(),
    });
    let status = 0;
    let payload: unknown;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
      status = response.status;
      payload = await response.json().catch(() => undefined);
    } catch (error) {
      payload = { message: (error as Error).message };
    }
    const ms = Date.now() - started;
    if (status === 200 && payload && typeof payload === 'object' && 'done' in payload) {
      consecutiveErrors = 0;
      last = payload as RunSummary;
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += Number(last[key] ?? 0);
      if (last.busy) {
        report(n, `#${n} another run is in progress; waiting (${ms} ms)`);
        await sleep(2000);
        continue;
      }
      report(
        n,
        `#${n} written=${last.written} skipped=${last.skipped} failed=${last.failed} remaining${last.remainingExact === false ? '≥' : '='}${last.remaining} ` +
          `syncedThrough=${last.syncedThrough ?? '-'} done=${last.done} (${ms} ms)`,
      );
      if (last.done) return { done: true, invocations: n, totals, last };
      continue;
    }
    const detail = payload && typeof payload === 'object' ? JSON.stringify(payload).slice(0, 300) : String(payload);
    if (status >= 400 && status < 500) {
      report(n, `#${n} refused: HTTP ${status} ${detail}`);
      return { done: false, invocations: n, totals, last, error: `HTTP ${status}` };
    }
    consecutiveErrors += 1;
    report(n, `#${n} failed: ${status ? `HTTP ${status}` : 'no answer'} ${detail} (${ms} ms)`);
    if (consecutiveErrors >= maxErrors) {
      return { done: false, invocations: n, totals, last, error: `${consecutiveErrors} failures in a row` };
    }
    await sleep(Math.min(10_000, 1000 * 2 ** (consecutiveErrors - 1)));
  }
  return {
    done: false,
    invocations: maxInvocations,
    totals,
    last,
    error: `not done after ${maxInvocations} invocations`,
  };
}

function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    let value = m[2];
    if (/^"(.*)"$/.test(value) || /^'(.*)'$/.test(value)) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}

function parseArgs(argv: string[]): { url?: string; maxInvocations?: number; help?: boolean } {
  const out: { url?: string; maxInvocations?: number; help?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--url') out.url = value();
    else if (arg.startsWith('--url=')) out.url = arg.slice(6);
    else if (arg === '--max-invocations') out.maxInvocations = Number(value());
    else if (arg.startsWith('--max-invocations=')) out.maxInvocations = Number(arg.slice(18));
    else if (arg === '--help' || arg === '-h') out.help = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return out;
}

const USAGE = 'usage: npm run sync-calls -- --url <https://your-domain/sync-recent-calls> [--max-invocations 50]';

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 1;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!args.url || !/^https?:\/\/[^/]+\/\S*$/.test(args.url)) {
    console.error(`--url must be the function's full URL\n${USAGE}`);
    return 1;
  }
  const maxInvocations = args.maxInvocations ?? 50;
  if (!Number.isInteger(maxInvocations) || maxInvocations < 1 || maxInvocations > 1000) {
    console.error('--max-invocations must be a whole number from 1 to 1000');
    return 1;
  }
  const authToken = process.env.AUTH_TOKEN || readDotEnv(join(process.cwd(), '.env')).AUTH_TOKEN;
  if (!authToken) {
    console.error('AUTH_TOKEN is not set (environment or .env): it signs the requests');
    return 1;
  }
  // A bar on a terminal; plain lines in logs, CI and pipes.
  const progress = process.stdout.isTTY ? barReporter(process.stdout) : plainReporter((line) => console.log(line));
  const started = Date.now();
  const result = await syncUntilDone({ url: args.url, authToken, maxInvocations, progress });
  const t = result.totals;
  const seconds = (Date.now() - started) / 1000;
  progress.finish(
    `${result.done ? 'done' : 'NOT done'} after ${result.invocations} invocation(s): written=${t.written} skipped=${t.skipped} failed=${t.failed}` +
      ` in ${seconds.toFixed(1)} s (${(t.written / Math.max(seconds, 0.001)).toFixed(1)} written/s)` +
      (result.error ? ` (${result.error})` : ''),
  );
  if (result.done) return 0;
  return result.error?.startsWith('not done') ? 2 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
