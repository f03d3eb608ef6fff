/**
 * The recent-calls job against the shapes and behaviours real Twilio may show, run in this process against the
 * emulator over HTTP with the real SDK (as in sync-recent-calls-job.test.ts). Expectations come from the emulator's
 * own records (test/helpers/handled-calls.ts), never from the job's code:
 * - Flex dialpad tasks without a call SID, enriched ones, transfers: one item per completed voice reservation;
 * - the Events list in any order (newest first, oldest first, shuffled within pages): the same items;
 * - Calls list time filters honoured by the day only: the same items;
 * - events older than 43,200 minutes with redacted task attributes (RECENT_CALLS_TTL_DAYS over 30): skipped.
 */
import twilio from 'twilio';
import { EmulatorAdmin } from '../../../emulator/admin-client';
import { startEmulator, type Emulator } from '../../../emulator/server';
import type { SyncJobConfig } from '../../../src/config/sync-job';
import { createLogger } from '../../../src/observability/logger';
import { checkpointKey } from '../../../src/recent-calls/checkpoint-seal';
import { limiterSettings, runSyncJob, type JobSummary } from '../../../src/recent-calls/job';
import { Deadline } from '../../../src/twilio/deadline';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { ObjectRateLimiter } from '../../../src/twilio/object-rate-limiter';
import { handledCalls, type HandledCall } from '../../helpers/handled-calls';

const DAY_MS = 86_400_000;
const BOUNDARY_SLACK_MS = 10 * 60_000;

let emulator: Emulator;
let admin: EmulatorAdmin;

beforeAll(async () => {
  emulator = await startEmulator();
  admin = new EmulatorAdmin(emulator.url);
});
afterAll(() => emulator?.close());
beforeEach(() => admin.reset());

/** Runs the job until done (at most `max` invocations), as a warm instance would. */
async function syncAll(ttlDays = 30, max = 30): Promise<JobSummary[]> {
  const config: SyncJobConfig = {
    serviceSid: emulator.config.syncServiceSid,
    workspaceSid: emulator.config.workspaceSid,
    ttlDays,
    budgetMs: 8000,
    concurrency: 32,
    mapWritesPerSecond: 18,
    eventLagSeconds: 60,
  };
  const limiter = new ObjectRateLimiter(limiterSettings(config));
  const summaries: JobSummary[] = [];
  for (let n = 1; n <= max; n++) {
    // As the function does: the invocation's deadline, the work budget carved from it.
    const root = Deadline.forInvocation();
    const work = root.child(config.budgetMs);
    const project = (deadline: Deadline) => {
      const http = new TwilioHttpClient({ emulatorUrl: emulator.url, deadline });
      return {
        http,
        client: twilio(emulator.config.accountSid, emulator.config.authToken, {
          httpClient: http,
          accountSid: emulator.config.accountSid,
        }),
      };
    };
    const summary = await runSyncJob(config, {
      work: project(work),
      control: project(root),
      deadline: work,
      limiter,
      checkpointKey: checkpointKey({ AUTH_TOKEN: emulator.config.authToken }),
      log: createLogger({ write: () => undefined }),
      runId: `shapes-${n}`,
      startedAt: performance.now(),
    });
    summaries.push(summary);
    if (summary.done) return summaries;
  }
  throw new Error(`not done after ${max} invocations`);
}

/** Every item in Sync, by `<map>|<key>`, read in process. */
function syncedItems(): Map<string, { data: Record<string, unknown>; dateExpires: number | null; revision: number }> {
  const service = emulator.state.sync.services.get(emulator.config.syncServiceSid)!;
  const out = new Map<string, { data: Record<string, unknown>; dateExpires: number | null; revision: number }>();
  for (const map of service.maps.values()) {
    for (const item of map.items.values())
      out.set(`${map.uniqueName}|${item.key}`, {
        data: item.data,
        dateExpires: item.dateExpires,
        revision: item.revision,
      });
  }
  return out;
}

/** Sync holds exactly the expected items (boundary cases either way), each with the right data and expiry. */
function expectItems(expected: HandledCall[], ttlDays = 30): void {
  const items = syncedItems();
  const boundary = emulator.clock.now() - ttlDays * DAY_MS;
  const known = new Set(expected.map((c) => c.key));
  for (const call of expected) {
    if (Math.abs(call.startMs - boundary) < BOUNDARY_SLACK_MS) continue;
    const item = items.get(call.key);
    if (call.startMs < boundary) {
      expect(item).toBeUndefined();
      continue;
    }
    expect({ key: call.key, data: item?.data }).toEqual({ key: call.key, data: call.data });
    expect(item!.revision).toBe(0);
    expect(Math.abs(item!.dateExpires! - (call.startMs + ttlDays * DAY_MS))).toBeLessThanOrEqual(2000);
  }
  for (const key of items.keys()) expect(known.has(key)).toBe(true);
}

