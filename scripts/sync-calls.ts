/**
 * `npm run sync-calls -- --url <function URL> [--max-invocations N] [--parallel N]`: the scheduler's client for
 * /sync-recent-calls.
 *
 * With `--parallel N` (a backfill), N loops run at once, loop i calling the function with ShardIndex=i and
 * ShardCount=N (each invocation of a shard syncs that shard's agents only, with its own checkpoint), until every
 * shard is done; then one regular run hands over: it continues from where the slowest shard ended
 * (docs/performance.md "Parallel backfill"). Progress and totals are the shards' sums.
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
import { barReporter, plainReporter, shardReporters, type ProgressReporter } from './lib/progress';
import { MAX_SHARD_COUNT } from '../src/recent-calls/shard';

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
  /** Extra signed form parameters of every invocation (a shard's ShardIndex and ShardCount). */
  params?: Record<string, string>;
  /** Put before each line (a shard's `[1/3]`). */
  label?: string;
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
  const report = (invocations: number, text: string) => {
    const line = options.label ? `${options.label} ${text}` : text;
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
      ...options.params,
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

export interface SyncShardsOptions extends Omit<SyncUntilDoneOptions, 'params' | 'label'> {
  /** How many shards (1: one regular run, as without --parallel). */
  shards: number;
  /** After every shard is done, run the regular job until done (it adopts the shards' cursor). Default true. */
  handover?: boolean;
}

export interface SyncShardsResult extends SyncUntilDoneResult {
  /** Each shard's own result, by index. */
  shards: SyncUntilDoneResult[];
  /** The regular run after the shards, when there was one. */
  handover?: SyncUntilDoneResult;
}

/** The signed parameters of shard `index` of `count`. */
export function shardParams(index: number, count: number): Record<string, string> {
  return { ShardIndex: String(index), ShardCount: String(count) };
}

/**
 * Drives `shards` shards at once, each until done (--max-invocations each), then the handover run. Done when every
 * shard and the handover are; the totals and the progress are the sums of all of them.
 */
export async function syncShards(options: SyncShardsOptions): Promise<SyncShardsResult> {
  const count = options.shards;
  if (count <= 1) {
    const result = await syncUntilDone(options);
    return { ...result, shards: [result] };
  }
  const reporters = options.progress ? shardReporters(options.progress, count + 1) : [];
  const shards = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      syncUntilDone({
        ...options,
        params: shardParams(i, count),
        label: `[${i + 1}/${count}]`,
        progress: reporters[i],
      }),
    ),
  );
  const sum = (results: SyncUntilDoneResult[]) => {
    const totals = { processed: 0, written: 0, skipped: 0, failed: 0 };
    for (const r of results)
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += r.totals[key];
    return totals;
  };
  const notDone = shards.filter((r) => !r.done);
  const base = { invocations: shards.reduce((n, r) => n + r.invocations, 0), shards };
  if (notDone.length > 0) {
    // Only out of invocations: "not done" (exit code 2); a refusal or failure of any shard wins.
    const failure = notDone.find((r) => !r.error?.startsWith('not done'));
    const error = failure
      ? `shard ${shards.indexOf(failure) + 1}/${count} failed: ${failure.error}`
      : `not done after ${options.maxInvocations ?? 50} invocations per shard (${notDone.length} of ${count} shards)`;
    return { ...base, done: false, totals: sum(shards), error };
  }
  if (options.handover === false) return { ...base, done: true, totals: sum(shards) };
  const handover = await syncUntilDone({ ...options, label: '[handover]', progress: reporters[count] });
  return {
    done: handover.done,
    invocations: base.invocations + handover.invocations,
    totals: sum([...shards, handover]),
    last: handover.last,
    error: handover.error,
    shards,
    handover,
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

interface Args {
  url?: string;
  maxInvocations?: number;
  parallel?: number;
  help?: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = {};
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
    else if (arg === '--parallel') out.parallel = Number(value());
    else if (arg.startsWith('--parallel=')) out.parallel = Number(arg.slice(11));
    else if (arg === '--help' || arg === '-h') out.help = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return out;
}

const USAGE =
  'usage: npm run sync-calls -- --url <https://your-domain/sync-recent-calls> [--max-invocations 50] [--parallel N]';

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
  const parallel = args.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_SHARD_COUNT) {
    console.error(`--parallel must be a whole number from 1 to ${MAX_SHARD_COUNT}`);
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
  const result = await syncShards({ url: args.url, authToken, maxInvocations, progress, shards: parallel });
  const t = result.totals;
  const seconds = (Date.now() - started) / 1000;
  progress.finish(
    `${result.done ? 'done' : 'NOT done'} after ${result.invocations} invocation(s)${parallel > 1 ? ` of ${parallel} shards and the handover` : ''}: written=${t.written} skipped=${t.skipped} failed=${t.failed}` +
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
