/**
 * Reads one window of the job whole: its completed voice reservations (events-source.ts) and the Calls list for
 * their timing (completion-records.ts; a window of several event pages starts it beside its later pages, and lists
 * separately the part before it that tasks created well before the window need), telling the caller the completions
 * as soon as they are known; or says why it could not:
 * more events than one window may hold (overflow), or not within the reads' budget (a page that would end past it is
 * not started, and a read that times out at the deadline counts the same).
 */
import type { Twilio } from 'twilio';
import type { Logger } from '../observability/logger';
import type { Deadline } from '../twilio/deadline';
import { isUpstreamFailure } from '../twilio/errors';
import type { CallRecord } from './call-record';
import { readRecords, startCallsBeside, uniqueRecords, type CallsBeside } from './completion-records';
import type { TimeWindow } from './cursor';
import { readCompletions, type Completion } from './events-source';
import type { PageBudget } from './paging';
import type { OutcomeCounts, ReadCounts } from './run-summary';

/** A window holding more completions than this is read again shorter. */
export const MAX_EVENTS_PER_WINDOW = 10_000;
/** A window's Calls list stops after this many calls. */
export const MAX_CALLS_PER_WINDOW = 20_000;

/** What reading one window gave: its records, or why it could not be read whole. */
export type WindowRead =
  | {
      kind: 'read';
      /** Every event the window's pages held, for any agent, taken or not (none: the window is empty). */
      events: number;
      completions: Completion[];
      records: CallRecord[];
      /** Events not taken (not a voice completion, malformed), and repeated completions of one (agent, task). */
      ignored: number;
      duplicates: number;
    }
  | { kind: 'overflow' }
  /** Out of budget (or a read timed out at the deadline) after `pages` pages; `known`: completions seen meanwhile. */
  | { kind: 'out-of-budget'; pages: number; known: number };

export interface WindowReader {
  client: Twilio;
  workspaceSid: string;
  /** The reads' budget: no page is started that would end after it. */
  pages: PageBudget;
  /** The reads' deadline: a read failing after it did not fit the budget. */
  deadline: Deadline;
  log: Logger;
  /** Pages are counted as they are read; what a window holds is counted by whoever uses it (countWindow). */
  reads: ReadCounts;
  /** A shard's run: only these agents' records are returned (shard.ts); default every agent's. */
  owns?: (workerSid: string) => boolean;
  /** Whether this run counts the events no agent owns (ignored, repeated ones): one shard of a set does. */
  countsSharedEvents?: boolean;
  /**
   * The run's window length is the shortest there is (MIN_WINDOW_MS): a window that still did not fit cannot shrink.
   * (A window cut short by the present is not one: its length is what is left, not what the run chose.)
   */
  shortestWindow?: boolean;
  /** Called with the run's own completions once they are read, while the Calls list is read (its reads may start then). */
  onCompletions?: (completions: readonly Completion[]) => void;
}

/**
 * Reads `window`. `firstOfRun`: the window had the run's whole budget; a Calls list that answers whole days (a
 * filter honoured by the day only) is then written with what was read rather than retried forever (a busy day),
 * because a shorter window cannot shorten it.
 */
