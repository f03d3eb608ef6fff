/**
 * Benchmark of the Sync client path (`npx tsx scripts/bench.ts sync-client`): N real twilio-sync clients (default
 * 100, BENCH_SYNC_CLIENTS) connected to the emulator's /v3/wsconnect, each subscribed to its own map of 10 items.
 * Measured in the same run:
 * - connect-to-first-items: new SyncClient → map opened → first getItems page;
 * - REST write → itemAdded: one REST item create per map (as the job writes), until the subscribed client sees it;
 * - baseline: a plain REST list of the same map (first page of 10), the cost of one read over HTTP.
 */
import twilio from 'twilio';
import { SyncClient, type SyncMap } from 'twilio-sync';
import { startEmulator } from '../../emulator/server';
import { TwilioHttpClient } from '../../src/twilio/http-client';
import { reportBench } from '../lib/bench-report';
import { emulatorSyncToken } from '../lib/emulator-sync-token';

const CLIENTS = Number(process.env.BENCH_SYNC_CLIENTS ?? 100);
const ITEMS = 10;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

export async function run(): Promise<void> {
  const emulator = await startEmulator({ writeRatePerSecond: 0 });
  const clients: SyncClient[] = [];
  try {
    const http = new TwilioHttpClient({
      emulatorUrl: emulator.url,
      policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const rest = twilio(emulator.config.accountSid, emulator.config.authToken, { httpClient: http });
    const service = rest.sync.v1.services(emulator.config.syncServiceSid);
    await service.update({ aclEnabled: false });
    const names = Array.from({ length: CLIENTS }, (_, i) => `bench-map-${i}`);
    for (const name of names) {
      await service.syncMaps.create({ uniqueName: name });
      await Promise.all(
        Array.from({ length: ITEMS }, (_, j) =>
          service.syncMaps(name).syncMapItems.create({ key: `k${j}`, data: { j } }),
        ),
      );
    }

    // Connect and read: time to the first page of items, per client.
    const uri = `${emulator.url.replace(/^http/, 'ws')}/v3/wsconnect`;
    const connectMs: number[] = [];
    const maps: SyncMap[] = [];
    await Promise.all(
      names.map(async (name, i) => {
        const t0 = performance.now();
        const client = new SyncClient(emulatorSyncToken(emulator, `agent-${i}`), {
          twilsock: { uri },
          logLevel: 'silent',
        } as never);
        clients.push(client);
        const map = await client.map({ id: name, mode: 'open_existing' });
        await map.getItems({ pageSize: ITEMS });
        connectMs.push(performance.now() - t0);
        maps[i] = map;
      }),
    );

    // Subscribe every map, and wait for a first event to know each subscription is live.
    const arrivals = new Map<string, (at: number) => void>();
    for (const map of maps)
      map.on('itemAdded', ({ item }: { item: { key: string } }) =>
        arrivals.get(`${map.uniqueName}/${item.key}`)?.(performance.now()),
      );
    const expect = (name: string, key: string) =>
      new Promise<number>((resolve) => arrivals.set(`${name}/${key}`, resolve));
    await Promise.all(
      names.map((name) =>
        Promise.all([expect(name, 'warm'), service.syncMaps(name).syncMapItems.create({ key: 'warm', data: {} })]),
      ),
    );

    // REST write → itemAdded at the subscribed client.
    const liveMs = await Promise.all(
      names.map(async (name) => {
        const seen = expect(name, 'new');
        const t0 = performance.now();
        await service.syncMaps(name).syncMapItems.create({ key: 'new', data: { at: Date.now() } });
        return (await seen) - t0;
      }),
    );

    // Baseline: a plain REST list of the same maps.
    const listMs: number[] = [];
    for (const name of names) {
      const t0 = performance.now();
      await service.syncMaps(name).syncMapItems.list({ pageSize: ITEMS, limit: ITEMS });
      listMs.push(performance.now() - t0);
    }

    const row = (label: string, values: number[]) =>
      console.log(
        `  ${label.padEnd(34)} | ${percentile(values, 50).toFixed(1).padStart(8)} | ${percentile(values, 99).toFixed(1).padStart(8)}`,
      );
    console.log(`\n  ${CLIENTS} clients, one map of ${ITEMS} items each (ms)`);
    console.log('  measure                            |      p50 |      p99');
    console.log('  -----------------------------------|----------|---------');
    row('connect → first items page', connectMs);
    row('REST write → itemAdded (live)', liveMs);
    row('baseline: REST list of the map', listMs);
    console.log(`  live event p50 / REST list p50: ${(percentile(liveMs, 50) / percentile(listMs, 50)).toFixed(2)}×`);
    reportBench({
      bench: 'sync-client',
      clients: CLIENTS,
      connectP50Ms: percentile(connectMs, 50),
      connectP99Ms: percentile(connectMs, 99),
      liveP50Ms: percentile(liveMs, 50),
      liveP99Ms: percentile(liveMs, 99),
      restListP50Ms: percentile(listMs, 50),
      restListP99Ms: percentile(listMs, 99),
      liveToListRatio: percentile(liveMs, 50) / percentile(listMs, 50),
    });
  } finally {
    await Promise.all(clients.map((c) => c.shutdown().catch(() => undefined)));
    await emulator.close();
  }
}
