/**
 * The /recent-calls reader against the emulator's Sync over HTTP with the real SDK (Order=desc, From, Bounds as in
 * twilio_sync_v1.json ListSyncMapItem): newest first by item key, pages that stop early, expired items left out.
 */
import { recentCallItemKey } from '../../../src/recent-calls/item-key';
import { recentCallsMapName } from '../../../src/recent-calls/map-name';
import { decodePageToken } from '../../../src/recent-calls/page-token';
import { readRecentCallsPage, syncItemLister, type RecentCall } from '../../../src/recent-calls/reader';
import { useEmulator } from '../../helpers/emulator';

const t = useEmulator({ writeRatePerSecond: 0 });
const WK = 'WK' + 'c'.repeat(32);
const DAY = 86_400_000;
const wt = (n: number) => 'WT' + n.toString(16).padStart(32, '0');

const service = () => t.client.sync.v1.services(t.emulator.config.syncServiceSid);
const map = () => service().syncMaps(recentCallsMapName(WK));

/** Writes items (in any order) for tasks created at the given instants; `ttlMs` from the emulator's now. */
async function write(calls: Array<{ task: number; createdMs: number; ttlMs?: number; callSid?: string | null }>) {
  await service().syncMaps.create({ uniqueName: recentCallsMapName(WK) });
  const now = t.emulator.clock.now();
  for (const c of calls) {
    await map().syncMapItems.create({
      key: recentCallItemKey(wt(c.task), Math.floor(c.createdMs / 1000)),
      data: {
        callSid: c.callSid === undefined ? 'CA' + c.task.toString(16).padStart(32, '0') : c.callSid,
        taskSid: wt(c.task),
        startedAt: new Date(c.createdMs).toISOString(),
      },
      itemTtl: Math.ceil((c.ttlMs ?? 30 * DAY - (now - c.createdMs)) / 1000),
    });
  }
}

function reader() {
  let requests = 0;
  const lister = syncItemLister(t.client, t.emulator.config.syncServiceSid, WK);
  const counted: typeof lister = (request) => {
    requests += 1;
    return lister(request);
  };
  const page = (pageSize: number, token?: string | null) =>
    readRecentCallsPage(counted, {
      workerSid: WK,
      nowMs: () => t.emulator.clock.now(),
      pageSize,
      after: token ? decodePageToken(token, WK) : undefined,
    });
  return { page, requests: () => requests };
}

async function readAll(pageSize: number): Promise<{ calls: RecentCall[]; pages: number }> {
  const { page } = reader();
  const calls: RecentCall[] = [];
  let token: string | null | undefined;
  let pages = 0;
  do {
    const p = await page(pageSize, token);
    calls.push(...p.calls);
    token = p.nextPageToken;
    pages += 1;
  } while (token && pages < 100);
  return { calls, pages };
}

describe('the recent-calls reader', () => {
  it('answers newest first by item key: across days, and by task SID within one second', async () => {
    const now = t.emulator.clock.now();
    const second = Math.floor((now - 2 * DAY) / 1000) * 1000;
    await write([
      { task: 5, createdMs: now - 3 * DAY },
      { task: 9, createdMs: second + 200 }, // same second as 3 and 4
      { task: 1, createdMs: now - 60_000 },
      { task: 3, createdMs: second },
      { task: 7, createdMs: now - 10 * DAY },
      { task: 4, createdMs: second + 999 },
    ]);
    const { calls } = await readAll(50);
    expect(calls.map((c) => c.taskSid)).toEqual([wt(1), wt(9), wt(4), wt(3), wt(5), wt(7)]);
    expect(calls.map((c) => c.key)).toEqual(
      calls
        .map((c) => c.key)
        .sort()
        .reverse(),
    );
  });

  it('makes one Sync request per page when the map holds more than the page', async () => {
    const now = t.emulator.clock.now();
    await write(Array.from({ length: 60 }, (_, i) => ({ task: i + 1, createdMs: now - (i + 1) * 3600_000 })));
    const r = reader();
    const first = await r.page(20);
    expect(first.calls.map((c) => c.taskSid)).toEqual(Array.from({ length: 20 }, (_, i) => wt(i + 1)));
    expect(first.nextPageToken).toEqual(expect.any(String));
    expect(r.requests()).toBe(1);
    const second = await r.page(20, first.nextPageToken);
    expect(second.calls.map((c) => c.taskSid)).toEqual(Array.from({ length: 20 }, (_, i) => wt(i + 21)));
    expect(r.requests()).toBe(2);
    const { calls, pages } = await readAll(7);
    expect(calls).toHaveLength(60);
    expect(pages).toBe(Math.ceil(60 / 7));
  });

  it('pages across a page that holds expired items: they are left out, the read stops there, none is skipped or repeated', async () => {
    const now = t.emulator.clock.now();
    // 10 live calls, then 10 whose date_expires has passed (still listed: the sweep lags), oldest keys last.
    await t.admin.setLimits({ sweepLagSeconds: 90 * 86_400 });
    await write([
      ...Array.from({ length: 10 }, (_, i) => ({ task: i + 1, createdMs: now - (i + 1) * 3600_000 })),
      ...Array.from({ length: 10 }, (_, i) => ({
        task: i + 11,
        createdMs: now - 31 * DAY - i * 3600_000,
        ttlMs: 1000,
      })),
    ]);
    await t.admin.advanceClock(5);
    const r = reader();
    const p1 = await r.page(6);
    const p2 = await r.page(6, p1.nextPageToken);
    expect(p1.calls.map((c) => c.taskSid)).toEqual([1, 2, 3, 4, 5, 6].map(wt));
    expect(p2.calls.map((c) => c.taskSid)).toEqual([7, 8, 9, 10].map(wt));
    expect(p2.nextPageToken).toBeNull();
    expect(r.requests()).toBe(2); // the second page met an expired item and stopped: no read of the rest
    for (const c of [...p1.calls, ...p2.calls])
      expect(Date.parse(c.expiresAt!)).toBeGreaterThan(t.emulator.clock.now());
  });

  it('answers an empty list for a map whose items have all expired but were not swept, in one request', async () => {
    const now = t.emulator.clock.now();
    await t.admin.setLimits({ sweepLagSeconds: 90 * 86_400 });
    await write(
      Array.from({ length: 150 }, (_, i) => ({ task: i + 1, createdMs: now - 31 * DAY - i * 60_000, ttlMs: 1000 })),
    );
    await t.admin.advanceClock(5);
    expect((await map().syncMapItems.list({ pageSize: 100 })).length).toBe(150);
    const r = reader();
    expect(await r.page(20)).toMatchObject({ calls: [], nextPageToken: null });
    expect(r.requests()).toBe(1);
  });

  it('keys calls with and without a call SID alike; items with other keys are not calls', async () => {
    const now = t.emulator.clock.now();
    await write([
      { task: 1, createdMs: now - 1000, callSid: null },
      { task: 2, createdMs: now - 2000 },
    ]);
    await map().syncMapItems.create({ key: 'CA' + '9'.repeat(32), data: { startedAt: new Date(now).toISOString() } });
    const { calls } = await readAll(10);
    expect(calls.map((c) => [c.key, c.callSid])).toEqual([
      [recentCallItemKey(wt(1), Math.floor((now - 1000) / 1000)), null],
      [recentCallItemKey(wt(2), Math.floor((now - 2000) / 1000)), 'CA' + '2'.padStart(32, '0')],
    ]);
  });
});