describe('Flex-shaped voice tasks', () => {
  it('writes one item per completed voice reservation: inbound, dialpad matched and unmatched, enriched, transfers', async () => {
    await admin.seed({ agents: 6, callsPerAgent: 30, days: 20 });
    await admin.advanceClock(120);
    const expected = handledCalls(emulator);
    await syncAll();
    expectItems(expected);
    // The seed has every kind the issue lists, so the check above covered them.
    const kinds = {
      inbound: expected.filter((c) => c.direction === 'inbound').length,
      dialpadMatched: expected.filter((c) => c.unenrichedOutbound && c.callSid !== null).length,
      enriched: expected.filter((c) => c.direction === 'outbound' && !c.unenrichedOutbound).length,
      transferred: [...new Set(expected.map((c) => c.callSid))].filter(
        (sid) => sid && expected.filter((c) => c.callSid === sid).length > 1,
      ).length,
    };
    for (const [kind, count] of Object.entries(kinds)) expect({ kind, some: count > 0 }).toEqual({ kind, some: true });
    // Each agent of a transferred call has its own item, under its own task's key.
    const sid = expected.find((c) => c.callSid && expected.filter((o) => o.callSid === c.callSid).length > 1)!.callSid;
    const both = expected.filter((c) => c.callSid === sid);
    expect(new Set(both.map((c) => c.workerSid)).size).toBe(2);
    expect(new Set(both.map((c) => c.itemKey)).size).toBe(2);
  });

  it('a dialpad task with two calls to the same number in its life is written without a call SID, with the task times', async () => {
    await admin.seed({ agents: 3, callsPerAgent: 20, days: 5, enrichedOutboundShare: 0 });
    await admin.advanceClock(120);
    // A second leg from the same caller ID to the same number, inside one dialpad task's life (a redial).
    const target = handledCalls(emulator).find((c) => c.unenrichedOutbound && c.callSid !== null)!;
    const leg = emulator.state.calls.calls.get(target.callSid!)!;
    const redial = {
      ...leg,
      sid: 'CA' + 'f'.repeat(32),
      startTimeMs: leg.startTimeMs + 5000,
      dateCreatedMs: leg.dateCreatedMs + 5000,
    };
    emulator.state.calls.calls.set(redial.sid, redial);
    emulator.state.calls.ordered.unshift(redial);
    const expected = handledCalls(emulator);
    const again = expected.find((c) => c.key === target.key)!;
    expect(again).toMatchObject({ callSid: null, unenrichedOutbound: true });
    await syncAll();
    expectItems(expected);
    expect(syncedItems().get(target.key)!.data).toMatchObject({ callSid: null, direction: 'outbound' });
  });
});

describe('list behaviours real Twilio may show', () => {
  /** Seeds 35 days of calls, syncs them under `limits` and expects exactly the handled calls; then sets `restore`. */
  async function expectSameItemsUnder(
    limits: Parameters<EmulatorAdmin['setLimits']>[0],
    restore: Parameters<EmulatorAdmin['setLimits']>[0],
  ) {
    await admin.setLimits(limits);
    try {
      await admin.seed({ agents: 5, callsPerAgent: 20, days: 35 });
      await admin.advanceClock(120);
      const expected = handledCalls(emulator);
      await syncAll();
      expectItems(expected);
    } finally {
      await admin.setLimits(restore);
    }
  }

  for (const order of ['oldest', 'shuffled'] as const) {
    // The Events list's order is not documented (docs taskrouter/api/event): the job must not depend on it.
    it(`writes the same items when the Events list answers ${order === 'oldest' ? 'oldest first' : 'shuffled within pages'}`, () =>
      expectSameItemsUnder({ eventsOrder: order }, { eventsOrder: 'newest' }));
  }

  // twilio_api_v2010.json, ListCall: StartTime> / StartTime< described as dates (YYYY-MM-DD): a one-hour window may
  // get the whole day's calls back.
  it('writes the same items when the Calls list honours its time filters by the day only', () =>
    expectSameItemsUnder({ callsTimeFilter: 'day' }, { callsTimeFilter: 'exact' }));

  // Official spec, taskrouter ListEvent Minutes: "Task Attributes for Events occurring more 43,200 minutes ago will
  // be redacted": with RECENT_CALLS_TTL_DAYS 35 the job reads such events and must skip them, not write empty items.
  it('skips events whose task attributes are redacted (older than 43,200 minutes), counting them as skipped, not failed', async () => {
    await admin.seed({ agents: 5, callsPerAgent: 30, days: 33 });
    await admin.advanceClock(120);
    const now = emulator.clock.now();
    const all = handledCalls(emulator);
    const redactedBefore = now - 43_200 * 60_000;
    const listedAfter = now - 31 * DAY_MS;
    const redacted = all.filter((c) => c.completedMs < redactedBefore - 60_000 && c.completedMs > listedAfter + 60_000);
    expect(redacted.length).toBeGreaterThan(0);
    const summaries = await syncAll(35);
    const items = syncedItems();
    for (const call of redacted) expect(items.has(call.key)).toBe(false);
    const readable = all.filter((c) => c.completedMs > redactedBefore + 60_000);
    for (const call of readable) expect(items.get(call.key)?.data).toEqual(call.data);
    expect(summaries.reduce((n, s) => n + s.failed, 0)).toBe(0);
    expect(summaries.reduce((n, s) => n + s.skipped, 0)).toBeGreaterThanOrEqual(redacted.length);
  });
});