export async function readWindow(r: WindowReader, window: TimeWindow, firstOfRun: boolean): Promise<WindowRead> {
  let known = 0;
  let pagesRead = 0;
  let beside: CallsBeside | undefined;
  let besideWanted = true;
  /** Ends the Calls list read beside the event pages when it is not needed after all (its pages so far count). */
  const dropBeside = async () => {
    besideWanted = false;
    const pages = (await beside?.read.catch(() => undefined))?.pages ?? 0;
    r.reads.callPages += pages;
    pagesRead += pages;
  };
  try {
    const read = await readCompletions(r.client, {
      workspaceSid: r.workspaceSid,
      fromMs: window.fromMs,
      toMs: window.toMs,
      maxEvents: MAX_EVENTS_PER_WINDOW,
      budget: r.pages,
      // A window of several pages with events in it: its Calls list is read beside the rest of its event pages.
      onNextPage: (eventsRead) => {
        if (beside || eventsRead === 0) return;
        beside = startCallsBeside(r.client, window, {
          maxCalls: MAX_CALLS_PER_WINDOW,
          budget: r.pages,
          stopped: () => !besideWanted,
        });
      },
    });
    r.reads.eventPages += read.pages;
    pagesRead += read.pages;
    // A shard cannot tell its own among completions seen so far: 0 is its lower bound.
    known = r.owns ? 0 : read.completionsSeen;
    if (read.overflow || read.outOfBudget) await dropBeside();
    if (read.overflow) return { kind: 'overflow' };
    if (read.outOfBudget) return { kind: 'out-of-budget', pages: pagesRead, known };
    const { first, duplicates } = uniqueRecords(read.completions);
    const owns = r.owns ?? (() => true);
    const own = first.filter((c) => owns(c.workerSid));
    known = own.length;
    r.onCompletions?.(own);
    if (first.length === 0) besideWanted = false;

    // Out of budget: a shorter window (or a fresh run) reads a shorter list, unless the run had its whole budget and
    // shrinking cannot help: the list answers whole days, or the window is as short as windows get (its list spans
    // from the oldest task's creation, which a task completed hours after it was created stretches).
    const shortest = r.shortestWindow === true;
    const built = await readRecords(r.client, first, {
      maxCalls: MAX_CALLS_PER_WINDOW,
      budget: r.pages,
      acceptPartial: (calls) => firstOfRun && (calls.beyondRange || shortest),
      beside,
    });
    r.reads.callPages += built.pages;
    pagesRead += built.pages;
    if (built.kind === 'out-of-budget') return { kind: 'out-of-budget', pages: pagesRead, known };
    if (built.partialCalls) {
      r.reads.callListsPartial += 1;
      const fields = { pages: built.pages, windowSeconds: Math.round((window.toMs - window.fromMs) / 1000) };
      // At the shortest window the run could not read what its calls need: their items keep the task's times.
      if (shortest)
        r.log.error('calls list not read whole at the shortest window: records take the task times', fields);
      else r.log.warn('calls list not read whole: records without their call take the task times', fields);
    }
    const shared = r.countsSharedEvents !== false;
    const notTaken = Object.values(read.ignored).reduce((sum, n) => sum + n, 0);
    const ignored = shared ? notTaken : 0;
    // Every record is built (outbound matching compares the whole window), then only the run's own are returned.
    const records = built.records.filter((record) => owns(record.workerSid));
    return {
      kind: 'read',
      events: read.completions.length + notTaken,
      completions: read.completions,
      records,
      ignored,
      duplicates: shared ? duplicates : 0,
    };
  } catch (error) {
    if (beside && besideWanted) await dropBeside();
    // A read that failed at the reads' deadline (its timeout is the remaining budget): the window did not fit.
    if (isUpstreamFailure(error) && r.deadline.expired()) {
      r.log.warn('window read timed out at the budget', { code: (error as { code?: unknown }).code });
      return { kind: 'out-of-budget', pages: pagesRead + 1, known };
    }
    throw error;
  }
}

/** Counts what a window that was read whole holds (once: a window read again by the next run is counted then). */
export function countWindow(
  read: Extract<WindowRead, { kind: 'read' }>,
  counts: OutcomeCounts,
  reads: ReadCounts,
): void {
  counts.ignored += read.ignored;
  counts.duplicate += read.duplicates;
  reads.callsMissing += read.records.filter((r) => r.startSource !== 'call').length;
  reads.outboundMatched += read.records.filter((r) => r.callSource === 'matched').length;
  reads.outboundUnmatched += read.records.filter((r) => r.callSource === 'none').length;
}
