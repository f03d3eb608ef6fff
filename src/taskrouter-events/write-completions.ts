/**
 * Writes the completed voice reservations of one pushed delivery exactly as the scheduled job writes them: the job's
 * parsing (parseCompletion), record building and item key, and its writer (RecentCallsWriter: same key, data,
 * ItemTtl, CollectionTtl, read permission, per-map limiter, failure classification). A record the job wrote already
 * (or another delivery of the same event) answers 409 / 54208 and counts as `exists`: one item, never rewritten.
 *
 * Per event, one outcome: `written`, `exists`, `duplicate` (the same record earlier in this delivery), `old` (past
 * the TTL), `ignored` (not a completed voice reservation, or unreadable: acknowledged, never retried) or `failed`
 * (`retryable` when a retry could help: Twilio throttled or unavailable, or the budget ran out first).
 *
 * Records: the job's own (completion-records.ts): one per (agent, task), the calls' timing from one Calls list around
 * the delivery's tasks, which stops at the page holding every call the tasks name (an unenriched outbound task needs
 * the whole range, to find its one customer leg). A list the budget cuts short is used as read: the delivery is not
 * re-read in smaller pieces, as a window of the job is.
 *
 * Costs per delivery: one Calls list page (usually), one item create per call, plus once per map and warm instance
 * the read grant, and per warm instance the service's ACL setting (cached) and the identity of a worker whose event
 * lacked its attributes.
 */
import type { Logger } from '../observability/logger';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import type { Deadline } from '../twilio/deadline';
import { hasStatus } from '../twilio/errors';
import { serviceAclEnabled } from '../tokens/service-acl';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { readRecords, uniqueRecords } from '../recent-calls/completion-records';
import { PageBudget } from '../recent-calls/paging';
import {
  compareCompletions,
  COMPLETED_EVENT_TYPE,
  identityFromContactUri,
  parseAttributes,
  parseCompletion,
  type Completion,
} from '../recent-calls/events-source';
import { classifyFailure, RecentCallsWriter, type WriteOutcome } from '../recent-calls/writer';
import type { SyncJobConfig } from '../config/sync-job';
import type { PushedEvent } from './pushed-event';

const PER_MAP_CONCURRENCY = 4;
/** Reads end this long before the writes' stop (at most a quarter of the budget), leaving time to write. */
const READS_MARGIN_MS = 700;
/** The most calls one delivery's Calls list may hold before it is used as read. */
const MAX_CALLS = 5000;
const CONCURRENCY = 8;

export type EventOutcome =
  | { position: number; eventType?: string; outcome: 'written' | 'exists' | 'duplicate' | 'old' }
  | { position: number; eventType?: string; outcome: 'ignored'; reason: string }
  | { position: number; eventType?: string; outcome: 'failed'; retryable: boolean; code: string };

export interface PushWriteDeps {
  twilio: ProjectTwilioClient;
  config: Pick<SyncJobConfig, 'serviceSid' | 'workspaceSid' | 'ttlDays'>;
  limiter: ObjectRateLimiter;
  log: Logger;
  /** No write starts after it; reads end a little earlier, leaving time to write what they found. */
  deadline: Deadline;
}

export interface PushWriteStats {
  twilioRequests: number;
  callPages: number;
  callsMissing: number;
  partialCalls: boolean;
}

async function workerIdentity(deps: PushWriteDeps, workerSid: string): Promise<string | undefined> {
  try {
    const worker = await deps.twilio.client.taskrouter.v1
      .workspaces(deps.config.workspaceSid)
      .workers(workerSid)
      .fetch();
    return identityFromContactUri(parseAttributes(worker.attributes).contact_uri);
  } catch (error) {
    if (hasStatus(error, 404)) return undefined;
    throw error;
  }
}

function fromWrite(position: number, eventType: string, outcome: WriteOutcome): EventOutcome {
  switch (outcome.kind) {
    case 'written':
    case 'exists':
    case 'old':
      return { position, eventType, outcome: outcome.kind };
    case 'failed':
      return { position, eventType, outcome: 'failed', retryable: outcome.retryable, code: outcome.code };
    case 'not-attempted':
      return { position, eventType, outcome: 'failed', retryable: true, code: 'OUT_OF_BUDGET' };
  }
}

