/**
 * The recent-calls job (runSyncJob) run in this process against the emulator over HTTP with the real SDK, one
 * invocation at a time, as the function runs it (work client with the budget as deadline, control client with the
 * reserve after it, one limiter kept across invocations). In process, so that each test can choose the budget,
 * read the job's log lines and look at the checkpoint between runs:
 * - a slow first window (latency on TaskRouter and API, a small budget) must not livelock: runs make progress;
 * - a record that cannot be completed (a permission Sync refuses, a map that answers 429 forever) must not hold
 *   the checkpoint forever;
 * - a forged checkpoint (cursor in the future, lease far ahead) must neither skip calls nor keep the job busy;
 * - every invocation logs exactly one summary line, busy and failed ones included.
 */
import twilio, { type Twilio } from 'twilio';
import { EmulatorAdmin } from '../../../emulator/admin-client';
import type { EventRecord } from '../../../emulator/families/taskrouter';
import { startEmulator, type Emulator } from '../../../emulator/server';
import type { SyncJobConfig } from '../../../src/config/sync-job';
import { createLogger } from '../../../src/observability/logger';
import type { CheckpointState } from '../../../src/recent-calls/checkpoint-state';
import { CheckpointStore } from '../../../src/recent-calls/checkpoint-store';
import { acquireLease } from '../../../src/recent-calls/lease';
import { checkpointKey } from '../../../src/recent-calls/checkpoint-seal';
import { limiterSettings, runSyncJob, type JobSummary } from '../../../src/recent-calls/job';
import { CHECKPOINT_DOCUMENT_NAME, recentCallsMapName } from '../../../src/recent-calls/map-name';
import { resetWarmState } from '../../../src/runtime/warm-state';
import { Deadline } from '../../../src/twilio/deadline';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { ObjectRateLimiter } from '../../../src/twilio/object-rate-limiter';
import type { RetryPolicy } from '../../../src/twilio/retry-policy';
import { emulatorClient } from '../../helpers/system';
import { handledCalls } from '../../helpers/handled-calls';

const DAY_MS = 86_400_000;
const BOUNDARY_SLACK_MS = 10 * 60_000;

let emulator: Emulator;
let admin: EmulatorAdmin;
let sdk: Twilio;

beforeAll(async () => {
  emulator = await startEmulator();
  admin = new EmulatorAdmin(emulator.url);
  sdk = emulatorClient(emulator);
});
afterAll(() => emulator?.close());
beforeEach(() => admin.reset());

function jobConfig(budgetMs: number): SyncJobConfig {
  return {
    serviceSid: emulator.config.syncServiceSid,
    workspaceSid: emulator.config.workspaceSid,
    ttlDays: 30,
    budgetMs,
    concurrency: 32,
    mapWritesPerSecond: 18,
    eventLagSeconds: 60,
  };
}

interface Invocation {
  summary?: JobSummary;
  error?: unknown;
  /** The JSON log lines of this invocation. */
  lines: Array<Record<string, unknown>>;
  summaries: Array<Record<string, unknown>>;
}

/**
 * A job runner that keeps one limiter across its invocations, like a warm function instance. `onWork` may wrap the
 * work client's HTTP layer (to hold or fail chosen requests).
 */
function jobRunner(config: SyncJobConfig, policy?: RetryPolicy, onWork?: (http: TwilioHttpClient) => void) {
  const limiter = new ObjectRateLimiter(limiterSettings(config));
  let n = 0;
  return async (): Promise<Invocation> => {
    const startedAt = performance.now();
    // As the function does: the invocation's deadline, the work budget carved from it.
    const root = Deadline.forInvocation();
    const work = root.child(config.budgetMs);
    const project = (deadline: Deadline) => {
      const http = new TwilioHttpClient({ emulatorUrl: emulator.url, deadline, policy });
      return {
        http,
        client: twilio(emulator.config.accountSid, emulator.config.authToken, {
          httpClient: http,
          accountSid: emulator.config.accountSid,
        }),
      };
    };
    const raw: string[] = [];
    const log = createLogger({
      write: (line) => raw.push(line),
      secrets: [emulator.config.authToken],
      fields: { requestId: `test-${++n}` },
    });
    const result: Invocation = { lines: [], summaries: [] };
    const workClients = project(work);
    onWork?.(workClients.http);
    try {
      result.summary = await runSyncJob(config, {
        work: workClients,
        control: project(root),
        deadline: work,
        limiter,
        checkpointKey: checkpointKey({ AUTH_TOKEN: emulator.config.authToken }),
        log,
        runId: `test-${n}`,
        startedAt,
      });
    } catch (error) {
      result.error = error;
    }
    result.lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    result.summaries = result.lines.filter((l) => l.msg === 'sync run summary');
    return result;
  };
}

