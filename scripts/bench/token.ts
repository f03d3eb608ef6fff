/**
 * Benchmark of /sync-token (`npx tsx scripts/bench.ts token`).
 *
 * The emulator with 50 ms added to every IAM request, the built function under twilio-run (no fork per request, as
 * a warm instance), autocannon on loopback. Measured in the same run and printed side by side:
 * - first-seen Flex tokens: every request carries a token the function has never validated (a pool minted first),
 *   so each one pays the IAM round trip;
 * - warm-cache tokens: a few tokens validated once beforehand, so every request is served from the validation cache.
 * - an empty function under the same twilio-run: the runtime's own cost per request, the floor under the warm phase.
 * The emulator's request counts confirm each phase did what it claims (one IAM call per first-seen request, none
 * in the warm phase). CPU per request is the twilio-run process's user + system time (/proc) over the phase.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator } from '../../emulator/server';
import { freePort } from '../../test/helpers/ports';
import { buildForBench } from '../lib/bench-build';
import { startFunctionsServer } from '../lib/functions-server';
import { reportBench } from '../lib/bench-report';
import { localFunctionEnv } from '../lib/local-env';

const IAM_LATENCY_MS = 50;
const CONNECTIONS = 20;
/** First-seen requests (each a new token); at ~20 / 50 ms that is about 3 s. */
const FIRST_SEEN_REQUESTS = 1200;
const WARM_TOKENS = 20;
const WARM_SECONDS = 3;
const IAM_ROUTE = 'POST /v1/Accounts/:AccountSid/Tokens/validate';

interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number; max: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no types; this is the part of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

interface Phase {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  iamCalls: number;
  /** CPU ms of the functions process per answered request (undefined where /proc is missing). */
  cpuMsPerRequest?: number;
}

/** user + system CPU ms of a process, from /proc (Linux); undefined elsewhere. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** The smallest function twilio-run can serve: the runtime's own cost per request. */
const EMPTY_FUNCTION = 'exports.handler = (context, event, callback) => callback(null, { ok: true });\n';

const workerSid = (i: number) => `WK${i.toString(16).padStart(32, '0')}`;

async function mintPool(admin: EmulatorAdmin, count: number, prefix: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, j) =>
      admin.flexToken({
        identity: `${prefix}-${start + j}`,
        roles: ['agent'],
        workerSid: workerSid(start + j + 1),
        ttlSeconds: 3600,
      }),
    );
    tokens.push(...(await Promise.all(batch)).map((t) => t.token));
  }
  return tokens;
}