/** One outcome per pushed event, in the delivery's order. */
export async function writePushedCompletions(
  events: readonly PushedEvent[],
  deps: PushWriteDeps,
): Promise<{ outcomes: EventOutcome[]; stats: PushWriteStats }> {
  const outcomes: EventOutcome[] = new Array(events.length);
  const stats: PushWriteStats = { twilioRequests: 0, callPages: 0, callsMissing: 0, partialCalls: false };
  const parsed: Array<{ index: number; completion: Completion }> = [];
  events.forEach((event, index) => {
    if (!event.ok) {
      outcomes[index] = {
        position: event.position,
        eventType: event.eventType,
        outcome: 'ignored',
        reason: event.reason,
      };
      return;
    }
    const result = parseCompletion(event.raw);
    if (result.ok) parsed.push({ index, completion: result.completion });
    else
      outcomes[index] = {
        position: event.position,
        eventType: event.raw.eventType,
        outcome: 'ignored',
        reason: result.reason,
      };
  });
  // Earliest completion first, as the job orders a window's records; repeats of a record are answered `duplicate`.
  parsed.sort((a, b) => compareCompletions(a.completion, b.completion));
  const { first } = uniqueRecords(parsed.map((p) => p.completion));
  const firsts = parsed.filter((p) => first.includes(p.completion));
  for (const p of parsed) {
    if (!first.includes(p.completion))
      outcomes[p.index] = { position: events[p.index].position, eventType: COMPLETED_EVENT_TYPE, outcome: 'duplicate' };
  }
  if (firsts.length === 0) return { outcomes, stats };

  const { deadline } = deps;
  const reads = deadline.shortenedBy(Math.min(READS_MARGIN_MS, deadline.remainingMs() / 4));
  const requestsBefore = deps.twilio.http.metrics.requests;
  try {
    const missingIdentity = [...new Set(first.filter((c) => !c.identity).map((c) => c.workerSid))];
    const [acl, built, identities] = await Promise.all([
      serviceAclEnabled(() => deps.twilio.client, deps.config.serviceSid),
      readRecords(deps.twilio.client, first, {
        maxCalls: MAX_CALLS,
        budget: new PageBudget(reads),
        acceptPartial: () => true,
      }),
      Promise.all(missingIdentity.map(async (sid) => [sid, await workerIdentity(deps, sid)] as const)),
    ]);
    if (built.kind !== 'read') throw new Error('a partial Calls list is accepted, never out of budget');
    stats.callPages = built.pages;
    stats.partialCalls = built.partialCalls;
    stats.callsMissing = built.records.filter((r) => r.startSource !== 'call').length;
    const identityOf = new Map(identities.filter((e): e is readonly [string, string] => e[1] !== undefined));
    const writer = new RecentCallsWriter({
      client: deps.twilio.client,
      serviceSid: deps.config.serviceSid,
      limiter: deps.limiter,
      concurrency: CONCURRENCY,
      perMapConcurrency: PER_MAP_CONCURRENCY,
      ttlDays: deps.config.ttlDays,
      serverNow: () => deps.twilio.http.serverNow(),
      aclEnabled: acl,
      deadline,
      log: deps.log,
      identityOf: (workerSid) => identityOf.get(workerSid),
    });
    const written = await writer.write(built.records);
    firsts.forEach(
      (f, i) => (outcomes[f.index] = fromWrite(events[f.index].position, COMPLETED_EVENT_TYPE, written[i])),
    );
  } catch (error) {
    // A read the records need failed after the HTTP layer's retries: every record of the delivery is still to do.
    const { code, retryable } = classifyFailure(error);
    for (const f of firsts) {
      outcomes[f.index] ??= {
        position: events[f.index].position,
        eventType: COMPLETED_EVENT_TYPE,
        outcome: 'failed',
        retryable,
        code,
      };
    }
  } finally {
    stats.twilioRequests = deps.twilio.http.metrics.requests - requestsBefore;
  }
  return { outcomes, stats };
}
