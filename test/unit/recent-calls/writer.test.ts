/**
 * The writer's outcomes for map permission grants (a stub Sync client: the emulator never refuses a grant for a
 * reason other than the identity, see the integration test), and what it no longer does twice.
 */
import type { Twilio } from 'twilio';
import { createLogger } from '../../../src/observability/logger';
import { ObjectRateLimiter } from '../../../src/twilio/object-rate-limiter';
import { buildCallRecord, type CallRecord } from '../../../src/recent-calls/call-record';
import type { Completion } from '../../../src/recent-calls/events-source';
import { recentCallsMapName } from '../../../src/recent-calls/map-name';
import { RecentCallsWriter } from '../../../src/recent-calls/writer';
import { recentCallItemKey } from '../../../src/recent-calls/item-key';
import { Deadline } from '../../../src/twilio/deadline';
import { resetWarmState } from '../../../src/runtime/warm-state';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const WK = (n: number) => 'WK' + String(n).repeat(32);
let seq = 0;

function record(workerSid: string, identity: string | undefined, startedAgoMs = 3_600_000): CallRecord {
  seq += 1;
  const hex = seq.toString(16).padStart(32, '0');
  const createdMs = Math.floor((NOW - startedAgoMs) / 1000) * 1000;
  const completion: Completion = {
    eventSid: `EV${hex}`,
    eventDateMs: NOW - startedAgoMs + 600_000,
    workerSid,
    identity,
    taskSid: `WT${hex}`,
    itemKey: recentCallItemKey(`WT${hex}`, createdMs / 1000),
    taskCreatedMs: createdMs,
    callSid: `CA${hex}`,
    direction: 'inbound',
    outbound: false,
    from: '+12065550100',
    to: '+14155550100',
    queue: 'Support',
    taskAgeSeconds: 600,
  };
  return buildCallRecord(completion);
}

interface Behaviour {
  grant?: (identity: string) => unknown;
  /** What an item create throws (a Twilio error), if anything. */
  item?: (map: string) => unknown;
  /** What a map create throws, if anything. */
  createMap?: () => unknown;
}

/** Just the Sync calls the writer makes; every item create succeeds. */
function stubClient(behaviour: Behaviour) {
  const sent = { items: [] as string[], grants: [] as Array<{ map: string; identity: string }> };
  const syncMaps = Object.assign(
    (map: string) => ({
      syncMapItems: {
        create: async (opts: { key: string }) => {
          const failure = behaviour.item?.(map);
          if (failure) throw failure;
          sent.items.push(`${map}|${opts.key}`);
          return {};
        },
      },
      syncMapPermissions: (identity: string) => ({
        update: async () => {
          sent.grants.push({ map, identity });
          const outcome = behaviour.grant?.(identity);
          if (outcome instanceof Error || (outcome && typeof outcome === 'object')) throw outcome;
          return {};
        },
      }),
    }),
    {
      create: async () => {
        const failure = behaviour.createMap?.();
        if (failure) throw failure;
        return {};
      },
    },
  );
  const client = { sync: { v1: { services: () => ({ syncMaps }) } } } as unknown as Twilio;
  return { client, sent };
}

function writer(
  client: Twilio,
  options: {
    limiter?: ObjectRateLimiter;
    deadline?: Deadline;
    identityOf?: (workerSid: string) => string | undefined;
  } = {},
) {
  return new RecentCallsWriter({
    client,
    serviceSid: 'IS' + '0'.repeat(32),
    limiter: options.limiter ?? new ObjectRateLimiter({ ratePerSecond: 1000, burst: 100 }),
    concurrency: 4,
    perMapConcurrency: 4,
    ttlDays: 30,
    serverNow: () => NOW,
    aclEnabled: true,
    deadline: options.deadline ?? Deadline.none(),
    log: createLogger({ write: () => {} }),
    identityOf: options.identityOf,
  });
}

const twilioError = (status: number, code: number) => Object.assign(new Error(`HTTP ${status}`), { status, code });