async function measure(
  name: string,
  url: string,
  admin: EmulatorAdmin,
  nextToken: () => string,
  limit: { amount: number } | { duration: number },
  pid?: number,
  path = '/sync-token',
): Promise<Phase> {
  const before = (await admin.stats()).byRoute[IAM_ROUTE] ?? 0;
  const cpuBefore = processCpuMs(pid);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    ...limit,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request: AutocannonRequest) => ({
          ...request,
          body: `Token=${encodeURIComponent(nextToken())}`,
        }),
      },
    ],
  });
  const cpuAfter = processCpuMs(pid);
  const after = (await admin.stats()).byRoute[IAM_ROUTE] ?? 0;
  return {
    cpuMsPerRequest:
      cpuBefore === undefined || cpuAfter === undefined
        ? undefined
        : (cpuAfter - cpuBefore) / Math.max(1, result['2xx']),
    name,
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    iamCalls: after - before,
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export async function run(): Promise<void> {
  const build = await buildForBench('bench-token');
  const functionsDir = build.functionsDir;
  writeFileSync(join(functionsDir, 'bench-empty.js'), EMPTY_FUNCTION);
  const emulator = await startEmulator();
  const admin = new EmulatorAdmin(emulator.url);
  const port = await freePort();
  const functions = await startFunctionsServer({
    port,
    env: localFunctionEnv(emulator.config, emulator.url),
    functionsFolder: functionsDir,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    // More tokens than requests: autocannon builds a request per connection ahead of sending it.
    const firstSeen = await mintPool(admin, FIRST_SEEN_REQUESTS + 4 * CONNECTIONS, 'fresh');
    const warm = await mintPool(admin, WARM_TOKENS, 'warm');
    await admin.faults({ latencyMs: IAM_LATENCY_MS, families: ['iam'] });

    // Warm up twilio-run and the JIT on tokens of neither phase.
    const warmUp = await mintPool(admin, 200, 'warmup');
    let w = 0;
    await measure('warm-up', url, admin, () => warmUp[w++ % warmUp.length], { amount: warmUp.length });

    let next = 0;
    const pid = functions.pid;
    const cold = await measure(
      'first-seen tokens',
      url,
      admin,
      () => firstSeen[next++],
      { amount: FIRST_SEEN_REQUESTS },
      pid,
    );
    if (next > firstSeen.length) throw new Error('the first-seen pool ran out: its tokens were reused');

    for (const token of warm) {
      const response = await fetch(`${url}/sync-token`, {
        method: 'POST',
        body: new URLSearchParams({ Token: token }),
      });
      if (response.status !== 200)
        throw new Error(`warming a token failed: ${response.status} ${await response.text()}`);
    }
    let turn = 0;
    const hot = await measure(
      'warm-cache tokens',
      url,
      admin,
      () => warm[turn++ % warm.length],
      { duration: WARM_SECONDS },
      pid,
    );
    const empty = await measure(
      'empty function',
      url,
      admin,
      () => warm[0],
      { duration: WARM_SECONDS },
      pid,
      '/bench-empty',
    );

    for (const phase of [cold, hot, empty]) {
      if (phase.failed > 0) throw new Error(`${phase.name}: ${phase.failed} requests failed`);
    }

    console.log(
      `\n  /sync-token, twilio-run without a fork per request, IAM +${IAM_LATENCY_MS} ms, ${CONNECTIONS} connections, loopback, ${availableParallelism()} CPU(s)`,
    );
    console.log('');
    console.log('  phase                | requests | IAM calls | req/s  | p50 ms | p99 ms | CPU ms/req');
    console.log('  ---------------------|----------|-----------|--------|--------|--------|-----------');
    for (const p of [cold, hot, empty]) {
      const cpu = p.cpuMsPerRequest === undefined ? 'n/a' : fmt(p.cpuMsPerRequest, 2);
      console.log(
        `  ${p.name.padEnd(20)} | ${String(p.ok).padStart(8)} | ${String(p.iamCalls).padStart(9)} | ${fmt(p.rps, 0).padStart(6)} | ${fmt(p.p50, 0).padStart(6)} | ${fmt(p.p99, 0).padStart(6)} | ${cpu.padStart(10)}`,
      );
    }
    if (hot.cpuMsPerRequest !== undefined && empty.cpuMsPerRequest !== undefined) {
      const ours = hot.cpuMsPerRequest - empty.cpuMsPerRequest;
      console.log(
        `\n  warm request vs empty function: ${fmt(empty.rps / hot.rps)}× the requests/s; our code's share of a warm request's CPU ≈ ${fmt(ours, 2)} ms of ${fmt(hot.cpuMsPerRequest, 2)} ms (${fmt((100 * ours) / hot.cpuMsPerRequest, 0)} %)`,
      );
    }
    reportBench({
      bench: 'token',
      warmRequestsPerSecond: hot.rps,
      coldRequestsPerSecond: cold.rps,
      emptyFunctionRequestsPerSecond: empty.rps,
      warmP50Ms: hot.p50,
      coldP50Ms: cold.p50,
      warmCpuMsPerRequest: hot.cpuMsPerRequest ?? null,
      emptyFunctionCpuMsPerRequest: empty.cpuMsPerRequest ?? null,
    });
    console.log(
      `\n  warm cache vs first seen: ${fmt(hot.rps / cold.rps)}× requests/s, p50 ${fmt(cold.p50 / Math.max(hot.p50, 1))}× lower, p99 ${fmt(cold.p99 / Math.max(hot.p99, 1))}× lower`,
    );
    console.log(
      `  (latencies are whole milliseconds; first-seen p50 includes the ${IAM_LATENCY_MS} ms IAM round trip)`,
    );
  } finally {
    await admin.faults({}).catch(() => undefined);
    await functions.stop();
    await emulator.close();
    build.remove();
  }
}
