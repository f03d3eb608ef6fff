/**
 * /sync-recent-calls under stress: injected faults (429s, 5xx, latency, lost answers), runs cut by a small time
 * budget, overlapping runs, and the checkpoint's If-Match race. Whatever happens, every handled call ends up in
 * Sync exactly once and the checkpoint never passes a call that is not there.
 */
import type { ProgressState } from '../../../scripts/lib/progress';
import { signedRequest, syncUntilDone } from '../../../scripts/sync-calls';
import { EMPTY_STATE } from '../../../src/recent-calls/checkpoint-state';
import { CheckpointStore } from '../../../src/recent-calls/checkpoint-store';
import { acquireLease } from '../../../src/recent-calls/lease';
import { checkpointKey } from '../../../src/recent-calls/checkpoint-seal';
import { RECENT_CALLS_MAP_PREFIX } from '../../../src/recent-calls/map-name';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { handledCalls as handledCallsOf } from '../../helpers/handled-calls';
import { jobUrl, startSystem, syncRecentCalls, type System } from '../../helpers/system';
import twilio from 'twilio';

const DAY_MS = 86_400_000;
const BOUNDARY_SLACK_MS = 10 * 60_000;
const BUDGET_MS = 1500;
/** Time the last checkpoint save gets after the budget here (it may use what the invocation has left, up to 10 s). */
const SAVE_ALLOWANCE_MS = 1200;

let system: System;

beforeAll(async () => {
  // A small budget and a slow per-map rate, so that one invocation cannot finish a seeded month.
  system = await startSystem({ env: { SYNC_JOB_BUDGET_MS: String(BUDGET_MS), SYNC_MAP_WRITES_PER_SECOND: '5' } });
});
afterAll(() => system?.stop());
beforeEach(() => system.admin.reset());

const service = () => system.twilio.sync.v1.services(system.emulator.config.syncServiceSid);
const fnUrl = () => jobUrl(system);

async function invoke(n = 1) {
  const signed = signedRequest(fnUrl(), system.emulator.config.authToken, { Invocation: String(n) });
  const response = await fetch(fnUrl(), { method: 'POST', headers: signed.headers, body: signed.body });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    requestId: response.headers.get('x-request-id') ?? '',
  };
}