const store = () =>
  new CheckpointStore(sdk, emulator.config.syncServiceSid, checkpointKey({ AUTH_TOKEN: emulator.config.authToken }));
async function checkpoint(): Promise<CheckpointState | undefined> {
  return (await store().load())?.state;
}

const total = (lines: Array<Record<string, unknown>>, field: string) =>
  lines.reduce((n, l) => n + (typeof l[field] === 'number' ? (l[field] as number) : 0), 0);

const syncService = () => emulator.state.sync.services.get(emulator.config.syncServiceSid)!;
function mapByName(name: string) {
  return [...syncService().maps.values()].find((m) => m.uniqueName === name);
}

/** Every completed voice reservation still inside its 30 days (with a margin), from the emulator's own records. */
function eligibleCalls(): Array<{ workerSid: string; itemKey: string }> {
  const boundary = emulator.clock.now() - 30 * DAY_MS + BOUNDARY_SLACK_MS;
  return handledCalls(emulator).filter((c) => c.startMs > boundary);
}

function missingCalls(except: (workerSid: string) => boolean = () => false): string[] {
  return eligibleCalls()
    .filter((c) => !except(c.workerSid) && !mapByName(recentCallsMapName(c.workerSid))?.items.has(c.itemKey))
    .map((c) => `${c.workerSid}|${c.itemKey}`);
}

/** Rewrites the worker attributes the agent's events carry (as if its contact_uri had been set so in TaskRouter). */
function poisonContactUri(workerSid: string, contactUri: string): void {
  const events = emulator.state.taskrouter.events;
  events.forEach((e, i) => {
    if (e.workerSid !== workerSid || typeof e.eventData.worker_attributes !== 'string') return;
    const eventData = {
      ...e.eventData,
      worker_attributes: JSON.stringify({ ...JSON.parse(e.eventData.worker_attributes), contact_uri: contactUri }),
    };
    // Seeded events build their fields when read: store a plain copy with the new data.
    const copy: EventRecord = {
      sid: e.sid,
      eventType: e.eventType,
      eventDateMs: e.eventDateMs,
      resourceSid: e.resourceSid,
      resourceType: e.resourceType,
      resourcePath: e.resourcePath,
      description: e.description,
      eventData,
      actorSid: e.actorSid,
      actorType: e.actorType,
      actorPath: e.actorPath,
      sourceIpAddress: e.sourceIpAddress,
      workerSid: e.workerSid,
      taskSid: e.taskSid,
      reservationSid: e.reservationSid,
      taskQueueSid: e.taskQueueSid,
      workflowSid: e.workflowSid,
      taskChannelSid: e.taskChannelSid,
      taskChannelUniqueName: e.taskChannelUniqueName,
      customerCallSid: e.customerCallSid,
      taskCreatedMs: e.taskCreatedMs,
    };
    events[i] = copy;
  });
}

async function seed(agents: number, callsPerAgent: number, days: number) {
  const seeded = await admin.seed({ agents, callsPerAgent, days });
  await admin.advanceClock(120); // past the job's 60 s settling lag
  return seeded;
}

