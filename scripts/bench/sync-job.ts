/**
 * Benchmark of the recent-calls sync (`npx tsx scripts/bench.ts sync-job`).
 *
 * The emulator (Sync's 20 writes/s per object, 25 ms added to every Twilio request, or BENCH_LATENCY_MS) with 200
 * agents × 25 handled calls; the built /sync-recent-calls under twilio-run, driven by the trigger script's loop until
 * done. Reported in the same run:
 * - calls synced per second, as a fraction of the ceiling min(maps × 20/s, concurrency / request latency);
 * - Twilio API requests per synced call (emulator /__admin/stats, admin routes excluded);
 * - invocations needed;
 * next to a naive sequential writer (fetch-or-create the map, then create the item, per call, flat 1 s retry),
 * run on a 20-agent subset (it would need minutes for all 5000) and extrapolated.
 */
import { availableParallelism } from 'node:os';
import twilio, { type Twilio } from 'twilio';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator, type Emulator, type ObservedAnswer } from '../../emulator/server';
import { itemKeyFromRestEvent } from '../../src/recent-calls/item-key';
import { recentCallsMapName } from '../../src/recent-calls/map-name';
import { TwilioHttpClient } from '../../src/twilio/http-client';
import { hasStatus, hasTwilioCode } from '../../src/twilio/errors';
import { buildForBench } from '../lib/bench-build';
import { startFunctionsServer } from '../lib/functions-server';
import { localFunctionEnv } from '../lib/local-env';
import { reportBench } from '../lib/bench-report';
import { syncUntilDone } from '../sync-calls';
import { freePort } from '../../test/helpers/ports';
import { processCpuMs } from './token';

const AGENTS = 200;
const CALLS_PER_AGENT = 25;
const NAIVE_AGENTS = 20;
/** Added to every Twilio request. At 25 ms the function's one thread is near its CPU bound at the ceiling's pace. */
const LATENCY_MS = latencyMs(process.env.BENCH_LATENCY_MS);
const SYNC_RATE = 20;
const CONCURRENCY = 32; // SYNC_WRITE_CONCURRENCY default
const BUDGET_MS = 8000;
const DAYS = 20; // every seeded call inside the 30-day TTL window

function latencyMs(setting: string | undefined): number {
  if (setting === undefined || setting === '') return 25;
  const ms = Number(setting);
  if (!Number.isInteger(ms) || ms < 0 || ms > 5000)
    throw new Error(`BENCH_LATENCY_MS must be 0–5000 ms, not ${setting}`);
  return ms;
}

type Stats = Awaited<ReturnType<EmulatorAdmin['stats']>>;

function twilioRequests(before: Stats, after: Stats): number {
  const count = (s: Stats) => s.total - (s.byFamily.admin ?? 0);
  return count(after) - count(before);
}

/** Requests on the routes whose key (`METHOD /pattern`) passes `test`, between two stats snapshots. */
function routeRequests(before: Stats, after: Stats, test: (route: string) => boolean): number {
  let total = 0;
  for (const [route, count] of Object.entries(after.byRoute)) {
    if (test(route)) total += count - (before.byRoute[route] ?? 0);
  }
  return total;
}

const ITEM_WRITE = /^POST \/v1\/Services\/:ServiceSid\/Maps\/:MapSid\/Items$/;
const CHECKPOINT_SAVE = /^POST \/v1\/Services\/:ServiceSid\/Documents/;
/** Reads: every GET (event, call and worker pages, the checkpoint) of every Twilio family. */
const READ = /^GET /;

function sdk(emulator: Emulator, attempts = 1): { client: Twilio; http: TwilioHttpClient } {
  const http = new TwilioHttpClient({
    emulatorUrl: emulator.url,
    policy: { attempts, baseDelayMs: 0, maxDelayMs: 0 },
  });
  return { client: twilio(emulator.config.accountSid, emulator.config.authToken, { httpClient: http }), http };
}

/** Mean round trip of a Sync request with the injected latency (the per-request cost the concurrency divides). */
async function requestLatencyMs(emulator: Emulator): Promise<number> {
  const { client } = sdk(emulator);
  const service = client.sync.v1.services(emulator.config.syncServiceSid);
  await service.fetch();
  const started = performance.now();
  for (let i = 0; i < 20; i++) await service.fetch();
  return (performance.now() - started) / 20;
}

