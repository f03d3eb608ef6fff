/**
 * Benchmark of /recent-calls reads (`npx tsx scripts/bench.ts recent-calls`): one agent's map of 1,500 calls (a
 * month at 50 a day), read by the reader in this process against the emulator over HTTP with the real SDK and
 * 25 ms added to every Twilio request. Measured in the same run:
 * - before: the whole map read as the earlier reader did (every page of 100, then sorted by start time);
 * - after: readRecentCallsPage (Order=desc, PageSize N + 1, stops at a page);
 * for the first page, a later page (by page token) and a page of 100, with Twilio requests and time per page.
 */
import twilio from 'twilio';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator } from '../../emulator/server';
import { DAY_MS } from '../../src/recent-calls/call-record';
import { recentCallItemKey } from '../../src/recent-calls/item-key';
import { recentCallsMapName } from '../../src/recent-calls/map-name';
import { decodePageToken } from '../../src/recent-calls/page-token';
import { readRecentCallsPage, syncItemLister, toCall } from '../../src/recent-calls/reader';
import { TwilioHttpClient } from '../../src/twilio/http-client';

const ITEMS = 1500;
const LATENCY_MS = 25;
const WORKER = 'WK' + 'b'.repeat(32);
const ROUNDS = 5;

type Stats = Awaited<ReturnType<EmulatorAdmin['stats']>>;
const syncRequests = (before: Stats, after: Stats) => (after.byFamily.sync ?? 0) - (before.byFamily.sync ?? 0);

export async function run(): Promise<void> {
  const emulator = await startEmulator({ writeRatePerSecond: 0 });
  const admin = new EmulatorAdmin(emulator.url);
  try {
    const http = new TwilioHttpClient({
      emulatorUrl: emulator.url,
      policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const client = twilio(emulator.config.accountSid, emulator.config.authToken, { httpClient: http });
    const service = client.sync.v1.services(emulator.config.syncServiceSid);
    const name = recentCallsMapName(WORKER);
    await service.syncMaps.create({ uniqueName: name });
    const now = Date.now();
    // 50 calls a day over 30 days, written in key order as the job would over the month; the oldest ones expired.
    for (let i = 0; i < ITEMS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, ITEMS - i) }, (_, j) => {
          const n = i + j;
          const startMs = now - (ITEMS - n) * ((30 * DAY_MS) / ITEMS);
          const taskSid = 'WT' + n.toString(16).padStart(32, '0');
          return service.syncMaps(name).syncMapItems.create({
            key: recentCallItemKey(taskSid, Math.floor(startMs / 1000)),
            data: {
              callSid: 'CA' + n.toString(16).padStart(32, '0'),
              taskSid,
              direction: 'inbound',
              from: '+12065550100',
              to: '+14155550100',
              queue: 'Support',
              startedAt: new Date(startMs).toISOString(),
              endedAt: new Date(startMs + 120_000).toISOString(),
              durationSeconds: 120,
            },
            itemTtl: Math.max(1, Math.ceil((startMs + 30 * DAY_MS - now) / 1000)),
          });
        }),
      );
    }
    await admin.faults({ latencyMs: LATENCY_MS, families: ['sync'] });

    const before = async (pageSize: number) => {
      // The earlier reader: every item (pages of 100), then expired ones dropped and the rest sorted by start time.
      const all = await service.syncMaps(name).syncMapItems.list({ pageSize: 100 });
      const nowMs = http.serverNow();
      return all
        .map((i) => toCall(i, nowMs))
        .filter((c) => c !== undefined)
        .sort((a, b) => Date.parse(b!.startedAt) - Date.parse(a!.startedAt))
        .slice(0, pageSize);
    };
    const after = async (pageSize: number, pageToken?: string) =>
      readRecentCallsPage(syncItemLister(client, emulator.config.syncServiceSid, WORKER), {
        workerSid: WORKER,
        nowMs: () => http.serverNow(),
        pageSize,
        after: pageToken ? decodePageToken(pageToken, WORKER) : undefined,
      });

    const measure = async (work: () => Promise<unknown>) => {
      let requests = 0;
      let ms = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const s0 = await admin.stats();
        const t0 = performance.now();
        await work();
        ms += performance.now() - t0;
        requests += syncRequests(s0, await admin.stats());
      }
      return { requests: requests / ROUNDS, ms: ms / ROUNDS };
    };

    const first = await after(20);
    const rows: Array<[string, { requests: number; ms: number }, { requests: number; ms: number }]> = [
      ['first page of 20', await measure(() => before(20)), await measure(() => after(20))],
      [
        'second page of 20 (token)',
        await measure(() => before(40)),
        await measure(() => after(20, first.nextPageToken!)),
      ],
      ['first page of 100', await measure(() => before(100)), await measure(() => after(100))],
    ];
    // The answers agree: the new reader's first page is the newest calls.
    const whole = await before(20);
    if (JSON.stringify(whole.map((c) => c!.key)) !== JSON.stringify(first.calls.map((c) => c.key)))
      throw new Error('readers disagree');

    console.log(`\n  one map of ${ITEMS} items, +${LATENCY_MS} ms per Sync request, mean of ${ROUNDS} rounds`);
    console.log(
      '  page                       | before: requests | before: ms | after: requests | after: ms | time ratio',
    );
    console.log(
      '  ---------------------------|------------------|------------|-----------------|-----------|-----------',
    );
    for (const [label, b, a] of rows) {
      console.log(
        `  ${label.padEnd(26)} | ${b.requests.toFixed(1).padStart(16)} | ${b.ms.toFixed(0).padStart(10)} | ${a.requests.toFixed(1).padStart(15)} | ${a.ms.toFixed(0).padStart(9)} | ${(b.ms / a.ms).toFixed(1).padStart(9)}×`,
      );
    }
  } finally {
    await emulator.close();
  }
}
