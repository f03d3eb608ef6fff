/**
 * Benchmark of the writer's scheduling at contact-center scale (`npm run bench -- writer-scale`): the CPU the
 * writer spends per request when a window's 10,000 records belong to 50 agents, and when they belong to 5,000. The
 * Sync client is a stub that answers every request on the next turn of the event loop, so what is measured is the
 * writer's own work (picking the next request among the maps, outcomes, grants), not the network. Picking from heaps
 * costs O(log maps) per request, so the ratio stays near 1; a scan of the maps per request would make it grow
 * with the number of maps.
 */
import type { Twilio } from 'twilio';
import { buildCallRecord, type CallRecord } from '../../src/recent-calls/call-record';
import { recentCallItemKey } from '../../src/recent-calls/item-key';
import { recentCallsMapName } from '../../src/recent-calls/map-name';
import { RecentCallsWriter } from '../../src/recent-calls/writer';
import { createLogger } from '../../src/observability/logger';
import { Deadline } from '../../src/twilio/deadline';
import { ObjectRateLimiter } from '../../src/twilio/object-rate-limiter';
import { reportBench } from '../lib/bench-report';

const RECORDS = 10_000;
const NOW = Date.parse('2026-11-30T12:00:00Z');

/** `RECORDS` records spread over `agents` agents, in time order (one every second, agents in turn). */
function records(agents: number): CallRecord[] {
  return Array.from({ length: RECORDS }, (_, i) => {
    const hex = i.toString(16).padStart(32, '0');
    const workerSid = `WK${(i % agents).toString(16).padStart(32, '0')}`;
    const createdMs = NOW - 86_400_000 + i * 1000;
    return buildCallRecord({
      eventSid: `EV${hex}`,
      eventDateMs: createdMs + 300_000,
      workerSid,
      identity: `agent-${i % agents}`,
      taskSid: `WT${hex}`,
      itemKey: recentCallItemKey(`WT${hex}`, createdMs / 1000),
      taskCreatedMs: createdMs,
      callSid: `CA${hex}`,
      direction: 'inbound',
      outbound: false,
      from: '+12065550100',
      to: '+14155550100',
      queue: 'Support',
      taskAgeSeconds: 300,
    });
  });
}

/** A Sync client whose every request succeeds on the next turn of the event loop; `sent` counts them. */
function stubClient(sent: { requests: number }): Twilio {
  const answer = () => {
    sent.requests += 1;
    return new Promise((resolve) => setImmediate(resolve, {}));
  };
  const syncMaps = Object.assign(
    () => ({ syncMapItems: { create: answer }, syncMapPermissions: () => ({ update: answer }) }),
    { create: answer },
  );
  return { sync: { v1: { services: () => ({ syncMaps }) } } } as unknown as Twilio;
}

/** CPU ms per request of one write of `recs` (maps missing: each is created and granted). */
async function cpuPerRequest(recs: CallRecord[]): Promise<number> {
  const sent = { requests: 0 };
  const writer = new RecentCallsWriter({
    client: stubClient(sent),
    serviceSid: `IS${'0'.repeat(32)}`,
    limiter: new ObjectRateLimiter({ ratePerSecond: 1e6, burst: 1e6 }),
    concurrency: 32,
    perMapConcurrency: 4,
    ttlDays: 30,
    serverNow: () => NOW,
    aclEnabled: true,
    deadline: Deadline.none(),
    log: createLogger({ write: () => undefined }),
  });
  const absentMaps = new Set(recs.map((r) => recentCallsMapName(r.workerSid)));
  const before = process.cpuUsage();
  const outcomes = await writer.write(recs, { absentMaps });
  const cpu = process.cpuUsage(before);
  if (outcomes.some((o) => o.kind !== 'written')) throw new Error('a stub write did not succeed');
  return (cpu.user + cpu.system) / 1000 / sent.requests;
}

export async function run(): Promise<void> {
  const few = records(50);
  const many = records(5000);
  await cpuPerRequest(records(500)); // warm the JIT
  // Alternate the two, best of three each: the machine is shared.
  const fewMs: number[] = [];
  const manyMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    fewMs.push(await cpuPerRequest(few));
    manyMs.push(await cpuPerRequest(many));
  }
  const fewBest = Math.min(...fewMs);
  const manyBest = Math.min(...manyMs);
  console.log(`\n  ${RECORDS} records, every map missing (create + items + grant), stub Sync answering at once`);
  console.log(`  50 agents:    ${(fewBest * 1000).toFixed(1)} µs of the writer's CPU per request`);
  console.log(`  5,000 agents: ${(manyBest * 1000).toFixed(1)} µs of the writer's CPU per request`);
  console.log(`  ratio ${(manyBest / fewBest).toFixed(2)} at 100× the maps (1 = the cost does not grow with the maps)`);
  reportBench({
    bench: 'writer-scale',
    records: RECORDS,
    fewMapsCpuPerRequestMs: fewBest,
    manyMapsCpuPerRequestMs: manyBest,
    ratio: manyBest / fewBest,
  });
}