describe('a slow first window', () => {
  it('with slow TaskRouter and API reads and a small budget, runs still make progress and finish (no livelock)', async () => {
    // About 2,700 completions in the last 30 days: 3 pages of events and 3 of calls for the whole TTL, 300 ms each,
    // more than the 1.5 s budget. A window of an hour is 2 pages.
    await seed(90, 40, 40);
    await admin.faults({ latencyMs: 300, families: ['taskrouter', 'api'] });
    const run = jobRunner(jobConfig(1500));
    const cursors: Array<string | null> = [];
    const errors: string[] = [];
    let done = false;
    // Bounded by a count, generous for a loaded machine (a livelock never finishes, however many runs it gets);
    // progress is asserted run by run below.
    for (let n = 1; n <= 120 && !done; n++) {
      const invocation = await run();
      if (invocation.error) errors.push(String((invocation.error as { code?: unknown }).code ?? invocation.error));
      expect(invocation.summaries).toHaveLength(1);
      const summary = invocation.summary;
      if (summary && !summary.done) expect(summary.remainingExact).toBe(false); // a cut run's `remaining` is a lower bound
      cursors.push((await checkpoint())?.cursor ?? null);
      // Progress from the first runs on, not after the latency goes away.
      if (n === 3) expect(cursors.filter((c) => c !== null)).not.toHaveLength(0);
      done = summary?.done === true;
    }
    await admin.faults({});
    expect(errors).toEqual([]);
    expect(done).toBe(true);
    expect(new Set(cursors).size).toBeGreaterThan(3); // the cursor moved run after run
    expect(missingCalls()).toEqual([]);
  }, 600_000);

  it('a window that cannot be read within the budget shrinks, and the length is saved with the cursor kept', async () => {
    // The reviewer's setting: 700 ms per TaskRouter / API request, a 1 s budget: a window with calls in it needs two
    // reads (events, then calls), which cannot fit. Dense traffic, so that windows have calls in them.
    await seed(90, 40, 40);
    await admin.faults({ latencyMs: 700, families: ['taskrouter', 'api'] });
    const run = jobRunner(jobConfig(1000));
    let before = await checkpoint();
    const shrunk: Array<[number, number]> = [];
    for (let n = 0; n < 4; n++) {
      const invocation = await run();
      expect(invocation.error).toBeUndefined(); // a budget cut, not a 503
      expect(invocation.summary).toMatchObject({ done: false, remainingExact: false });
      expect(invocation.summaries).toHaveLength(1);
      const after = (await checkpoint())!;
      expect(after.windowSeconds).toEqual(expect.any(Number)); // saved even though no window was committed
      if (Number(invocation.summaries[0].readsOutOfBudget) > 0) {
        const used = before?.windowSeconds ?? 3600;
        shrunk.push([used, after.windowSeconds!]);
        // What the run saw of the window before it ran out is reported as waiting (a lower bound).
        expect(invocation.summary!.remaining).toBeGreaterThan(0);
        expect(after.cursor).toBe(before?.cursor ?? null); // the cursor did not move past unread events
      }
      before = after;
    }
    await admin.faults({});
    expect(shrunk.length).toBeGreaterThan(0);
    for (const [used, next] of shrunk) expect(next).toBeLessThan(used);
  });
});

