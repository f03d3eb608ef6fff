/**
 * A run past its reads' deadline (SyncRun against the emulator over HTTP, the run's budget on a clock the test moves):
 * with nothing left it answers caught up, not out of time; the seconds that settled while it wrote are still read
 * and written when the writes' budget has room, so the run can answer done; a longer span waits for the next run.
 */
import twilio from 'twilio';
import type { SyncJobConfig } from '../../../src/config/sync-job';
import { createLogger } from '../../../src/observability/logger';
import { checkpointKey } from '../../../src/recent-calls/checkpoint-seal';
import { EMPTY_STATE } from '../../../src/recent-calls/checkpoint-state';
import { CheckpointStore } from '../../../src/recent-calls/checkpoint-store';
import { floorToSecond, safeEnd } from '../../../src/recent-calls/cursor';
import { limiterSettings } from '../../../src/recent-calls/job';
import { recentCallsMapName } from '../../../src/recent-calls/map-name';
import { runBudget } from '../../../src/recent-calls/run-budget';
import { CATCH_UP_SPAN_MS, SyncRun } from '../../../src/recent-calls/sync-run';
import { Deadline } from '../../../src/twilio/deadline';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { ObjectRateLimiter } from '../../../src/twilio/object-rate-limiter';
import { handledCalls } from '../../helpers/handled-calls';
import { useEmulator } from '../../helpers/emulator';

const BUDGET_MS = 8000;
const LAG_SECONDS = 60;

const t = useEmulator();

const key = () => checkpointKey({ AUTH_TOKEN: t.emulator.config.authToken });
const emulatorNow = () => t.emulator.clock.now();