async function countItems(client: Twilio, serviceSid: string, workerSids: string[]): Promise<number> {
  let total = 0;
  for (const sid of workerSids) {
    total += (
      await client.sync.v1.services(serviceSid).syncMaps(recentCallsMapName(sid)).syncMapItems.list({ pageSize: 100 })
    ).length; // Sync lists: at most 100 per page
  }
  return total;
}

/** The naive writer: reads the completions, then per call fetches or creates the map and creates the item. */
async function naiveSync(emulator: Emulator): Promise<{ calls: number; ms: number }> {
  const { client } = sdk(emulator);
  const flat = async <T>(work: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        const retryable = hasStatus(error, 429) || hasStatus(error, 500) || hasStatus(error, 503);
        if (!retryable || attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  const started = performance.now();
  const now = Date.parse((await new EmulatorAdmin(emulator.url).config()).now);
  const events = await client.taskrouter.v1.workspaces(emulator.config.workspaceSid).events.list({
    eventType: 'reservation.completed',
    taskChannel: 'voice',
    startDate: new Date(now - 30 * 86_400_000),
    pageSize: 1000,
  });
  const service = client.sync.v1.services(emulator.config.syncServiceSid);
  let calls = 0;
  for (const event of events) {
    const data = event.eventData as Record<string, string>;
    const task = JSON.parse(data.task_attributes);
    const callSid: string | null = task.call_sid ?? null;
    const key = itemKeyFromRestEvent(event);
    if (!key) continue;
    const name = recentCallsMapName(data.worker_sid);
    await flat(async () => {
      try {
        await service.syncMaps(name).fetch();
      } catch (error) {
        if (!hasTwilioCode(error, 20404) && !hasStatus(error, 404)) throw error;
        await service.syncMaps.create({ uniqueName: name }).catch((e) => {
          if (!hasTwilioCode(e, 54301)) throw e;
        });
      }
    });
    await flat(() =>
      service
        .syncMaps(name)
        .syncMapItems.create({ key, data: { callSid, taskSid: data.task_sid }, itemTtl: 30 * 86_400 })
        .catch((e) => {
          if (!hasTwilioCode(e, 54208)) throw e;
        }),
    );
    calls += 1;
  }
  return { calls, ms: performance.now() - started };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/**
 * When each item create was answered 201, and when the first Sync write (a map's create or an item) was (ms, this
 * process's clock), from the emulator's own observations.
 */
function recordItemWrites(emulator: Emulator): { times: number[]; firstWrite(): number | undefined; stop(): void } {
  const times: number[] = [];
  let firstWrite: number | undefined;
  const observe = (answer: ObservedAnswer) => {
    if (answer.method !== 'POST' || answer.status !== 201) return;
    const item = answer.pattern.endsWith('/Maps/:MapSid/Items');
    if (item || answer.pattern.endsWith('/Services/:ServiceSid/Maps')) firstWrite ??= performance.now();
    if (item) times.push(performance.now());
  };
  emulator.observers.push(observe);
  return {
    times,
    firstWrite: () => firstWrite,
    stop: () => emulator.observers.splice(emulator.observers.indexOf(observe), 1),
  };
}

/** Items per second between two fractions of the write times (0.25 to 0.75: the middle half). */
function rateBetween(times: number[], fromShare: number, toShare: number): number {
  const first = Math.floor(fromShare * (times.length - 1));
  const last = Math.floor(toShare * (times.length - 1));
  return (last - first) / ((times[last] - times[first]) / 1000);
}

export async function run(): Promise<void> {
  const build = await buildForBench('bench');
  const functionsDir = build.functionsDir;
  const emulator = await startEmulator({ writeRatePerSecond: SYNC_RATE, writeBurstSeconds: 1 });
  const admin = new EmulatorAdmin(emulator.url);
  const port = await freePort();
  const functions = await startFunctionsServer({
    port,
    env: localFunctionEnv(emulator.config, emulator.url, { SYNC_JOB_BUDGET_MS: String(BUDGET_MS) }),
    functionsFolder: functionsDir,
  });
  try {
    // --- the job, all agents -----------------------------------------------------------------------------------
    const seeded = await admin.seed({ agents: AGENTS, callsPerAgent: CALLS_PER_AGENT, days: DAYS });
    await admin.advanceClock(120);
    await admin.faults({ latencyMs: LATENCY_MS });
    const latency = await requestLatencyMs(emulator);
    const before = await admin.stats();
    const itemWrites = recordItemWrites(emulator);
    const cpuBefore = process.cpuUsage();
    const functionsCpuBefore = processCpuMs(functions.pid);
    const started = performance.now();
    const result = await syncUntilDone({
      url: `http://localhost:${port}/sync-recent-calls`,
      authToken: emulator.config.authToken,
      maxInvocations: 50,
      log: (line) => console.log(`  ${line}`),
    });
    const ms = performance.now() - started;
    itemWrites.stop();
    // The middle half: the job's pace once its first reads and map creations are behind it and before its last
    // window drains (the run's figure includes both). The first quarter holds the first window and its map creations.
    const steady = rateBetween(itemWrites.times, 0.25, 0.75);
    const firstQuarter = rateBetween(itemWrites.times, 0, 0.25);
    const firstWriteS = ((itemWrites.firstWrite() ?? started) - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const functionsCpuAfter = processCpuMs(functions.pid);
    const after = await admin.stats();
    await admin.faults({});
    if (!result.done) throw new Error(`the job did not finish: ${result.error}`);
    const synced = await countItems(
      sdk(emulator).client,
      emulator.config.syncServiceSid,
      seeded.agents.map((a) => a.workerSid),
    );
    // One item per completed reservation: a transferred call is in both agents' maps.
    const reservations = seeded.handledCalls + 2 * seeded.transfers;
    if (synced !== reservations) throw new Error(`synced ${synced} items for ${reservations} completed reservations`);
    const requests = twilioRequests(before, after);
    // The floor the job should stay near: one request per written item, two per new map (create, permission),
    // one per page read and per checkpoint save. Everything above it is retries, 429s and duplicate writes.
    const reads = routeRequests(before, after, (route) => READ.test(route));
    const saves = routeRequests(before, after, (route) => CHECKPOINT_SAVE.test(route));
    const requestFloor = synced + 2 * AGENTS + reads + saves;

    // A rerun with nothing new must write nothing.
    const rerunBefore = await admin.stats();
    const rerun = await syncUntilDone({
      url: `http://localhost:${port}/sync-recent-calls`,
      authToken: emulator.config.authToken,
      maxInvocations: 5,
      log: () => undefined,
    });
    const rerunWrites = routeRequests(rerunBefore, await admin.stats(), (route) => ITEM_WRITE.test(route));
    if (!rerun.done) throw new Error(`the rerun did not finish: ${rerun.error}`);
    const rate = synced / (ms / 1000);
    const rateCeiling = AGENTS * SYNC_RATE;
    const concurrencyCeiling = CONCURRENCY / (latency / 1000);
    const ceiling = Math.min(rateCeiling, concurrencyCeiling);

    // --- the naive writer, a subset ----------------------------------------------------------------------------
    await admin.reset();
    const naiveSeed = await admin.seed({ agents: NAIVE_AGENTS, callsPerAgent: CALLS_PER_AGENT, days: DAYS });
    await admin.advanceClock(120);
    await admin.faults({ latencyMs: LATENCY_MS });
    const naiveBefore = await admin.stats();
    const naive = await naiveSync(emulator);
    const naiveAfter = await admin.stats();
    await admin.faults({});
    const naiveRequests = twilioRequests(naiveBefore, naiveAfter);
    const naiveRate = naive.calls / (naive.ms / 1000);
    const naivePerInvocation = naiveRate * (BUDGET_MS / 1000);
    const naiveReservations = naiveSeed.handledCalls + 2 * naiveSeed.transfers;
    if (naive.calls !== naiveReservations) throw new Error(`naive wrote ${naive.calls} of ${naiveReservations}`);

    console.log(
      `\n  ${AGENTS} agents × ${CALLS_PER_AGENT} calls (${synced} handled calls), Sync limit ${SYNC_RATE} writes/s per map, +${LATENCY_MS} ms per request`,
    );
    console.log(
      `  measured request latency ${fmt(latency)} ms; ceiling = min(${AGENTS} maps × ${SYNC_RATE}/s = ${rateCeiling}/s, ${CONCURRENCY} in flight / ${fmt(latency)} ms = ${fmt(concurrencyCeiling, 0)}/s) = ${fmt(ceiling, 0)} calls/s`,
    );
    console.log('');
    console.log(
      '  writer                 | calls | wall s | calls/s | of ceiling | API req/call | invocations (8 s budget)',
    );
    console.log(
      '  -----------------------|-------|--------|---------|------------|--------------|-------------------------',
    );
    console.log(
      `  sync-recent-calls job  | ${String(synced).padStart(5)} | ${fmt(ms / 1000).padStart(6)} | ${fmt(rate, 0).padStart(7)} | ${fmt((100 * rate) / ceiling).padStart(9)}% | ${fmt(requests / synced, 3).padStart(12)} | ${result.invocations} (measured)`,
    );
    console.log(
      `  naive sequential       | ${String(naive.calls).padStart(5)} | ${fmt(naive.ms / 1000).padStart(6)} | ${fmt(naiveRate, 0).padStart(7)} | ${fmt((100 * naiveRate) / ceiling).padStart(9)}% | ${fmt(naiveRequests / naive.calls, 3).padStart(12)} | ${Math.ceil(synced / naivePerInvocation)} (extrapolated to ${synced} calls)`,
    );
    const emulatorCpuS = (cpu.user + cpu.system) / 1e6;
    const functionsCpuS =
      functionsCpuBefore === undefined || functionsCpuAfter === undefined
        ? undefined
        : (functionsCpuAfter - functionsCpuBefore) / 1000;
    console.log(
      `\n  CPU in the job's ${fmt(ms / 1000)} s: the emulator (this process) ${fmt(emulatorCpuS)} s, the function process ` +
        `${functionsCpuS === undefined ? 'unknown' : `${fmt(functionsCpuS)} s`} (${fmt((1000 * (emulatorCpuS + (functionsCpuS ?? 0))) / requests, 2)} ms per request, both); ` +
        `${availableParallelism()} CPU(s), shared with whatever else runs on the machine: the ceiling assumes the CPU keeps up`,
    );
    console.log(
      `  middle half of the item writes: ${fmt(steady, 0)} calls/s, ${fmt((100 * steady) / ceiling)}% of the ceiling (the run's figure also holds its first reads, its ${AGENTS} map creations and its last window's drain)`,
    );
    // The best this run could do after its first write: every item, map creation and grant at the concurrency's pace.
    const attainable = synced / (firstWriteS + (synced + 2 * AGENTS) / concurrencyCeiling) / ceiling;
    console.log(
      `  first quarter of the item writes (the first window, its map creations and grants): ${fmt(firstQuarter, 0)} calls/s, ${fmt((100 * firstQuarter) / ceiling)}% of the ceiling`,
    );
    console.log(
      `  first Sync write after ${fmt(firstWriteS, 2)} s (first load, lease, empty windows, first reads): from then on at the ceiling's pace the run would reach ${fmt(100 * attainable)}% of it`,
    );
    console.log(
      `  requests: ${requests} measured, floor ${requestFloor} (${synced} items + 2 × ${AGENTS} maps + ${reads} reads + ${saves} checkpoint saves); rerun wrote ${rerunWrites} items`,
    );
    reportBench({
      bench: 'sync-job',
      calls: synced,
      callsPerSecond: rate,
      ceilingCallsPerSecond: ceiling,
      fractionOfCeiling: rate / ceiling,
      middleHalfCallsPerSecond: steady,
      middleHalfFractionOfCeiling: steady / ceiling,
      firstQuarterFractionOfCeiling: firstQuarter / ceiling,
      firstWriteSeconds: firstWriteS,
      attainableFractionOfCeiling: attainable,
      requestsPerCall: requests / synced,
      requestFloorPerCall: requestFloor / synced,
      rerunWrites,
      naiveCallsPerSecond: naiveRate,
    });
    console.log(
      `  job vs naive: ${fmt(rate / naiveRate)}× calls/s, ${fmt(naiveRequests / naive.calls / (requests / synced))}× fewer requests per call`,
    );
    console.log(
      `  (naive run on ${NAIVE_AGENTS} agents × ${CALLS_PER_AGENT} calls; the job's requests include checkpoint, event and call reads)`,
    );
  } finally {
    await functions.stop();
    await emulator.close();
    build.remove();
  }
}