describe('records that cannot be completed', () => {
  it('a permission Sync refuses (4xx) fails those records permanently: recorded, passed, the rest synced', async () => {
    await sdk.sync.v1.services(emulator.config.syncServiceSid).update({ aclEnabled: true });
    const seeded = await seed(3, 8, 10);
    const poisoned = seeded.agents[0].workerSid;
    // The agent's contact_uri carries an identity Sync refuses (the emulator answers 400 for control characters).
    poisonContactUri(poisoned, 'client:bad\u0007agent');
    const run = jobRunner(jobConfig(5000));
    let last: Invocation | undefined;
    const lines: Array<Record<string, unknown>> = [];
    for (let n = 1; n <= 6 && last?.summary?.done !== true; n++) {
      last = await run();
      lines.push(...last.lines);
    }
    expect(last?.error).toBeUndefined();
    expect(last?.summary?.done).toBe(true);
    const state = (await checkpoint())!;
    const refused = state.failures.filter((f) => f.workerSid === poisoned);
    // Logged at error level, each record by its key (alerts watch error lines).
    const errorKeys = lines
      .filter((l) => l.level === 'error' && String(l.msg).startsWith('recent calls failed permanently'))
      .flatMap((l) => (l.keys as Array<{ key: string }>).map((k) => k.key));
    expect(errorKeys.sort()).toEqual(refused.map((f) => f.key).sort());
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((f) => f.code === 'PERMISSION_20001')).toBe(true);
    expect(missingCalls()).toEqual([]); // the items are written all the same; only the grant was refused
    for (const agent of seeded.agents.slice(1)) {
      expect([...mapByName(recentCallsMapName(agent.workerSid))!.permissions.keys()]).toEqual([agent.identity]);
    }
  });

  it('an item whose grant an earlier run did not get to is granted by the run that finds it in its map', async () => {
    await sdk.sync.v1.services(emulator.config.syncServiceSid).update({ aclEnabled: true });
    const seeded = await seed(2, 3, 10);
    const run = jobRunner(jobConfig(5000));
    for (let n = 1; n <= 4 && (await run()).summary?.done !== true; n++);
    const agent = seeded.agents[0];
    const map = mapByName(recentCallsMapName(agent.workerSid))!;
    expect([...map.permissions.keys()]).toEqual([agent.identity]);
    // As if the run had been cut between the items and the grant: the items are there, the grant is not, and the
    // cursor is still before them. A fresh instance (no grant remembered) runs next.
    map.permissions.clear();
    await sdk.sync.v1.services(emulator.config.syncServiceSid).documents(CHECKPOINT_DOCUMENT_NAME).remove();
    resetWarmState();
    const again = await run();
    expect(again.summary?.written).toBe(0);
    expect(total(again.summaries, 'alreadyThere')).toBeGreaterThan(0);
    expect([...map.permissions.keys()]).toEqual([agent.identity]);
    await sdk.sync.v1.services(emulator.config.syncServiceSid).update({ aclEnabled: false });
  });

  it('a map that answers 429 forever: its records are given up after a bounded number of runs, the rest synced', async () => {
    await sdk.sync.v1.services(emulator.config.syncServiceSid).update({ aclEnabled: false });
    const seeded = await seed(4, 1, 10);
    // The agent whose call ends first: later records show that Sync takes other writes.
    const lastCompletion = (workerSid: string) =>
      Math.max(
        ...emulator.state.taskrouter.events
          .filter((e) => e.eventType === 'reservation.completed' && e.workerSid === workerSid)
          .map((e) => e.eventDateMs),
      );
    const poisonedSid = [...seeded.agents].sort((a, b) => lastCompletion(a.workerSid) - lastCompletion(b.workerSid))[0]
      .workerSid;
    const poisoned = recentCallsMapName(poisonedSid);
    const limiter = emulator.limiter;
    const take = limiter.take.bind(limiter);
    limiter.take = (key, cost) => (key === `map:${mapByName(poisoned)?.sid}` ? false : take(key, cost));
    // Few quick retries, so that each run's attempts at the poisoned map end well inside the budget.
    const run = jobRunner(jobConfig(1000), { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 });
    let last: Invocation | undefined;
    const givenUp: unknown[] = [];
    let n = 0;
    while (n < 30 && last?.summary?.done !== true) {
      n += 1;
      last = await run();
      expect(last.error).toBeUndefined();
      givenUp.push(...last.lines.filter((l) => l.msg === 'recent call given up: it failed in too many runs'));
    }
    expect(last?.summary?.done).toBe(true);
    // A 429 is retried in 10 runs first (back to back, a warm instance's limiter keeps the map's penalty into the
    // next run, which then does not attempt it: about twice as many invocations).
    expect(n).toBeGreaterThanOrEqual(10);
    const state = (await checkpoint())!;
    const poisonedCalls = eligibleCalls().filter((c) => c.workerSid === poisonedSid);
    expect(poisonedCalls.length).toBeGreaterThan(0);
    expect(state.failures.filter((f) => f.workerSid === poisonedSid).map((f) => f.code)).toEqual(
      poisonedCalls.map(() => 'GAVE_UP_54009'),
    );
    expect(givenUp).toHaveLength(poisonedCalls.length);
    expect(state.attempts).toEqual({});
    expect(missingCalls((w) => w === poisonedSid)).toEqual([]);
  });
});

