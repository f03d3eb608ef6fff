/**
 * One window read (window-read.ts) against the emulator over HTTP with the real SDK. A window of several event pages
 * reads its Calls list beside its later event pages: the records must be the ones a list read after the events
 * gives (with a list beside them that does not cover them all, or was cut short, too), and a read that fails stops
 * that list.
 */
import twilio, { type Twilio } from 'twilio';
import { EmulatorAdmin } from '../../../emulator/admin-client';
import { startEmulator, type Emulator, type ObservedAnswer } from '../../../emulator/server';
import { createLogger } from '../../../src/observability/logger';
import { readCallTimings } from '../../../src/recent-calls/calls-source';
import { callsRange, readRecords, uniqueRecords } from '../../../src/recent-calls/completion-records';
import type { TimeWindow } from '../../../src/recent-calls/cursor';
import { readCompletions } from '../../../src/recent-calls/events-source';
import { PageBudget } from '../../../src/recent-calls/paging';
import { emptyReadCounts } from '../../../src/recent-calls/run-summary';
import {
  MAX_CALLS_PER_WINDOW,
  MAX_EVENTS_PER_WINDOW,
  readWindow,
  type WindowReader,
} from '../../../src/recent-calls/window-read';
import { MIN_WINDOW_MS } from '../../../src/recent-calls/window-size';
import { Deadline } from '../../../src/twilio/deadline';
import { TwilioHttpClient } from '../../../src/twilio/http-client';
import { emulatorClient } from '../../helpers/system';

type RequestOptions<T> = import('twilio/lib/base/RequestClient').RequestOptions<T>;

const DAY_MS = 86_400_000;

let emulator: Emulator;
let admin: EmulatorAdmin;
let sdk: Twilio;
let nowMs: number;

beforeAll(async () => {
  emulator = await startEmulator();
  admin = new EmulatorAdmin(emulator.url);
  sdk = emulatorClient(emulator);
  // About 2,600 completed reservations in 3 days: three pages of events, and as many of calls.
  await admin.seed({ agents: 60, callsPerAgent: 40, days: 3 });
  await admin.advanceClock(120);
  nowMs = Date.parse((await admin.config()).now);
});
afterAll(() => emulator?.close());
afterEach(() => admin.faults({}));

function reader(client: Twilio = sdk): WindowReader {
  return {
    client,
    workspaceSid: emulator.config.workspaceSid,
    pages: PageBudget.unlimited(),
    deadline: Deadline.none(),
    log: createLogger({ write: () => {} }),
    reads: emptyReadCounts(),
  };
}

/** The records of `window` read one list after the other: every event page, then the Calls list they need. */
async function readSequentially(window: TimeWindow) {
  const read = await readCompletions(sdk, {
    workspaceSid: emulator.config.workspaceSid,
    ...window,
    maxEvents: MAX_EVENTS_PER_WINDOW,
  });
  const { first } = uniqueRecords(read.completions);
  const built = await readRecords(sdk, first, { maxCalls: MAX_CALLS_PER_WINDOW, acceptPartial: () => false });
  if (built.kind !== 'read') throw new Error('the sequential read did not finish');
  return { completions: first, records: built.records };
}

/** The list pages answered while `work` runs, in order. */
async function answersDuring<T>(work: () => Promise<T>): Promise<{ result: T; answers: Array<'events' | 'calls'> }> {
  const answers: Array<'events' | 'calls'> = [];
  const watch = (answer: ObservedAnswer) => {
    if (answer.method !== 'GET') return;
    if (answer.pattern.endsWith('/Events')) answers.push('events');
    if (answer.pattern.endsWith('/Calls.json')) answers.push('calls');
  };
  emulator.observers.push(watch);
  try {
    return { result: await work(), answers };
  } finally {
    emulator.observers.splice(emulator.observers.indexOf(watch), 1);
  }
}