describe('permission grants', () => {
  it('a grant refused with a 4xx fails the records permanently (recorded, passed), and is asked once per map', async () => {
    const { client, sent } = stubClient({ grant: () => twilioError(400, 20001) });
    const records = [record(WK(1), 'bad\u0007agent'), record(WK(1), 'bad\u0007agent'), record(WK(1), 'bad\u0007agent')];
    const outcomes = await writer(client).write(records);
    expect(outcomes).toEqual(
      records.map(() => ({ kind: 'failed', retryable: false, code: 'PERMISSION_20001', cause: 'rejected' })),
    );
    expect(sent.items).toHaveLength(3); // the items are there
    expect(sent.grants).toHaveLength(1);
  });

  it('403 and 404 are permanent too; 429 / 5xx stay retryable', async () => {
    for (const [status, code, retryable, cause] of [
      [403, 20403, false, 'rejected'],
      [404, 20404, false, 'rejected'],
      [429, 54009, true, 'throttled'],
      [503, 20503, true, 'unavailable'],
    ] as const) {
      const { client } = stubClient({ grant: () => twilioError(status, code) });
      const [outcome] = await writer(client).write([record(WK(2), 'alice')]);
      expect(outcome).toEqual({ kind: 'failed', retryable, code: `PERMISSION_${code}`, cause });
    }
  });

  it('an unexpected error (not an answer from Twilio) is retryable: the job gives it up after a few runs', async () => {
    const { client } = stubClient({ grant: () => new TypeError('boom') });
    const [outcome] = await writer(client).write([record(WK(3), 'alice')]);
    expect(outcome).toEqual({ kind: 'failed', retryable: true, code: 'PERMISSION_UNEXPECTED', cause: 'unexpected' });
  });

  it('sends the identity percent-encoded: a "/" or ".." in worker attributes cannot reach another map', async () => {
    const { client, sent } = stubClient({});
    const identity = `x/../../../${recentCallsMapName(WK(5))}/Permissions/eve`;
    const outcomes = await writer(client).write([record(WK(4), identity)]);
    expect(outcomes).toEqual([{ kind: 'written' }]);
    expect(sent.grants).toEqual([{ map: recentCallsMapName(WK(4)), identity: encodeURIComponent(identity) }]);
  });

  it('an item written whose grant the budget leaves for the next run: uncommitted, but reported as written', async () => {
    const { client, sent } = stubClient({});
    // One write per second for the map, and the budget ends before the second slot: the grant cannot start.
    const limiter = new ObjectRateLimiter({ ratePerSecond: 1, burst: 1 });
    const outcomes = await writer(client, { limiter, deadline: new Deadline(500) }).write([record(WK(7), 'alice')]);
    expect(outcomes).toEqual([{ kind: 'not-attempted', itemWritten: true }]);
    expect(sent.items).toHaveLength(1);
    expect(sent.grants).toHaveLength(0);
  });

  it('a record found in its map is not written again, but waits for its map’s grant like a written one', async () => {
    for (const [grant, expected] of [
      [undefined, { kind: 'exists' }],
      [
        () => twilioError(400, 20001),
        { kind: 'failed', retryable: false, code: 'PERMISSION_20001', cause: 'rejected' },
      ],
    ] as const) {
      resetWarmState();
      const { client, sent } = stubClient({ grant });
      const found = record(WK(3), 'carol');
      const outcomes = await writer(client).write([found], { alreadyIn: new Set([0]) });
      expect(outcomes).toEqual([expected]);
      expect(sent.items).toEqual([]);
      expect(sent.grants).toEqual([{ map: recentCallsMapName(WK(3)), identity: 'carol' }]);
    }
  });

  it('a call already older than the TTL is skipped without a request or a grant', async () => {
    const { client, sent } = stubClient({});
    const outcomes = await writer(client).write([record(WK(6), 'alice', 31 * 86_400_000)]);
    expect(outcomes).toEqual([{ kind: 'old' }]);
    expect(sent).toEqual({ items: [], grants: [] });
  });
});