describe('a forged checkpoint', () => {
  it('a cursor in the future does not skip calls, and a lease far ahead does not keep the job busy', async () => {
    await seed(3, 6, 10);
    const s = store();
    const current = await s.loadOrCreate();
    const future = new Date(emulator.clock.now() + 365 * DAY_MS).toISOString();
    expect(
      (await s.save({ ...current.state, cursor: future, lease: { owner: 'mallory', until: future } }, current.revision))
        .ok,
    ).toBe(true);
    const invocation = await jobRunner(jobConfig(5000))();
    expect(invocation.error).toBeUndefined();
    expect(invocation.summary).toMatchObject({ done: true });
    expect(invocation.summary?.busy).toBeUndefined();
    expect(invocation.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'checkpoint lease ends further ahead than any run takes it: ignored',
        "checkpoint cursor is ahead of Twilio's clock: ignored, starting from the oldest call inside the TTL",
      ]),
    );
    expect(missingCalls()).toEqual([]);
    expect(Date.parse((await checkpoint())!.cursor!)).toBeLessThan(emulator.clock.now());
  });
});

describe('one summary line per invocation', () => {
  it('a run that finds the job busy logs one', async () => {
    await seed(2, 3, 5);
    const s = store();
    const http = new TwilioHttpClient({ emulatorUrl: emulator.url });
    expect((await acquireLease(s, 'another-run', () => http.serverNow(), 10_000)).ok).toBe(true);
    const invocation = await jobRunner(jobConfig(2000))();
    expect(invocation.summary).toMatchObject({ busy: true, done: false, remainingExact: false });
    expect(invocation.summaries).toHaveLength(1);
    expect(invocation.summaries[0]).toMatchObject({
      level: 'info',
      busy: true,
      processed: 0,
      written: 0,
      retries: expect.any(Number),
      throttled: expect.any(Number),
      elapsedMs: expect.any(Number),
      remaining: 0,
    });
  });

  it('a run that fails while taking the lease logs one, with the error code', async () => {
    await admin.faults({ errorRate: 1, families: ['sync'] });
    const invocation = await jobRunner(jobConfig(600), { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 })();
    await admin.faults({});
    expect(invocation.error).toBeDefined();
    expect(invocation.summaries).toHaveLength(1);
    expect(invocation.summaries[0]).toMatchObject({
      level: 'error',
      done: false,
      processed: 0,
      serverErrors: expect.any(Number),
      error: expect.stringMatching(/^(20500|20503)$/),
    });
    expect(Number(invocation.summaries[0].serverErrors)).toBeGreaterThan(0);
  });

  it('a run that works logs one', async () => {
    await seed(2, 3, 5);
    const invocation = await jobRunner(jobConfig(3000))();
    expect(invocation.summary).toMatchObject({ done: true, remaining: 0, remainingExact: true });
    expect(invocation.summaries).toHaveLength(1);
    expect(invocation.summaries[0]).toMatchObject({ level: 'info', written: invocation.summary!.written, busy: false });
  });
});

describe('requests', () => {
  it('a backfill into new maps: one create per item and per map (no item create answered 404 first)', async () => {
    await seed(6, 4, 5);
    const before = await admin.stats();
    const run = jobRunner(jobConfig(8000));
    let done = false;
    for (let n = 1; n <= 10 && !done; n++) done = (await run()).summary?.done === true;
    const after = await admin.stats();
    const count = (route: string) => (after.byRoute[route] ?? 0) - (before.byRoute[route] ?? 0);
    expect(done).toBe(true);
    expect(missingCalls()).toEqual([]);
    expect(count('POST /v1/Services/:ServiceSid/Maps/:MapSid/Items')).toBe(eligibleCalls().length);
    expect(count('POST /v1/Services/:ServiceSid/Maps')).toBe(6);
  });
});