/** One call handled now, settled; its completion's event time. */
async function oneSettledCall(): Promise<{ workerSid: string; itemKey: string; eventMs: number }> {
  const { agents } = await t.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
  await t.admin.liveCalls({ workerSid: agents[0].workerSid, count: 1, talkSeconds: 0 });
  for (let i = 0; i < 100 && handledCalls(t.emulator).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const [call] = handledCalls(t.emulator);
  expect(call).toBeDefined();
  const completion = t.emulator.state.taskrouter.events.find(
    (e) => e.eventType === 'reservation.completed' && e.taskSid === call.taskSid,
  )!;
  return { workerSid: call.workerSid, itemKey: call.itemKey, eventMs: completion.eventDateMs };
}

/** A SyncRun whose budget runs on `clock`, started from a sealed checkpoint at `cursorMs`. */
async function runFrom(cursorMs: number, clock: () => number) {
  const store = new CheckpointStore(t.client, t.emulator.config.syncServiceSid, key());
  const current = await store.loadOrCreate();
  expect((await store.save({ ...EMPTY_STATE, cursor: new Date(cursorMs).toISOString() }, current.revision)).ok).toBe(
    true,
  );
  const config: SyncJobConfig = {
    serviceSid: t.emulator.config.syncServiceSid,
    workspaceSid: t.emulator.config.workspaceSid,
    ttlDays: 30,
    budgetMs: BUDGET_MS,
    concurrency: 8,
    mapWritesPerSecond: 18,
    eventLagSeconds: LAG_SECONDS,
  };
  const project = () => {
    const http = new TwilioHttpClient({ emulatorUrl: t.emulator.url, deadline: Deadline.none() });
    const client = twilio(t.emulator.config.accountSid, t.emulator.config.authToken, {
      httpClient: http,
      accountSid: t.emulator.config.accountSid,
    });
    return { http, client };
  };
  const budget = runBudget(new Deadline(BUDGET_MS, clock), BUDGET_MS);
  const run = new SyncRun(
    config,
    {
      work: project(),
      control: project(),
      limiter: new ObjectRateLimiter(limiterSettings(config)),
      checkpointKey: key(),
      log: createLogger({ write: () => {} }),
      runId: 'catch-up-test',
    },
    budget,
  );
  expect(await run.begin()).toBe(true);
  // begin() started the run's first window at the cursor (beside the lease's save, long before any deadline). These
  // tests are about the windows at the cursor after it: its reads end here (the maps it prepared stay), the cursor
  // stays where it was, and the windows after it are not the run's first.
  const first = run.startWindow();
  if (typeof first === 'object') await first.read.catch(() => undefined);
  return { run, budget };
}

/**
 * The run's budget runs on the real clock plus a shift the test sets (the rate limiter stays on the real clock, as in
 * a deployed run, and time keeps flowing for it).
 */
let shiftMs = 0;
const clock = () => performance.now() + shiftMs;
const setClock = (ms: number) => {
  shiftMs += ms - clock();
};

/** Moves the budget's clock to just after the reads' deadline, with most of the writes' budget left. */
function pastTheReads(budget: ReturnType<typeof runBudget>) {
  setClock(budget.reads.endsAt + 1);
  expect(budget.reads.expired()).toBe(true);
  expect(budget.writes.expired()).toBe(false);
}

/**
 * Reads and writes catch-up windows until the run answers caught up (the clock moves on meanwhile, so a second may
 * have settled since the last one); how many there were. Throws when the run answers out of time instead.
 */
async function catchUp(run: SyncRun, budget: ReturnType<typeof runBudget>): Promise<number> {
  let windows = 0;
  const next = () => {
    pastTheReads(budget); // each one starts just after the reads' deadline, however long the last one took
    return run.startWindow();
  };
  for (let pending = next(); pending !== 'caught-up'; pending = next()) {
    if (typeof pending !== 'object') throw new Error(`no catch-up window: ${pending}`);
    expect(pending.window.toMs - pending.window.fromMs).toBeLessThanOrEqual(CATCH_UP_SPAN_MS);
    const read = await pending.read;
    if (read.kind !== 'read') throw new Error(`the catch-up window was not read: ${read.kind}`);
    expect(run.advance(await run.apply(pending, read))).toBe(true);
    expect(++windows).toBeLessThan(10);
  }
  return windows;
}

describe('a run past its reads’ deadline', () => {
  beforeEach(() => {
    shiftMs = 0;
  });

  it('with nothing left to read answers caught up', async () => {
    await t.admin.seed({ agents: 1, callsPerAgent: 0, days: 1 });
    const { run, budget } = await runFrom(safeEnd(emulatorNow(), LAG_SECONDS), clock);
    // Caught up at once, or after the second that may have settled since the cursor was set.
    expect(await catchUp(run, budget)).toBeLessThanOrEqual(1);
    expect((await run.finish(true, undefined)).done).toBe(true);
  });

  it('reads and writes the seconds settled meanwhile, and answers done', async () => {
    const call = await oneSettledCall();
    await t.admin.advanceClock(LAG_SECONDS + 30); // the call is 30 s inside the settled span
    const { run, budget } = await runFrom(floorToSecond(call.eventMs) - 1000, clock);
    const windows = await catchUp(run, budget);
    expect(windows).toBeGreaterThanOrEqual(1);
    const summary = await run.finish(true, undefined);
    expect(summary).toMatchObject({ done: true, written: 1 });
    const map = [...t.emulator.state.sync.services.get(t.emulator.config.syncServiceSid)!.maps.values()].find(
      (m) => m.uniqueName === recentCallsMapName(call.workerSid),
    );
    expect(map?.items.has(call.itemKey)).toBe(true);
  });

  it('leaves a longer span, or one the writes’ budget has no room for, to the next run', async () => {
    const call = await oneSettledCall();
    await t.admin.advanceClock(LAG_SECONDS + 30);
    const longer = await runFrom(floorToSecond(call.eventMs) - CATCH_UP_SPAN_MS, clock);
    pastTheReads(longer.budget);
    expect(longer.run.startWindow()).toBe('no-time');
    await longer.run.finish(false, undefined);

    shiftMs = 0;
    const late = await runFrom(floorToSecond(call.eventMs) - 1000, clock);
    setClock(late.budget.writes.endsAt - 100);
    expect(late.run.startWindow()).toBe('no-time');
    await late.run.finish(false, undefined);
  });
});