describe('scheduling', () => {
  /** A Sync stub whose every request takes `ms`, logging what it was sent and how many were in flight at once. */
  function timedClient(ms = 5) {
    const log: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const timed = async (entry: string) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      log.push(entry);
      await new Promise((resolve) => setTimeout(resolve, ms));
      inFlight -= 1;
      return {};
    };
    const syncMaps = Object.assign(
      (map: string) => ({
        syncMapItems: { create: (opts: { key: string }) => timed(`item ${map} ${opts.key}`) },
        syncMapPermissions: () => ({ update: () => timed(`grant ${map}`) }),
      }),
      { create: (opts: { uniqueName: string }) => timed(`create ${opts.uniqueName}`) },
    );
    const client = { sync: { v1: { services: () => ({ syncMaps }) } } } as unknown as Twilio;
    return { client, log, peak: () => peak };
  }

  function timedWriter(client: Twilio, concurrency: number) {
    return new RecentCallsWriter({
      client,
      serviceSid: 'IS' + '0'.repeat(32),
      limiter: new ObjectRateLimiter({ ratePerSecond: 1000, burst: 100 }),
      concurrency,
      perMapConcurrency: 4,
      ttlDays: 30,
      serverNow: () => NOW,
      aclEnabled: true,
      deadline: Deadline.none(),
      log: createLogger({ write: () => {} }),
    });
  }

  it('creates each missing map before its items and grants after one is in, with every worker busy meanwhile', async () => {
    const { client, log, peak } = timedClient();
    const unique = Array.from({ length: 10 }, (_, i) => 'WK' + String(i).padStart(32, '0'));
    const records = unique.flatMap((sid) => Array.from({ length: 5 }, () => record(sid, `agent-${sid}`)));
    const absentMaps = new Set(unique.map(recentCallsMapName));
    const outcomes = await timedWriter(client, 8).write(records, { absentMaps });
    expect(outcomes.every((o) => o.kind === 'written')).toBe(true);
    for (const sid of unique) {
      const map = recentCallsMapName(sid);
      const create = log.indexOf(`create ${map}`);
      const items = log.flatMap((entry, i) => (entry.startsWith(`item ${map} `) ? [i] : []));
      const grant = log.indexOf(`grant ${map}`);
      expect(create).toBeGreaterThanOrEqual(0);
      expect(items).toHaveLength(5);
      expect(Math.min(...items)).toBeGreaterThan(create);
      expect(grant).toBeGreaterThan(Math.min(...items));
    }
    expect(peak()).toBe(8);
  });

  it('prepares missing maps before their records are known: each created, then granted, once; the write then sends items only', async () => {
    const { client, log, peak } = timedClient();
    const unique = Array.from({ length: 10 }, (_, i) => 'WK' + String(i).padStart(32, '0'));
    const w = timedWriter(client, 4);
    // Each agent named twice (one per completion): still one map each.
    await w.prepareMaps([...unique, ...unique].map((workerSid) => ({ workerSid, identity: `agent-${workerSid}` })));
    expect(log).toHaveLength(20);
    const records = unique.flatMap((sid) => Array.from({ length: 3 }, () => record(sid, `agent-${sid}`)));
    const absentMaps = new Set(unique.map(recentCallsMapName));
    const outcomes = await w.write(records, { absentMaps });
    expect(outcomes.every((o) => o.kind === 'written')).toBe(true);
    for (const sid of unique) {
      const map = recentCallsMapName(sid);
      expect(log.filter((entry) => entry === `create ${map}`)).toHaveLength(1);
      expect(log.filter((entry) => entry === `grant ${map}`)).toHaveLength(1);
      expect(log.indexOf(`grant ${map}`)).toBeGreaterThan(log.indexOf(`create ${map}`));
    }
    expect(log.slice(20).every((entry) => entry.startsWith('item '))).toBe(true);
    expect(peak()).toBe(4);
  });

  it('a write started while maps are being prepared takes over: never more in flight than the concurrency, nothing twice', async () => {
    const { client, log, peak } = timedClient(10);
    const unique = Array.from({ length: 12 }, (_, i) => 'WK' + String(i).padStart(32, '0'));
    const w = timedWriter(client, 4);
    void w.prepareMaps(unique.map((workerSid) => ({ workerSid, identity: `agent-${workerSid}` })));
    const records = unique.flatMap((sid) => Array.from({ length: 3 }, () => record(sid, `agent-${sid}`)));
    const outcomes = await w.write(records, { absentMaps: new Set(unique.map(recentCallsMapName)) });
    expect(outcomes.every((o) => o.kind === 'written')).toBe(true);
    for (const sid of unique) {
      const map = recentCallsMapName(sid);
      expect(log.filter((entry) => entry === `create ${map}`)).toHaveLength(1);
      expect(log.filter((entry) => entry === `grant ${map}`)).toHaveLength(1);
      expect(log.filter((entry) => entry.startsWith(`item ${map} `))).toHaveLength(3);
    }
    expect(peak()).toBe(4);
    // The preparation stopped when the write started: the write made the last grants, each after an item of its map.
    const lastGrant = Math.max(...log.flatMap((entry, i) => (entry.startsWith('grant ') ? [i] : [])));
    expect(log.findIndex((entry) => entry.startsWith('item '))).toBeLessThan(lastGrant);
  });

  it('a second preparation takes over the first one’s places: never more in flight than the concurrency', async () => {
    const { client, log, peak } = timedClient(10);
    const unique = Array.from({ length: 12 }, (_, i) => 'WK' + String(i).padStart(32, '0'));
    const w = timedWriter(client, 4);
    const agents = unique.map((workerSid) => ({ workerSid, identity: `agent-${workerSid}` }));
    const first = w.prepareMaps(agents);
    await Promise.all([first, w.prepareMaps(agents)]);
    for (const sid of unique)
      expect(log.filter((entry) => entry === `create ${recentCallsMapName(sid)}`)).toHaveLength(1);
    expect(peak()).toBe(4);
  });

  it('a map whose preparation is slow does not hold up the write’s other maps', async () => {
    const log: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const slowMap = recentCallsMapName(WK(1));
    const syncMaps = Object.assign(
      (map: string) => ({
        syncMapItems: {
          create: async (opts: { key: string }) => {
            log.push(`item ${map} ${opts.key}`);
            return {};
          },
        },
        syncMapPermissions: () => ({ update: async () => ({}) }),
      }),
      {
        create: async (opts: { uniqueName: string }) => {
          if (opts.uniqueName === slowMap) await slow;
          log.push(`created ${opts.uniqueName}`);
          return {};
        },
      },
    );
    const client = { sync: { v1: { services: () => ({ syncMaps }) } } } as unknown as Twilio;
    const w = timedWriter(client, 4);
    void w.prepareMaps([{ workerSid: WK(1), identity: 'alice' }]);
    const others = [2, 3, 4, 5].map(WK);
    const records = [WK(1), ...others].flatMap((sid) => [record(sid, `agent-${sid}`), record(sid, `agent-${sid}`)]);
    const written = w.write(records, { existingMaps: new Set(others.map(recentCallsMapName)) });
    for (let i = 0; i < 200 && log.filter((entry) => entry.startsWith('item ')).length < 8; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log.filter((entry) => entry.startsWith('item '))).toHaveLength(8); // the other maps' items, all written
    expect(log).not.toContain(`created ${slowMap}`);
    release();
    const outcomes = await written;
    expect(outcomes.every((o) => o.kind === 'written')).toBe(true);
    expect(log.filter((entry) => entry === `created ${slowMap}`)).toHaveLength(1);
  });

  it('sends a map’s first writes together when a range read found the map, one first when nothing is known', async () => {
    for (const [found, expectedPeak] of [
      [true, 4],
      [false, 3], // the first item alone, then the other three together
    ] as const) {
      const { client, log, peak } = timedClient();
      const records = Array.from({ length: 4 }, () => record(WK(8), 'alice'));
      const existingMaps = new Set(found ? [recentCallsMapName(WK(8))] : []);
      await timedWriter(client, 8).write(records, { existingMaps });
      expect(log.filter((entry) => entry.startsWith('item '))).toHaveLength(4);
      expect(peak()).toBe(expectedPeak);
    }
  });
});