describe('the service’s map list', () => {
  const ITEM_READS = 'GET /v1/Services/:ServiceSid/Maps/:MapSid/Items';
  const ITEM_WRITES = 'POST /v1/Services/:ServiceSid/Maps/:MapSid/Items';
  async function backfill() {
    const before = await admin.stats();
    const run = jobRunner(jobConfig(8000));
    let done = false;
    for (let n = 1; n <= 10 && !done; n++) done = (await run()).summary?.done === true;
    const after = await admin.stats();
    return { done, count: (route: string) => (after.byRoute[route] ?? 0) - (before.byRoute[route] ?? 0) };
  }

  it('a backfill into a service without maps reads no map: every call written, one list read per run', async () => {
    await seed(6, 4, 5);
    const { done, count } = await backfill();
    expect(done).toBe(true);
    expect(missingCalls()).toEqual([]);
    expect(count(ITEM_READS)).toBe(0);
    expect(count('GET /v1/Services/:ServiceSid/Maps')).toBeGreaterThanOrEqual(1);
    expect(count(ITEM_WRITES)).toBe(eligibleCalls().length);
  });

  it('a map the list names is read: the call already in it is not written again; the maps it does not name are not read', async () => {
    const seeded = await seed(3, 4, 5);
    // One agent's map holds one of its calls already (as a pushed call would have written it).
    const agent = seeded.agents[0].workerSid;
    const pushed = eligibleCalls().find((c) => c.workerSid === agent)!;
    const name = recentCallsMapName(agent);
    await sdk.sync.v1.services(emulator.config.syncServiceSid).syncMaps.create({ uniqueName: name });
    await sdk.sync.v1
      .services(emulator.config.syncServiceSid)
      .syncMaps(name)
      .syncMapItems.create({ key: pushed.itemKey, data: { pushed: true } });
    const { done, count } = await backfill();
    expect(done).toBe(true);
    expect(missingCalls()).toEqual([]);
    expect(count(ITEM_READS)).toBe(1); // that agent's map, once
    expect(count(ITEM_WRITES)).toBe(eligibleCalls().length - 1);
    expect(mapByName(name)!.items.get(pushed.itemKey)!.data).toEqual({ pushed: true });
  });

  it('a service with more maps than the list reads: every agent’s map is read, as without the list', async () => {
    const seeded = await seed(3, 4, 5);
    const maps = sdk.sync.v1.services(emulator.config.syncServiceSid).syncMaps;
    for (let i = 0; i < 201; i++) await maps.create({ uniqueName: `other-app-${i}` });
    const { done, count } = await backfill();
    expect(done).toBe(true);
    expect(missingCalls()).toEqual([]);
    expect(count(ITEM_READS)).toBeGreaterThanOrEqual(seeded.agents.length);
  });
});