describe('a window of several event pages', () => {
  const whole = (): TimeWindow => ({ fromMs: nowMs - 4 * DAY_MS, toMs: Math.floor((nowMs - 60_000) / 1000) * 1000 });

  it('reads its Calls list beside its later event pages, and builds the records a list read after them builds', async () => {
    const expected = await readSequentially(whole());
    // Event pages answer 300 ms late: a Calls list that waited for them would be answered after the last one.
    await admin.faults({ latencyMs: 300, families: ['taskrouter'] });
    const { result, answers } = await answersDuring(() => readWindow(reader(), whole(), true));
    expect(answers.filter((a) => a === 'events').length).toBeGreaterThanOrEqual(3);
    expect(answers.indexOf('calls')).toBeLessThan(answers.lastIndexOf('events'));
    expect(result.kind).toBe('read');
    if (result.kind !== 'read') return;
    expect(result.records).toEqual(expected.records);
    expect(result.records.filter((r) => r.startSource === 'call').length).toBeGreaterThan(2000);
  });

  it('with a list read beside the events that starts after some of the calls, reads the part before it: the same records', async () => {
    const expected = await readSequentially(whole());
    const starts = expected.records.filter((r) => r.startSource === 'call').map((r) => r.startedAtMs);
    const middle = [...starts].sort((a, b) => a - b)[Math.floor(starts.length / 2)];
    const beside = {
      fromMs: middle,
      toMs: whole().toMs,
      read: readCallTimings(sdk, { fromMs: middle, toMs: whole().toMs, maxCalls: MAX_CALLS_PER_WINDOW, needAll: true }),
    };
    const { result, answers } = await answersDuring(() =>
      readRecords(sdk, expected.completions, { maxCalls: MAX_CALLS_PER_WINDOW, acceptPartial: () => false, beside }),
    );
    expect(result.kind).toBe('read');
    if (result.kind !== 'read') return;
    expect(result.records).toEqual(expected.records);
    expect(answers.filter((a) => a === 'calls').length).toBeGreaterThanOrEqual(2); // the part before it was read
  });

  it('with a list read beside the events that was cut at its size, reads the range again: the same records', async () => {
    const expected = await readSequentially(whole());
    const range = { fromMs: whole().fromMs, toMs: whole().toMs };
    const beside = { ...range, read: readCallTimings(sdk, { ...range, maxCalls: 10, needAll: true }) };
    expect((await beside.read).truncated).toBe(true);
    const result = await readRecords(sdk, expected.completions, {
      maxCalls: MAX_CALLS_PER_WINDOW,
      acceptPartial: () => false,
      beside,
    });
    expect(result.kind).toBe('read');
    if (result.kind !== 'read') return;
    expect(result.records).toEqual(expected.records);
    expect(result.partialCalls).toBe(false);
  });

  it('with a list read beside the events that the budget cut short, the caller decides, as for a single list', async () => {
    // A Calls filter honoured by the day only, a window ending mid-day (the list answers the rest of that day too),
    // and a budget that ends during the first page of the list.
    const window = { fromMs: nowMs - 2.5 * DAY_MS, toMs: Math.floor((nowMs - 1.5 * DAY_MS) / 1000) * 1000 };
    await admin.setLimits({ callsTimeFilter: 'day' });
    try {
      const expected = await readSequentially(window);
      await admin.faults({ latencyMs: 200, families: ['api'] });
      const cutShort = () => {
        const range = { fromMs: window.fromMs, toMs: window.toMs };
        const budget = new PageBudget(new Deadline(100));
        return {
          ...range,
          read: readCallTimings(sdk, { ...range, maxCalls: MAX_CALLS_PER_WINDOW, needAll: true, budget }),
        };
      };
      const beside = cutShort();
      const read = await beside.read;
      expect(read).toMatchObject({ outOfBudget: true, pages: 1, beyondRange: true });
      const accepted = await readRecords(sdk, expected.completions, {
        maxCalls: MAX_CALLS_PER_WINDOW,
        acceptPartial: (calls) => calls.beyondRange,
        beside,
      });
      expect(accepted).toMatchObject({ kind: 'read', partialCalls: true, pages: 1 });
      if (accepted.kind !== 'read') return;
      expect(accepted.records.map((r) => r.itemKey)).toEqual(expected.records.map((r) => r.itemKey));
      const refused = await readRecords(sdk, expected.completions, {
        maxCalls: MAX_CALLS_PER_WINDOW,
        acceptPartial: () => false,
        beside: cutShort(),
      });
      expect(refused).toEqual({ kind: 'out-of-budget', pages: 1 });
    } finally {
      await admin.setLimits({ callsTimeFilter: 'exact' });
    }
  });

  it('a list read for wanted calls only still says when the filter was honoured by the day only', async () => {
    // A window ending mid-day, its tasks all naming their call: the wanted calls are in range whatever the filter did,
    // so it is the other calls answered (the rest of the day) that show the filter was honoured by the day only.
    const window = { fromMs: nowMs - 2.5 * DAY_MS, toMs: Math.floor((nowMs - 1.5 * DAY_MS) / 1000) * 1000 };
    const { completions } = await readSequentially(window);
    const wanted = new Set(completions.flatMap((c) => (c.callSid ? [c.callSid] : [])));
    expect(wanted.size).toBeGreaterThan(10);
    const range = callsRange(completions); // the range readRecords asks for: every wanted call is in it
    const read = (limits: 'day' | 'exact') =>
      admin
        .setLimits({ callsTimeFilter: limits })
        .then(() => readCallTimings(sdk, { ...range, maxCalls: MAX_CALLS_PER_WINDOW, wanted, needAll: false }));
    try {
      expect(await read('day')).toMatchObject({ beyondRange: true });
      expect(await read('exact')).toMatchObject({ beyondRange: false });
    } finally {
      await admin.setLimits({ callsTimeFilter: 'exact' });
    }
  });

  it('stops the Calls list read beside the events when an event page fails, after the page in flight', async () => {
    // The second event page fails (an answer that is not retried): the read fails, and the list read beside them
    // (three pages, 300 ms each) stops after its first page instead of reading on for nobody.
    let eventPages = 0;
    class SecondEventPageFails extends TwilioHttpClient {
      override async request<T>(opts: RequestOptions<T>) {
        if (String(opts.uri).includes('/Events') && ++eventPages === 2)
          throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
        return super.request<T>(opts);
      }
    }
    const http = new SecondEventPageFails({
      emulatorUrl: emulator.url,
      policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const client = twilio(emulator.config.accountSid, emulator.config.authToken, { httpClient: http });
    await admin.faults({ latencyMs: 300, families: ['api'] });
    const r = reader(client);
    const { result, answers } = await answersDuring(async () => {
      const outcome = await readWindow(r, whole(), true).then(
        () => 'read',
        (error: unknown) => (error as { code?: string }).code,
      );
      await new Promise((resolve) => setTimeout(resolve, 700)); // a second page of the list would be answered by now
      return outcome;
    });
    expect(result).toBe('ECONNRESET');
    expect(answers.filter((a) => a === 'calls')).toHaveLength(1);
    expect(r.reads.callPages).toBe(1);
  });
});

describe('a Calls list the budget cannot read', () => {
  /** Calls pages of 5 calls, each 150 ms: a list of an hour of calls takes seconds. */
  class SmallSlowCallPages extends TwilioHttpClient {
    override async request<T>(opts: RequestOptions<T>) {
      if (String(opts.uri).includes('/Calls.json')) {
        if (opts.params && 'PageSize' in opts.params) opts = { ...opts, params: { ...opts.params, PageSize: 5 } };
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      return super.request<T>(opts);
    }
  }

  it('is written with what was read when the run’s window length is the shortest, where shrinking cannot help', async () => {
    const client = twilio(emulator.config.accountSid, emulator.config.authToken, {
      httpClient: new SmallSlowCallPages({ emulatorUrl: emulator.url }),
    });
    const { completions } = await readSequentially({ fromMs: nowMs - 2 * DAY_MS, toMs: nowMs - 1.9 * DAY_MS });
    const at = completions[0].eventDateMs;
    const logged: string[] = [];
    const withBudget = (shortestWindow: boolean) => {
      const deadline = new Deadline(500);
      return {
        ...reader(client),
        pages: new PageBudget(deadline),
        deadline,
        log: createLogger({ write: (line) => logged.push(line) }),
        shortestWindow,
      };
    };
    const window = { fromMs: at - 1000, toMs: at - 1000 + MIN_WINDOW_MS };
    const shortest = withBudget(true);
    const read = await readWindow(shortest, window, true);
    expect(read.kind).toBe('read');
    if (read.kind === 'read') expect(read.records.length).toBeGreaterThan(0);
    expect(shortest.reads.callListsPartial).toBe(1);
    expect(logged.some((line) => JSON.parse(line).level === 'error')).toBe(true);
    // The same window, where the run's length is longer (this one was cut short by the present, say): the next run
    // reads it again with a fresh budget, or shorter.
    expect((await readWindow(withBudget(false), window, true)).kind).toBe('out-of-budget');
  });
});

describe('a call its task names that the Calls list does not hold', () => {
  it('is fetched by its SID: its item takes the call’s own times (a call started 90 min before its task)', async () => {
    const { completions } = await readSequentially({ fromMs: nowMs - 1.5 * DAY_MS, toMs: nowMs - 1.4 * DAY_MS });
    const named = completions.filter((c) => c.callSid !== null);
    const once = named.filter((c) => named.filter((o) => o.callSid === c.callSid).length === 1);
    const target = once[0];
    const call = emulator.state.calls.calls.get(target.callSid!)!;
    const original = { startTimeMs: call.startTimeMs, durationSeconds: call.durationSeconds };
    // 90 minutes in an IVR or a queue before the task was created: outside the list's hour of lookback.
    call.startTimeMs = target.taskCreatedMs - 90 * 60_000;
    call.durationSeconds = Math.round((call.endTimeMs - call.startTimeMs) / 1000);
    try {
      const { result, answers } = await answersDuring(() =>
        readRecords(sdk, [target], { maxCalls: MAX_CALLS_PER_WINDOW, acceptPartial: () => false }),
      );
      expect(result.kind).toBe('read');
      if (result.kind !== 'read') return;
      expect(result.records[0]).toMatchObject({
        startSource: 'call',
        startedAtMs: Math.floor(call.startTimeMs / 1000) * 1000,
        durationSeconds: call.durationSeconds,
      });
      expect(answers).toEqual(['calls']); // the list (the fetch is no list page)
      expect(result.pages).toBe(2); // its page and the one fetch
    } finally {
      Object.assign(call, original);
    }
  });

  it('a call Twilio no longer has (404) leaves the record with the task’s times', async () => {
    const { completions } = await readSequentially({ fromMs: nowMs - 1.5 * DAY_MS, toMs: nowMs - 1.4 * DAY_MS });
    const target = completions.find((c) => c.callSid !== null)!;
    const call = emulator.state.calls.calls.get(target.callSid!)!;
    emulator.state.calls.calls.delete(target.callSid!);
    const ordered = emulator.state.calls.ordered;
    const at = ordered.indexOf(call);
    ordered.splice(at, 1);
    try {
      const result = await readRecords(sdk, [target], { maxCalls: MAX_CALLS_PER_WINDOW, acceptPartial: () => false });
      expect(result).toMatchObject({ kind: 'read', pages: 2 });
      if (result.kind === 'read') expect(result.records[0].startSource).toBe('task');
    } finally {
      emulator.state.calls.calls.set(call.sid, call);
      ordered.splice(at, 0, call);
    }
  });
});
