/**
 * /sync-recent-calls end to end: the built function under twilio-run, the emulator's seeded Flex workspace, the real
 * SDK reading back what landed in Sync. Expectations are computed from the emulator's own records (events and calls),
 * not from the job's code.
 */
import { signedRequest } from '../../../scripts/sync-calls';
import {
  recentCallsMapName,
  RECENT_CALLS_MAP_PREFIX,
  CHECKPOINT_DOCUMENT_NAME,
} from '../../../src/recent-calls/map-name';
import { readWorkerIdentities } from '../../../src/recent-calls/workers-source';
import { handledCalls as handledCallsOf } from '../../helpers/handled-calls';
import { jobUrl, startSystem, syncRecentCalls, type System } from '../../helpers/system';

const DAY_MS = 86_400_000;
/** Calls starting this close to the 30-day boundary may land on either side of it during a run. */
const BOUNDARY_SLACK_MS = 10 * 60_000;

let system: System;

beforeAll(async () => {
  system = await startSystem();
});
afterAll(() => system?.stop());
beforeEach(() => system.admin.reset());

const service = () => system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
const fnUrl = () => jobUrl(system);

async function invoke(
  init: {
    params?: Record<string, string>;
    token?: string;
    signUrl?: string;
    tamper?: boolean;
    unsigned?: boolean;
  } = {},
) {
  const params = init.params ?? { Invocation: '1' };
  const signed = signedRequest(init.signUrl ?? fnUrl(), init.token ?? system.emulator.config.authToken, params);
  const headers: Record<string, string> = { ...signed.headers };
  if (init.unsigned) delete headers['X-Twilio-Signature'];
  const body = init.tamper ? new URLSearchParams({ ...params, Invocation: '999' }).toString() : signed.body;
  const response = await fetch(fnUrl(), { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function syncAll(maxInvocations = 20) {
  const result = await syncRecentCalls(system, maxInvocations);
  expect(result.error).toBeUndefined();
  expect(result.done).toBe(true);
  return result;
}

const handledCalls = () => handledCallsOf(system.emulator);

/** Splits handled calls into those that must be synced, those that must not, and a few at the boundary. */
function partition(nowMs: number) {
  const boundary = nowMs - 30 * DAY_MS;
  const all = handledCalls();
  return {
    recent: all.filter((c) => c.startMs > boundary + BOUNDARY_SLACK_MS),
    old: all.filter((c) => c.startMs < boundary - BOUNDARY_SLACK_MS),
  };
}

async function syncedItems() {
  const maps = (await service().syncMaps.list({ pageSize: 100 })).filter((m) =>
    m.uniqueName?.startsWith(RECENT_CALLS_MAP_PREFIX),
  );
  const items = new Map<
    string,
    {
      map: (typeof maps)[number];
      item: Awaited<ReturnType<ReturnType<ReturnType<typeof service>['syncMaps']>['syncMapItems']['list']>>[number];
    }
  >();
  for (const map of maps) {
    for (const item of await service().syncMaps(map.sid).syncMapItems.list({ pageSize: 100 })) {
      items.set(`${map.uniqueName}|${item.key}`, { map, item });
    }
  }
  return { maps, items };
}

/** Checks Sync against the emulator's records: every recent call right, no old call, nothing else. */
async function expectSynced() {
  const now = await emulatorNow();
  const { recent, old } = partition(now);
  const synced = await syncedItems();
  for (const call of recent) {
    const found = synced.items.get(call.key);
    expect(found).toBeDefined();
    expect(found!.item.data).toEqual(call.data);
    const drift = found!.item.dateExpires!.getTime() - (call.startMs + 30 * DAY_MS);
    expect(Math.abs(drift)).toBeLessThanOrEqual(2000);
    expect(found!.item.revision).toBe('0'); // created once, never rewritten
  }
  for (const call of old) expect(synced.items.has(call.key)).toBe(false);
  const handled = new Set(handledCalls().map((c) => c.key));
  for (const key of synced.items.keys()) expect(handled.has(key)).toBe(true);
  return { ...synced, now, recent, old };
}

async function emulatorNow(): Promise<number> {
  return Date.parse((await system.admin.config()).now);
}

async function seed(agents: number, callsPerAgent: number, days = 40) {
  const seeded = await system.admin.seed({ agents, callsPerAgent, days });
  await system.admin.advanceClock(120); // past the job's 60 s settling lag
  return seeded;
}

describe('items and TTLs', () => {
  it('writes one item per handled call into the agent map, date_expires = call start + 30 days; older calls skipped', async () => {
    const seeded = await seed(6, 12);
    const result = await syncAll();
    const { maps, items, now, recent, old } = await expectSynced();
    expect(recent.length).toBeGreaterThan(30);
    expect(old.length).toBeGreaterThan(0);
    expect(maps.map((m) => m.uniqueName).sort()).toEqual(
      seeded.agents.map((a) => recentCallsMapName(a.workerSid)).sort(),
    );
    for (const { item } of items.values()) expect(Buffer.byteLength(JSON.stringify(item.data))).toBeLessThan(2048);
    expect(result.totals.written).toBe(items.size);

    // Each map's TTL was refreshed by CollectionTtl on the item writes: 31 days from now.
    for (const map of maps) {
      expect(Math.abs(map.dateExpires!.getTime() - (now + 31 * DAY_MS))).toBeLessThan(60_000);
    }
  });

  it('a second run writes nothing; a later run writes only the new calls', async () => {
    await seed(4, 10);
    await syncAll();
    const before = await syncedItems();

    const second = await invoke();
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ done: true, written: 0, failed: 0, remaining: 0, remainingExact: true });

    // Two days later: a day of new traffic (all after the checkpoint), then the next scheduled run.
    await system.admin.advanceClock(2 * 86_400);
    await system.admin.seed({ agents: 2, callsPerAgent: 5, days: 1 });
    await system.admin.advanceClock(120);
    const statsBefore = await system.admin.stats();
    const third = await syncAll();
    const statsAfter = await system.admin.stats();
    const after = await expectSynced();
    // (Two days on, the sweeper removed the items that expired meanwhile: count the new keys.)
    const added = [...after.items.keys()].filter((key) => !before.items.has(key));
    expect(added.length).toBeGreaterThan(0);
    expect(third.totals.written).toBe(added.length);
    for (const { item } of after.items.values()) expect(item.revision).toBe('0');
    const itemPosts = (s: typeof statsAfter) => s.byRoute['POST /v1/Services/:ServiceSid/Maps/:MapSid/Items'] ?? 0;
    // One item write per new call: the calls of the first run were not even retried, and a new agent's map, found
    // missing by the range read, is created before its first item (not found missing by a create answered 404).
    const newMaps = after.maps.filter((m) => !before.maps.some((b) => b.sid === m.sid)).length;
    expect(newMaps).toBe(2);
    expect(itemPosts(statsAfter) - itemPosts(statsBefore)).toBe(third.totals.written);
  });

  it('answers the documented summary, keeps a checkpoint and logs a summary line', async () => {
    await seed(3, 6);
    const first = await invoke();
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(
      ['done', 'failed', 'processed', 'remaining', 'remainingExact', 'skipped', 'syncedThrough', 'written'].sort(),
    );
    expect(first.body.processed).toBe(
      Number(first.body.written) + Number(first.body.skipped) + Number(first.body.failed),
    );
    const doc = await service().documents(CHECKPOINT_DOCUMENT_NAME).fetch();
    expect(doc.data).toMatchObject({ cursor: first.body.syncedThrough, lease: null });
    expect(Date.parse(String(first.body.syncedThrough))).toBeLessThanOrEqual((await emulatorNow()) - 60_000);
    const line = [...system.functions.output].reverse().find((l) => l.includes('"sync run summary"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({
      level: 'info',
      written: first.body.written,
      retries: expect.any(Number),
      throttled: expect.any(Number),
      elapsedMs: expect.any(Number),
    });
  });

  it('after the clock moves 31 days every item is expired, and a new run does not bring any back', async () => {
    await admin().setLimits({ sweepLagSeconds: 90 * 86_400 }); // keep expired items readable
    await seed(3, 8);
    await syncAll();
    const synced = await syncedItems();
    expect(synced.items.size).toBeGreaterThan(0);

    await system.admin.advanceClock(31 * 86_400);
    const now = await emulatorNow();
    const later = await syncedItems();
    expect(later.items.size).toBe(synced.items.size); // still there (removal is eventual)...
    for (const { item } of later.items.values()) expect(item.dateExpires!.getTime()).toBeLessThan(now); // ...but expired

    const rerun = await syncAll();
    expect(rerun.totals.written).toBe(0);
    await admin().setLimits({ sweepLagSeconds: 3600 });
  });
});

const admin = () => system.admin;

describe('ACL permissions', () => {
  it('with AclEnabled, grants each agent read-only access to its own map and to no other', async () => {
    await service().update({ aclEnabled: true });
    const seeded = await seed(4, 6);
    await syncAll();
    const { maps } = await syncedItems();
    expect(maps.length).toBe(seeded.agents.length);
    for (const map of maps) {
      const agent = seeded.agents.find((a) => map.uniqueName === recentCallsMapName(a.workerSid))!;
      const permissions = await service().syncMaps(map.sid).syncMapPermissions.list();
      expect(
        permissions.map((p) => ({ identity: p.identity, read: p.read, write: p.write, manage: p.manage })),
      ).toEqual([{ identity: agent.identity, read: true, write: false, manage: false }]);
    }
  });

  it('without ACLs, grants nothing', async () => {
    await service().update({ aclEnabled: false }); // the emulator's service starts with ACLs on, like `npm run setup` leaves it
    await seed(2, 4);
    await syncAll();
    const { maps } = await syncedItems();
    for (const map of maps) expect(await service().syncMaps(map.sid).syncMapPermissions.list()).toEqual([]);
  });
});

describe('worker identities', () => {
  it('reads every agent identity in bulk from the Workers list (used when events lack worker_attributes)', async () => {
    const seeded = await system.admin.seed({ agents: 7, callsPerAgent: 1, days: 1 });
    const identities = await readWorkerIdentities(system.twilio, {
      workspaceSid: system.emulator.config.workspaceSid,
      maxWorkers: 1000,
    });
    expect(Object.fromEntries(identities)).toEqual(
      Object.fromEntries(seeded.agents.map((a) => [a.workerSid, a.identity])),
    );
  });
});

describe('signature', () => {
  const syncWrites = async () => {
    const stats = await system.admin.stats();
    return Object.entries(stats.byRoute)
      .filter(([route]) => route.startsWith('POST /v1/Services'))
      .reduce((n, [, count]) => n + count, 0);
  };

  it('refuses unsigned, tampered, wrongly keyed and wrong-URL requests, and does nothing for them', async () => {
    await seed(2, 3);
    expect(await invoke({ unsigned: true })).toMatchObject({ status: 401, body: { code: 'SIGNATURE_MISSING' } });
    expect(await invoke({ tamper: true })).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } });
    expect(await invoke({ token: 'f'.repeat(32) })).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } });
    expect(await invoke({ signUrl: 'https://attacker.example/sync-recent-calls' })).toMatchObject({ status: 401 });
    const get = await fetch(fnUrl());
    expect(get.status).toBe(405);
    expect(await syncWrites()).toBe(0);
    expect((await system.admin.stats()).byFamily.taskrouter ?? 0).toBe(0);
  });
});