/** The job's summary log lines printed by the functions process (since `from`, an index into its output). */
function summaryLines(from = 0): Array<Record<string, unknown>> {
  return system.functions.output
    .slice(from)
    .filter((l) => l.includes('"sync run summary"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The summary line of one invocation (its output may arrive just after its answer: wait a little for it). */
async function summaryOf(requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 40; i++) {
    const line = summaryLines().find((l) => l.requestId === requestId);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no summary line for request ${requestId}`);
}

const handledCalls = () => handledCallsOf(system.emulator);

async function syncedItems() {
  const maps = (await service().syncMaps.list({ pageSize: 100 })).filter((m) =>
    m.uniqueName?.startsWith(RECENT_CALLS_MAP_PREFIX),
  );
  const items = new Map<string, { data: unknown; revision: string; dateExpires: Date | null }>();
  for (const map of maps) {
    for (const item of await service().syncMaps(map.sid).syncMapItems.list({ pageSize: 100 })) {
      items.set(`${map.uniqueName}|${item.key}`, item);
    }
  }
  return items;
}

async function emulatorNow(): Promise<number> {
  return Date.parse((await system.admin.config()).now);
}

/** All recent calls present and right (written once), no old call, nothing else. */
async function expectSynced() {
  const boundary = (await emulatorNow()) - 30 * DAY_MS;
  const all = handledCalls();
  const items = await syncedItems();
  const recent = all.filter((c) => c.startMs > boundary + BOUNDARY_SLACK_MS);
  for (const call of recent) {
    const item = items.get(call.key);
    expect(item).toBeDefined();
    expect(item!.data).toEqual(call.data);
    expect(item!.revision).toBe('0');
    expect(Math.abs(item!.dateExpires!.getTime() - (call.startMs + 30 * DAY_MS))).toBeLessThanOrEqual(2000);
  }
  for (const call of all.filter((c) => c.startMs < boundary - BOUNDARY_SLACK_MS))
    expect(items.has(call.key)).toBe(false);
  const known = new Set(all.map((c) => c.key));
  for (const key of items.keys()) expect(known.has(key)).toBe(true);
  return { items, recent };
}

/** The checkpoint's promise: every recent call completed before `syncedThrough` is in Sync. */
async function expectNothingUncommittedBehind(syncedThrough: unknown) {
  if (typeof syncedThrough !== 'string') return;
  const cursor = Date.parse(syncedThrough);
  const boundary = (await emulatorNow()) - 30 * DAY_MS;
  const items = await syncedItems();
  const missing = handledCalls().filter(
    (c) => c.completedMs < cursor && c.startMs > boundary + BOUNDARY_SLACK_MS && !items.has(c.key),
  );
  expect(missing).toEqual([]);
}

async function seed(agents: number, callsPerAgent: number, days = 40) {
  const seeded = await system.admin.seed({ agents, callsPerAgent, days });
  await system.admin.advanceClock(120);
  return seeded;
}

describe('time budget', () => {
  it('a run cut by the budget saves its progress; the next ones resume with no loss and no duplicate', async () => {
    await seed(12, 20);
    const written: number[] = [];
    let done = false;
    for (let n = 1; n <= 40 && !done; n++) {
      const run = await invoke(n);
      expect(run.status).toBe(200);
      // Stops taking work at the budget; the last save follows it. Measured by the job itself
      // (not this process's wall clock), with slack for a loaded machine: what matters is staying far from 10 s.
      const summary = await summaryOf(run.requestId);
      expect(summary.elapsedMs).toBeLessThan(BUDGET_MS + SAVE_ALLOWANCE_MS + 2000);
      if (run.body.done === false) expect(run.body.remainingExact).toBe(false);
      await expectNothingUncommittedBehind(run.body.syncedThrough);
      written.push(Number(run.body.written));
      done = run.body.done === true;
    }
    expect(done).toBe(true);
    expect(written.length).toBeGreaterThan(2); // the budget really cut the work
    const { items } = await expectSynced();
    expect(written.reduce((a, b) => a + b, 0)).toBe(items.size); // each item written by exactly one run
  });
});

describe('the trigger (npm run sync-calls)', () => {
  it('reports every invocation to its progress reporter: written adds up to the items, remaining ends at 0', async () => {
    await seed(12, 20);
    const states: ProgressState[] = [];
    const lines: string[] = [];
    const result = await syncUntilDone({
      url: fnUrl(),
      authToken: system.emulator.config.authToken,
      maxInvocations: 40,
      progress: { update: (state, line) => (states.push(state), lines.push(line)), finish: () => undefined },
    });
    expect(result.done).toBe(true);
    expect(states.length).toBe(result.invocations);
    expect(states.length).toBeGreaterThan(1); // the small budget cut the work into several runs
    expect(states.map((s) => s.invocations)).toEqual(states.map((_, i) => i + 1));
    const { items } = await expectSynced();
    expect(states.at(-1)).toMatchObject({ written: items.size, remaining: 0, remainingExact: true });
    for (let i = 1; i < states.length; i++) expect(states[i].written).toBeGreaterThanOrEqual(states[i - 1].written);
    expect(lines.at(-1)).toMatch(/done=true/);
  });
});

describe('faults', () => {
  it('429 bursts, 5xx, latency and lost answers lose nothing and duplicate nothing', async () => {
    await seed(8, 10);
    await system.admin.faults({ errorRate: 0.1, throttleRate: 0.15, latencyMs: 25, dropRate: 0.03 });
    const result = await syncUntilDone({
      url: fnUrl(),
      authToken: system.emulator.config.authToken,
      maxInvocations: 40,
      maxConsecutiveErrors: 5,
      log: () => {},
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 200))),
    });
    const stats = await system.admin.stats();
    await system.admin.faults({});
    expect(result.done).toBe(true);
    expect(stats.faults.errors).toBeGreaterThan(0);
    expect(stats.faults.throttles).toBeGreaterThan(0);
    await expectSynced();
    const summaries = system.functions.output.filter((l) => l.includes('"sync run summary"')).map((l) => JSON.parse(l));
    expect(summaries.some((s) => s.retries > 0 && s.throttled > 0)).toBe(true);
  });

  it('real per-map 429s (a map allowed fewer writes than the job paces) are absorbed: the job sees them and loses nothing', async () => {
    await seed(3, 8, 20);
    // The emulator's own per-object limit (not an injected fault) set below the job's pace: each map (and the
    // checkpoint document) takes three writes per second while the job paces 5 per second per map
    // (SYNC_MAP_WRITES_PER_SECOND), so its writes get 429s whatever the machine's speed (a slower machine only
    // bunches them closer). No race with another writer.
    const limits = await system.admin.config();
    await system.admin.setLimits({ writeRatePerSecond: 3, writeBurstSeconds: 1 });
    const outputFrom = system.functions.output.length;
    const result = await syncRecentCalls(system, 60).finally(() =>
      system.admin.setLimits({
        writeRatePerSecond: limits.writeRatePerSecond,
        writeBurstSeconds: limits.writeBurstSeconds,
      }),
    );
    expect((await system.admin.stats()).rateLimited).toBeGreaterThan(0);
    expect(result.done).toBe(true);
    // The job itself was throttled (no faults are injected: these are the map's real 429s)...
    const summaries = summaryLines(outputFrom);
    expect(summaries.reduce((n, s) => n + Number(s.throttled), 0)).toBeGreaterThan(0);
    // ...and still lost nothing.
    const items = await syncedItems();
    const boundary = (await emulatorNow()) - 30 * DAY_MS;
    const recent = handledCalls().filter((c) => c.startMs > boundary + BOUNDARY_SLACK_MS);
    expect(recent.length).toBeGreaterThan(0);
    for (const call of recent) expect(items.get(call.key)?.data).toEqual(call.data);
  });
});

describe('overlapping runs', () => {
  it('of runs started together, only one works and advances the checkpoint; the others answer busy', async () => {
    await seed(10, 20);
    const runs = await Promise.all([1, 2, 3].map((n) => invoke(n)));
    for (const run of runs) expect(run.status).toBe(200);
    const working = runs.filter((r) => r.body.busy !== true);
    expect(working).toHaveLength(1);
    for (const run of runs.filter((r) => r.body.busy === true)) {
      expect(run.body).toMatchObject({ done: false, written: 0, processed: 0 });
    }
    await expectNothingUncommittedBehind(working[0].body.syncedThrough);
    const rest = await syncRecentCalls(system, 40);
    expect(rest.done).toBe(true);
    await expectSynced();
  });
});

describe('checkpoint document', () => {
  const store = () => {
    const http = new TwilioHttpClient({ emulatorUrl: system.emulator.url });
    const client = twilio(system.emulator.config.accountSid, system.emulator.config.authToken, { httpClient: http });
    return {
      store: new CheckpointStore(
        client,
        system.emulator.config.syncServiceSid,
        checkpointKey({ AUTH_TOKEN: system.emulator.config.authToken }),
      ),
      http,
    };
  };

  it('If-Match: of two saves from the same revision exactly one wins', async () => {
    const a = store().store;
    const b = store().store;
    const base = await a.loadOrCreate();
    const results = await Promise.all([
      a.save({ ...base.state, cursor: '2026-01-01T00:00:00.000Z' }, base.revision),
      b.save({ ...base.state, cursor: '2026-02-01T00:00:00.000Z' }, base.revision),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'conflict' }]);
    const winner = results.find((r) => r.ok)!;
    expect((await a.load())!.state.cursor).toBe(winner.ok && winner.checkpoint.state.cursor);
  });

  it('a lease is exclusive until it expires', async () => {
    const { store: s, http } = store();
    const now = () => http.serverNow();
    expect((await acquireLease(s, 'run-a', now, 10_000)).ok).toBe(true);
    expect(await acquireLease(s, 'run-b', now, 10_000)).toMatchObject({ ok: false, reason: 'busy' });
    await system.admin.advanceClock(11);
    expect((await acquireLease(s, 'run-b', now, 10_000)).ok).toBe(true);
  });

  it('a save whose answer was lost is recognised as ours, not taken for a conflict', async () => {
    const { store: s } = store();
    let checkpoint = await s.loadOrCreate();
    await system.admin.faults({ dropRate: 0.25, families: ['sync'] });
    let conflicts = 0;
    for (let i = 0; i < 30; i++) {
      const result = await s.save(
        { ...EMPTY_STATE, cursor: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() },
        checkpoint.revision,
      );
      if (result.ok) checkpoint = result.checkpoint;
      else conflicts += 1;
    }
    const drops = (await system.admin.stats()).faults.drops;
    await system.admin.faults({});
    expect(drops).toBeGreaterThan(0);
    expect(conflicts).toBe(0);
    expect((await s.load())!.state.cursor).toBe('2026-01-01T00:00:29.000Z');
  });
});