describe('maps prepared before the write', () => {
  it('a create that failed is made by the write; a grant refused for good fails the records, as without preparing', async () => {
    resetWarmState();
    let creates = 0;
    const { client, sent } = stubClient({
      createMap: () => (++creates === 1 ? twilioError(503, 20503) : undefined),
      grant: (identity) => (identity === 'mallory' ? twilioError(400, 54008) : undefined),
    });
    const w = writer(client);
    await w.prepareMaps([
      { workerSid: WK(1), identity: 'alice' },
      { workerSid: WK(2), identity: 'mallory' },
    ]);
    const absentMaps = new Set([recentCallsMapName(WK(1)), recentCallsMapName(WK(2))]);
    const outcomes = await w.write([record(WK(1), 'alice'), record(WK(2), 'mallory')], { absentMaps });
    expect(outcomes[0]).toEqual({ kind: 'written' });
    expect(outcomes[1]).toMatchObject({ kind: 'failed', retryable: false, code: 'PERMISSION_54008' });
    expect(creates).toBe(3); // alice's map twice (the prepared create failed), mallory's once
    expect(sent.grants.map((g) => g.identity).sort()).toEqual(['alice', 'mallory']); // mallory's refusal not asked again
  });

  it('an agent without an identity gets its map prepared, and its grant once its identity is known', async () => {
    resetWarmState();
    const { client, sent } = stubClient({});
    let identitiesRead = false;
    const w = writer(client, {
      identityOf: (workerSid) => (identitiesRead && workerSid === WK(3) ? 'carol' : undefined),
    });
    // Before the window's identities are read: the map only.
    await w.prepareMaps([{ workerSid: WK(3) }]);
    expect(sent.grants).toEqual([]);
    identitiesRead = true;
    const outcomes = await w.write([record(WK(3), undefined)], { absentMaps: new Set([recentCallsMapName(WK(3))]) });
    expect(outcomes).toEqual([{ kind: 'written' }]);
    expect(sent.grants).toEqual([{ map: recentCallsMapName(WK(3)), identity: 'carol' }]);
    // An agent identityOf does not know is not granted by the preparation; one it knows is.
    await w.prepareMaps([{ workerSid: WK(4) }]);
    expect(sent.grants).toHaveLength(1);
    const later = writer(client, { identityOf: () => 'dave' });
    await later.prepareMaps([{ workerSid: WK(4) }]);
    expect(sent.grants).toEqual([
      { map: recentCallsMapName(WK(3)), identity: 'carol' },
      { map: recentCallsMapName(WK(4)), identity: 'dave' },
    ]);
  });
});

