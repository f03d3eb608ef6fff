/**
 * Benchmark of a parallel backfill (`npm run bench -- sync-job-parallel`): the same seeded backlog synced by one
 * shard (the regular run) and by SHARDS shards at once (`npm run sync-calls -- --parallel`), in the same run, with
 * every Twilio request 100 ms slow (a realistic round trip from a Functions instance) and the emulator's
 * account-wide concurrency limit on (over it: 429 / 20429, which the job backs off from).
 *
 * Reported: calls synced per second for each, the speedup, items written twice (an item create that found its
 * item there already) and missing (a completed reservation without its item), the 429s of the account limit, and
 * the wall time of a 3M-item backfill (a 5,000-agent center's 30 days) projected from the measured rates.
 *
 * Locally every shard runs in one twilio-run process (scripts/lib/functions-server.ts: no fork per request), where
 * production gives each invocation its own instance: each shard keys its limiter and its HTTP connection pool by
 * shard, so that it gets what its own instance would have, and nothing one shard does can pace another.
 */
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator, type Emulator, type ObservedAnswer } from '../../emulator/server';
import { handledCalls } from '../../test/helpers/handled-calls';
import { freePort } from '../../test/helpers/ports';
import { buildForBench } from '../lib/bench-build';
import { reportBench } from '../lib/bench-report';
import { startFunctionsServer } from '../lib/functions-server';
import { localFunctionEnv } from '../lib/local-env';
import { formatDuration } from '../lib/progress';
import { syncShards, type SyncShardsResult } from '../sync-calls';

const AGENTS = 240;
const CALLS_PER_AGENT = 20;
const DAYS = 20;
const SHARDS = 4;
const LATENCY_MS = 100;
/** Account-wide requests in flight (the real limit depends on the account). */
const ACCOUNT_CONCURRENCY = 100;
/** SYNC_WRITE_CONCURRENCY of each shard: SHARDS × this, plus reads, stays under the account limit. */
const CONCURRENCY = 16;
const BUDGET_MS = 8000;
const SEED = 17;
const BACKFILL_ITEMS = 3_000_000;
/** The target: SHARDS shards reach at least this many times one shard's calls/s. */
const SPEEDUP_TARGET = 3;

interface Measured {
  calls: number;
  ms: number;
  result: SyncShardsResult;
  /** Item creates answered 409 / 54208: the record was sent again although its item was there. */
  duplicates: number;
  missing: number;
  concurrencyLimited: number;
  requests: number;
}

const ITEM_CREATE = '/v1/Services/:ServiceSid/Maps/:MapSid/Items';

function itemsInSync(emulator: Emulator): Set<string> {
  const service = emulator.state.sync.services.get(emulator.config.syncServiceSid)!;
  return new Set([...service.maps.values()].flatMap((m) => [...m.items.keys()].map((k) => `${m.uniqueName}|${k}`)));
}