describe('reads beside reads', () => {
  it('reads what is in the maps while the window’s Calls list is still being read', async () => {
    const seeded = await seed(20, 5, 5);
    // The agents' maps exist (empty): the service's map list names them, so each is read.
    const maps = sdk.sync.v1.services(emulator.config.syncServiceSid).syncMaps;
    for (const agent of seeded.agents) await maps.create({ uniqueName: recentCallsMapName(agent.workerSid) });
    // Calls answer 400 ms late, everything else at once: range reads that waited for the Calls list would come after it.
    await admin.faults({ latencyMs: 400, families: ['api'] });
    const answered: Array<{ kind: 'calls' | 'items' }> = [];
    const watch = (answer: { method: string; pattern: string }) => {
      if (answer.method !== 'GET') return;
      if (answer.pattern.endsWith('/Calls.json')) answered.push({ kind: 'calls' });
      if (answer.pattern.endsWith('/Maps/:MapSid/Items')) answered.push({ kind: 'items' });
    };
    emulator.observers.push(watch);
    try {
      const run = await jobRunner(jobConfig(8000))();
      expect(run.error).toBeUndefined();
    } finally {
      emulator.observers.splice(emulator.observers.indexOf(watch), 1);
      await admin.faults({});
    }
    // A window without completions reads no Calls list: the first one answered is the first window with records,
    // and its range reads were answered before it.
    const firstItems = answered.findIndex((a) => a.kind === 'items');
    const firstCalls = answered.findIndex((a) => a.kind === 'calls');
    expect(firstItems).toBeGreaterThanOrEqual(0);
    expect(firstCalls).toBeGreaterThan(firstItems);
  });

  it('creates and grants the new agents’ maps while the window’s Calls list is still being read, each once', async () => {
    const seeded = await seed(20, 5, 5);
    await admin.faults({ latencyMs: 400, families: ['api'] });
    const answered: string[] = [];
    const watch = (answer: { method: string; pattern: string; status: number }) => {
      if (answer.method === 'GET' && answer.pattern.endsWith('/Calls.json')) answered.push('calls');
      if (answer.method !== 'POST') return; // a create answered 54301 or a grant sent twice counts too
      if (answer.pattern.endsWith('/Services/:ServiceSid/Maps')) answered.push('create');
      if (answer.pattern.endsWith('/Permissions/:Identity')) answered.push('grant');
      if (answer.pattern.endsWith('/Maps/:MapSid/Items')) answered.push('item');
    };
    emulator.observers.push(watch);
    try {
      const run = jobRunner(jobConfig(8000));
      let done = false;
      for (let n = 1; n <= 10 && !done; n++) done = (await run()).summary?.done === true;
      expect(done).toBe(true);
    } finally {
      emulator.observers.splice(emulator.observers.indexOf(watch), 1);
      await admin.faults({});
    }
    expect(missingCalls()).toEqual([]);
    const agents = seeded.agents.length;
    expect(answered.filter((a) => a === 'create')).toHaveLength(agents);
    expect(answered.filter((a) => a === 'grant')).toHaveLength(agents);
    // Every map and grant was answered before the first window's Calls list, and so before any item.
    const firstCalls = answered.indexOf('calls');
    expect(answered.slice(0, firstCalls).filter((a) => a === 'create')).toHaveLength(agents);
    expect(answered.slice(0, firstCalls).filter((a) => a === 'grant')).toHaveLength(agents);
    expect(answered.indexOf('item')).toBeGreaterThan(firstCalls);
  });
});

