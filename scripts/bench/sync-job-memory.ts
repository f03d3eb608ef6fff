/**
 * Memory of the recent-calls job (`npx tsx scripts/bench.ts sync-job-memory`).
 *
 * The Functions memory limit is small, so the job must not hold a backlog in memory: it reads one time window at a
 * time (at most MAX_EVENTS_PER_WINDOW completions) and saves its progress after each. This bench syncs a backlog of
 * 10,000 and one of 100,000 completions, each in a fresh twilio-run process whose V8 heap is sampled every 20 ms
 * (scripts/lib/heap-sampler.cjs), and reports both peaks. The process runs with its old space capped at the bound
 * this project states (--max-old-space-size): a job whose memory grew with the backlog would die there, and V8
 * collects garbage before the cap instead of letting it pile up, so the sampled peak shows what is really held.
 * The emulator runs without write limits or latency here: this measures memory, not pacing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator } from '../../emulator/server';
import { freePort } from '../../test/helpers/ports';
import { buildForBench } from '../lib/bench-build';
import { reportBench } from '../lib/bench-report';
import { startFunctionsServer } from '../lib/functions-server';
import { localFunctionEnv } from '../lib/local-env';
import { syncUntilDone } from '../sync-calls';

/** Both backlogs, as agents × calls each, spread over 25 days (inside the 30-day TTL). */
const BACKLOGS = [
  { agents: 100, callsPerAgent: 100 },
  { agents: 500, callsPerAgent: 200 },
];
const DAYS = 25;
/** The bound this project states for the function process's heap (twilio-run and the SDK included). */
export const PEAK_HEAP_BOUND_MB = 128;

const mb = (bytes: number) => bytes / (1024 * 1024);

export async function peakHeapFor(functionsDir: string, backlog: { agents: number; callsPerAgent: number }) {
  const emulator = await startEmulator({ writeRatePerSecond: 0 });
  const admin = new EmulatorAdmin(emulator.url);
  const sampleDir = mkdtempSync(join(tmpdir(), 'heap-'));
  const sampleFile = join(sampleDir, 'peak');
  const functions = await startFunctionsServer({
    port: await freePort(),
    env: localFunctionEnv(emulator.config, emulator.url),
    functionsFolder: functionsDir,
    nodeArgs: [`--max-old-space-size=${PEAK_HEAP_BOUND_MB}`, '-r', join(__dirname, '..', 'lib', 'heap-sampler.cjs')],
    processEnv: { HEAP_SAMPLE_FILE: sampleFile },
  });
  try {
    const seeded = await admin.seed({ ...backlog, days: DAYS });
    // 100 × 100 and 500 × 200 calls: about 10,000 and 100,000 completed reservations (transfers add a few).
    await admin.advanceClock(120);
    const idlePeak = existsSync(sampleFile) ? Number(readFileSync(sampleFile, 'utf8')) : 0;
    const started = performance.now();
    const result = await syncUntilDone({
      url: `${functions.url.replace('127.0.0.1', 'localhost')}/sync-recent-calls`,
      authToken: emulator.config.authToken,
      maxInvocations: 500,
      log: () => undefined,
    });
    if (!result.done) throw new Error(`the job did not finish: ${result.error}`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // one more sample
    const peak = Number(readFileSync(sampleFile, 'utf8'));
    if (result.totals.written < seeded.handledCalls)
      throw new Error(`wrote ${result.totals.written} items for ${seeded.handledCalls} calls`);
    return {
      // Completed voice reservations: one item each (a transferred call has two).
      completions: result.totals.written,
      invocations: result.invocations,
      seconds: (performance.now() - started) / 1000,
      idlePeakMb: mb(idlePeak),
      peakHeapMb: mb(peak),
    };
  } finally {
    await functions.stop();
    await emulator.close();
    rmSync(sampleDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const build = await buildForBench('bench-memory');
  const functionsDir = build.functionsDir;
  try {
    const runs = [];
    for (const backlog of BACKLOGS) runs.push(await peakHeapFor(functionsDir, backlog));
    console.log(`\n  twilio-run with --max-old-space-size=${PEAK_HEAP_BOUND_MB}`);
    console.log('  backlog (completions) | invocations | wall s | idle heap MB | peak heap MB');
    console.log('  ----------------------|-------------|--------|--------------|-------------');
    for (const r of runs) {
      console.log(
        `  ${String(r.completions).padStart(21)} | ${String(r.invocations).padStart(11)} | ${r.seconds.toFixed(1).padStart(6)} | ${r.idlePeakMb.toFixed(1).padStart(12)} | ${r.peakHeapMb.toFixed(1).padStart(12)}`,
      );
    }
    const [small, large] = runs;
    console.log(
      `\n  ${(large.completions / small.completions).toFixed(0)}× the backlog → ${(large.peakHeapMb / small.peakHeapMb).toFixed(2)}× the peak heap; stated bound ${PEAK_HEAP_BOUND_MB} MB: ${large.peakHeapMb <= PEAK_HEAP_BOUND_MB ? 'within' : 'EXCEEDED'}`,
    );
    reportBench({
      bench: 'sync-job-memory',
      completions: large.completions,
      peakHeapMb: large.peakHeapMb,
      smallBacklogCompletions: small.completions,
      smallBacklogPeakHeapMb: small.peakHeapMb,
      peakHeapBoundMb: PEAK_HEAP_BOUND_MB,
    });
  } finally {
    build.remove();
  }
}