async function backfill(emulator: Emulator, url: string, shards: number): Promise<Measured> {
  const admin = new EmulatorAdmin(emulator.url);
  await admin.reset();
  await admin.seed({ agents: AGENTS, callsPerAgent: CALLS_PER_AGENT, days: DAYS, seed: SEED });
  await admin.advanceClock(120);
  await admin.setLimits({ accountConcurrency: ACCOUNT_CONCURRENCY });
  await admin.faults({ latencyMs: LATENCY_MS });
  let duplicates = 0;
  const watch = (answer: ObservedAnswer) => {
    if (answer.method === 'POST' && answer.pattern === ITEM_CREATE && answer.status === 409) duplicates += 1;
  };
  emulator.observers.push(watch);
  const before = await admin.stats();
  const started = performance.now();
  const result = await syncShards({
    url,
    authToken: emulator.config.authToken,
    shards,
    maxInvocations: 100,
    handover: false,
    log: (line) => console.log(`  ${line}`),
  });
  const ms = performance.now() - started;
  const after = await admin.stats();
  emulator.observers.splice(emulator.observers.indexOf(watch), 1);
  await admin.faults({});
  await admin.setLimits({ accountConcurrency: 0 });
  if (!result.done) throw new Error(`the ${shards}-shard backfill did not finish: ${result.error}`);
  const present = itemsInSync(emulator);
  const expected = handledCalls(emulator).map((c) => c.key);
  return {
    calls: expected.length,
    ms,
    result,
    duplicates,
    missing: expected.filter((key) => !present.has(key)).length,
    concurrencyLimited: after.concurrencyLimited - before.concurrencyLimited,
    requests: after.total - (after.byFamily.admin ?? 0) - (before.total - (before.byFamily.admin ?? 0)),
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export async function run(): Promise<void> {
  const build = await buildForBench('bench');
  const functionsDir = build.functionsDir;
  const emulator = await startEmulator({ writeRatePerSecond: 20, writeBurstSeconds: 1 });
  const port = await freePort();
  const functions = await startFunctionsServer({
    port,
    env: localFunctionEnv(emulator.config, emulator.url, {
      SYNC_JOB_BUDGET_MS: String(BUDGET_MS),
      SYNC_WRITE_CONCURRENCY: String(CONCURRENCY),
    }),
    functionsFolder: functionsDir,
  });
  const url = `http://localhost:${port}/sync-recent-calls`;
  try {
    console.log(`  1 shard (the regular run):`);
    const single = await backfill(emulator, url, 1);
    console.log(`  ${SHARDS} shards at once:`);
    const parallel = await backfill(emulator, url, SHARDS);
    if (parallel.calls !== single.calls) throw new Error(`seeds differ: ${single.calls} vs ${parallel.calls} calls`);
    const singleRate = single.calls / (single.ms / 1000);
    const rate = parallel.calls / (parallel.ms / 1000);
    const speedup = rate / singleRate;
    const projected = BACKFILL_ITEMS / rate;
    const projectedSingle = BACKFILL_ITEMS / singleRate;

    console.log(
      `\n  ${AGENTS} agents × ${CALLS_PER_AGENT} calls over ${DAYS} days (${single.calls} completed reservations); +${LATENCY_MS} ms per request; ` +
        `account limit ${ACCOUNT_CONCURRENCY} requests in flight; SYNC_WRITE_CONCURRENCY ${CONCURRENCY} per shard; ${BUDGET_MS / 1000} s budget`,
    );
    console.log('');
    console.log('  backfill   | calls | wall s | calls/s | invocations | requests | 429 (account) | twice | missing');
    console.log('  -----------|-------|--------|---------|-------------|----------|---------------|-------|--------');
    for (const [name, m] of [
      ['1 shard', single],
      [`${SHARDS} shards`, parallel],
    ] as const) {
      console.log(
        `  ${name.padEnd(10)} | ${String(m.calls).padStart(5)} | ${fmt(m.ms / 1000).padStart(6)} | ${fmt(m.calls / (m.ms / 1000), 0).padStart(7)} | ` +
          `${String(m.result.invocations).padStart(11)} | ${String(m.requests).padStart(8)} | ${String(m.concurrencyLimited).padStart(13)} | ` +
          `${String(m.duplicates).padStart(5)} | ${String(m.missing).padStart(7)}`,
      );
    }
    console.log(
      `\n  speedup ${fmt(speedup, 2)}× with ${SHARDS} shards (target ≥ ${SPEEDUP_TARGET}×: ${speedup >= SPEEDUP_TARGET ? 'met' : 'NOT met'})`,
    );
    console.log(
      `  a ${BACKFILL_ITEMS.toLocaleString('en-US')}-item backfill at these rates: ${formatDuration(projected)} with ${SHARDS} shards, ` +
        `${formatDuration(projectedSingle)} with 1 (a larger center has more maps: the per-map pace does not bind, concurrency × shards does)`,
    );
    reportBench({
      bench: 'sync-job-parallel',
      shards: SHARDS,
      calls: parallel.calls,
      callsPerSecond: rate,
      singleShardCallsPerSecond: singleRate,
      speedup,
      speedupTarget: SPEEDUP_TARGET,
      duplicates: parallel.duplicates + single.duplicates,
      missing: parallel.missing + single.missing,
      accountLimited: parallel.concurrencyLimited,
      latencyMs: LATENCY_MS,
      accountConcurrency: ACCOUNT_CONCURRENCY,
      concurrencyPerShard: CONCURRENCY,
      projectedBackfillItems: BACKFILL_ITEMS,
      projectedBackfillSeconds: projected,
      projectedSingleShardBackfillSeconds: projectedSingle,
    });
  } finally {
    await functions.stop();
    await emulator.close();
    build.remove();
  }
}