describe('a window read that fails', () => {
  it('ends the range reads it started before the run answers', async () => {
    await admin.seed({ agents: 12, callsPerAgent: 10, days: 5 });
    await admin.advanceClock(120);
    const first = jobRunner(jobConfig(8000));
    for (let i = 0; i < 10; i++) if ((await first()).summary?.done) break;
    // Started over (a checkpoint lost): the maps are there, so the first window reads them while its Calls list is
    // read; the list then fails (no retry), after the range reads have started.
    await sdk.sync.v1.services(emulator.config.syncServiceSid).documents(CHECKPOINT_DOCUMENT_NAME).remove();
    let inFlight = 0;
    let rangeReads = 0;
    const run = jobRunner(jobConfig(8000), { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, (http) => {
      const send = http.request.bind(http);
      http.request = (async (opts: Parameters<typeof send>[0]) => {
        const uri = String(opts.uri);
        if (uri.includes('/Calls.json')) return { statusCode: 503, body: { code: 20503, status: 503 }, headers: {} };
        if (opts.method?.toLowerCase() !== 'get' || !/\/Maps\/[^/]+\/Items/.test(uri)) return send(opts);
        inFlight += 1;
        rangeReads += 1;
        try {
          await new Promise((resolve) => setTimeout(resolve, 800));
          return await send(opts);
        } finally {
          inFlight -= 1;
        }
      }) as typeof http.request;
    });
    const invocation = await run();
    expect(invocation.error).toMatchObject({ status: 503 });
    expect(rangeReads).toBeGreaterThan(0);
    expect(inFlight).toBe(0);
  });
});

describe('window lengths', () => {
  it('a center whose calls begin days inside the TTL reads its empty days in three windows, then the rest in one', async () => {
    await seed(3, 4, 5); // every call in the last 5 of the 30 days
    const pages: number[] = [];
    const watch = (answer: { method: string; pattern: string; body: unknown }) => {
      if (answer.method !== 'GET' || !answer.pattern.endsWith('/Workspaces/:WorkspaceSid/Events')) return;
      pages.push(((answer.body as { events?: unknown[] }).events ?? []).length);
    };
    emulator.observers.push(watch);
    try {
      const run = await jobRunner(jobConfig(8000))();
      expect(run.summary?.done).toBe(true);
    } finally {
      emulator.observers.splice(emulator.observers.indexOf(watch), 1);
    }
    expect(missingCalls()).toEqual([]);
    // 1 h, then ×16 after each empty window (16 h, 256 h): the fourth window reaches the calls.
    expect(pages.findIndex((events) => events > 0)).toBe(3);
  });
});

describe('the first window beside the lease', () => {
  /** Answers of the routes these tests follow, in the order the emulator gave them. */
  function watchAnswers() {
    const answered: string[] = [];
    const watch = (answer: { method: string; pattern: string }) => {
      const { method, pattern } = answer;
      if (method === 'GET' && pattern.endsWith('/Workspaces/:WorkspaceSid/Events')) answered.push('events');
      if (method === 'POST' && pattern.endsWith('/Documents/:DocumentSid')) answered.push('save');
      if (method === 'POST' && pattern.endsWith('/Services/:ServiceSid/Maps')) answered.push('map create');
    };
    emulator.observers.push(watch);
    return { answered, stop: () => emulator.observers.splice(emulator.observers.indexOf(watch), 1) };
  }

  it('reads the first window’s events while the lease is being saved', async () => {
    await seed(3, 4, 5);
    // Sync (the checkpoint) answers 400 ms late, TaskRouter at once: events read after the lease's save come after it.
    await admin.faults({ latencyMs: 400, families: ['sync'] });
    const { answered, stop } = watchAnswers();
    try {
      const run = await jobRunner(jobConfig(8000))();
      expect(run.error).toBeUndefined();
    } finally {
      stop();
      await admin.faults({});
    }
    // The run's first save of its checkpoint is the lease's (the document is created first, then updated).
    const leaseSaved = answered.indexOf('save');
    expect(answered.indexOf('events')).toBeGreaterThanOrEqual(0);
    expect(answered.indexOf('events')).toBeLessThan(leaseSaved);
    // Its maps were created only once the lease was held.
    expect(answered.indexOf('map create')).toBeGreaterThan(leaseSaved);
  });

  it('a run that loses the lease after reading its first window touches no map; the winner writes each once', async () => {
    const seeded = await seed(6, 3, 5);
    await store().loadOrCreate(); // the document exists: each run reads it, then saves its lease
    // Both runs read the free checkpoint, both read their first window meanwhile; one save wins, one gets 412.
    await admin.faults({ latencyMs: 400, families: ['sync'] });
    const { answered, stop } = watchAnswers();
    let runs: Invocation[];
    try {
      runs = await Promise.all([jobRunner(jobConfig(8000))(), jobRunner(jobConfig(8000))()]);
    } finally {
      stop();
      await admin.faults({});
    }
    for (const run of runs) expect(run.error).toBeUndefined();
    const lost = runs.filter((r) => r.summary?.busy === true);
    expect(lost).toHaveLength(1);
    expect(lost[0].summary).toMatchObject({ done: false, written: 0, processed: 0 });
    // The loser read its first window's events before it knew; only the winner created maps, each once (a second
    // create would be answered 54301).
    expect(Number(lost[0].summaries[0].eventPages)).toBeGreaterThanOrEqual(1);
    expect(answered.filter((a) => a === 'map create')).toHaveLength(seeded.agents.length);
    let done = runs.some((r) => r.summary?.done === true);
    for (let n = 1; n <= 10 && !done; n++) done = (await jobRunner(jobConfig(8000))()).summary?.done === true;
    expect(done).toBe(true);
    expect(missingCalls()).toEqual([]);
  });
});
