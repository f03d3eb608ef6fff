/**
 * Benchmark of pushed recent calls (`npx tsx scripts/bench.ts pushed-events`): 200 calls completing within ~10 s
 * across 50 agents, pushed by the emulator's Event Streams sink to /taskrouter-events under twilio-run. Measured in
 * the same run:
 * - p50 / p99 from each completion event to its item in Sync (the emulator's item_added), next to the scheduled
 *   path's expected delay (half the schedule period, SCHEDULE_PERIOD_S = 60 s here, plus the job's event lag);
 * - Twilio requests per pushed call, then per reconciled call when the scheduled job runs after the pushes.
 * - p50 / p99 from each completion event to the SDK's itemAdded at a real twilio-sync client subscribed to the
 *   agent's map (one client per agent, over the emulator's /v3/wsconnect), as a Flex plugin would see it.
 */
import twilio from 'twilio';
import { SyncClient } from 'twilio-sync';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator } from '../../emulator/server';
import { buildForBench } from '../lib/bench-build';
import { reportBench } from '../lib/bench-report';
import { startFunctionsServer } from '../lib/functions-server';
import { emulatorSyncToken } from '../lib/emulator-sync-token';
import { localFunctionEnv } from '../lib/local-env';
import { recentCallsMapName } from '../../src/recent-calls/map-name';
import { syncUntilDone } from '../sync-calls';
import { TwilioHttpClient } from '../../src/twilio/http-client';
import { freePort } from '../../test/helpers/ports';