describe('failures of the writer itself and of maps that went', () => {
  it('rejects the write when its own code throws, and stops sending', async () => {
    const { client, sent } = stubClient({});
    const records = Array.from({ length: 40 }, () => record(WK(9), 'alice'));
    const bug = new Error('progress reporter broke');
    const written = writer(client).write(records, {
      onProgress: () => {
        throw bug;
      },
    });
    await expect(written).rejects.toBe(bug);
    expect(sent.items.length).toBeLessThan(10); // the 4 workers stop after the unit they were sending
  });

  it('grants a map again when it had gone and a write created it again, or found it just created (its own create, answered late, or another writer’s)', async () => {
    for (const [createAnswer, grantsExpected] of [
      ['created', 2],
      ['already there (54301)', 2],
    ] as const) {
      resetWarmState(); // a fresh instance: it remembers no grant
      const behaviour: Behaviour = {};
      const { client, sent } = stubClient(behaviour);
      const w = writer(client);
      expect(await w.write([record(WK(5), 'alice')])).toEqual([{ kind: 'written' }]);
      expect(sent.grants).toHaveLength(1);
      // The map expired meanwhile: the next item's create answers 404, the writer creates the map and writes again.
      let missing = true;
      behaviour.item = () => (missing ? twilioError(404, 20404) : undefined);
      behaviour.createMap = () => {
        missing = false;
        return createAnswer === 'created' ? undefined : twilioError(409, 54301);
      };
      expect(await w.write([record(WK(5), 'alice')])).toEqual([{ kind: 'written' }]);
      expect(sent.grants).toHaveLength(grantsExpected);
    }
  });
});