const CALLS = 200;
const AGENTS = 50;
const SPREAD_SECONDS = 9;
const SCHEDULE_PERIOD_S = 60;
const EVENT_LAG_S = 60;
const SECRET = 'bench-secret-0123456789abcdef';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function run(): Promise<void> {
  const build = await buildForBench('bench-pushed');
  const functionsDir = build.functionsDir;
  const emulator = await startEmulator({ writeRatePerSecond: 20, writeBurstSeconds: 10 });
  const port = await freePort();
  const functions = await startFunctionsServer({
    port,
    functionsFolder: functionsDir,
    env: localFunctionEnv(emulator.config, emulator.url, {
      TASKROUTER_EVENTS_SECRET: SECRET,
      RECENT_CALLS_EVENT_LAG_SECONDS: '0',
    }),
  });
  const admin = new EmulatorAdmin(emulator.url);
  const sdkClients: SyncClient[] = [];
  try {
    const http = new TwilioHttpClient({ emulatorUrl: emulator.url });
    const client = twilio(emulator.config.accountSid, emulator.config.authToken, { httpClient: http });
    const seeded = await admin.seed({ agents: AGENTS, callsPerAgent: 0, days: 1 });
    // One subscribed SDK client per agent, on the agent's own map (made here: the job would make it on first write).
    const service = client.sync.v1.services(emulator.config.syncServiceSid);
    const uri = `${emulator.url.replace(/^http/, 'ws')}/v3/wsconnect`;
    const sdkSeenAt = new Map<string, number>();
    for (const agent of seeded.agents) {
      const name = recentCallsMapName(agent.workerSid);
      await service.syncMaps.create({ uniqueName: name });
      await service
        .syncMaps(name)
        .syncMapPermissions(agent.identity)
        .update({ read: true, write: false, manage: false });
      const sdk = new SyncClient(emulatorSyncToken(emulator, agent.identity), {
        twilsock: { uri },
        logLevel: 'silent',
      } as never);
      sdkClients.push(sdk);
      const map = await sdk.map({ id: name, mode: 'open_existing' });
      map.on('itemAdded', ({ item }: { item: { data: unknown } }) => {
        const taskSid = (item.data as { taskSid?: unknown } | undefined)?.taskSid;
        if (typeof taskSid === 'string' && !sdkSeenAt.has(taskSid)) sdkSeenAt.set(taskSid, Date.now());
      });
    }
    const sink = await client.events.v1.sinks.create({
      description: 'bench',
      sinkType: 'webhook',
      sinkConfiguration: {
        destination: `http://taskrouter:${SECRET}@localhost:${port}/taskrouter-events`,
        method: 'POST',
      },
    });
    await client.events.v1.subscriptions.create({
      description: 'bench',
      sinkSid: sink.sid,
      types: [{ type: 'com.twilio.taskrouter.reservation.completed', schema_version: 1 }],
    });
    const seenAt = new Map<string, number>();
    emulator.syncListeners.push((change) => {
      if (change.kind !== 'item_added') return;
      const taskSid = (change.item.data as { taskSid?: unknown } | undefined)?.taskSid;
      if (typeof taskSid === 'string' && !seenAt.has(taskSid)) seenAt.set(taskSid, Date.now());
    });

    const before = await admin.stats();
    const { calls } = await admin.liveCalls({ count: CALLS, spreadSeconds: SPREAD_SECONDS, talkSeconds: 1 });
    const started = Date.now();
    while (
      (seenAt.size < CALLS || sdkSeenAt.size < CALLS || (await admin.deliveries()).backlog > 0) &&
      Date.now() - started < 180_000
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const pushed = await admin.stats();
    const tasks = new Set(calls.map((c) => c.taskSid));
    const completions = emulator.state.taskrouter.events.filter(
      (e) => e.eventType === 'reservation.completed' && tasks.has(e.taskSid ?? ''),
    );
    const latencies = completions
      .flatMap((e) => (seenAt.has(e.taskSid!) ? [seenAt.get(e.taskSid!)! - e.eventDateMs] : []))
      .sort((a, b) => a - b);
    const sdkLatencies = completions
      .flatMap((e) => (sdkSeenAt.has(e.taskSid!) ? [sdkSeenAt.get(e.taskSid!)! - e.eventDateMs] : []))
      .sort((a, b) => a - b);
    const twilioRequests = (s: typeof before) => s.total - (s.byFamily.admin ?? 0);

    const run = await syncUntilDone({
      url: `http://localhost:${port}/sync-recent-calls`,
      authToken: emulator.config.authToken,
      maxInvocations: 50,
      log: () => {},
    });
    const reconciled = await admin.stats();
    const result = {
      bench: 'pushed-events',
      calls: CALLS,
      agents: AGENTS,
      itemsSeen: latencies.length,
      pushP50Ms: Math.round(percentile(latencies, 50)),
      pushP99Ms: Math.round(percentile(latencies, 99)),
      sdkItemsSeen: sdkLatencies.length,
      sdkItemAddedP50Ms: Math.round(percentile(sdkLatencies, 50)),
      sdkItemAddedP99Ms: Math.round(percentile(sdkLatencies, 99)),
      scheduledExpectedDelayMs: (SCHEDULE_PERIOD_S / 2 + EVENT_LAG_S) * 1000,
      requestsPerPushedCall: Number(((twilioRequests(pushed) - twilioRequests(before)) / CALLS).toFixed(2)),
      jobWritten: run.totals.written,
      requestsPerReconciledCall: Number(((twilioRequests(reconciled) - twilioRequests(pushed)) / CALLS).toFixed(2)),
    };
    console.log(
      `  ${result.itemsSeen}/${CALLS} calls pushed to Sync: p50 ${result.pushP50Ms} ms, p99 ${result.pushP99Ms} ms after completion;` +
        ` ${result.sdkItemsSeen} seen by subscribed SDK clients (itemAdded): p50 ${result.sdkItemAddedP50Ms} ms, p99 ${result.sdkItemAddedP99Ms} ms` +
        ` (scheduled path: ~${result.scheduledExpectedDelayMs} ms expected, half a ${SCHEDULE_PERIOD_S} s period + ${EVENT_LAG_S} s lag)\n` +
        `  Twilio requests: ${result.requestsPerPushedCall} per pushed call; the job after the pushes wrote ${result.jobWritten}` +
        ` and cost ${result.requestsPerReconciledCall} per call`,
    );
    reportBench(result);
  } finally {
    for (const sdk of sdkClients) await sdk.shutdown().catch(() => undefined);
    await functions.stop();
    await emulator.close();
    build.remove();
  }
}
