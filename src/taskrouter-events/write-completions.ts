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
 * Costs per pushed call: one Call fetch for its timing (the job reads the Calls list in bulk; one call is cheaper
 * fetched), one item create, plus once per map and warm instance the read grant, and per warm instance the service's
 * ACL setting (cached) and the identity of a worker whose event lacked its attributes.
 */
import type { Logger } from '../observability/logger';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import { hasStatus } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { buildCallRecord } from '../recent-calls/call-record';
import { callTiming, type CallTiming } from '../recent-calls/calls-source';
import { COMPLETED_EVENT_TYPE, identityFromContactUri, parseAttributes, parseCompletion, type Completion } from '../recent-calls/events-source';
import { classifyFailure, RecentCallsWriter, type WriteOutcome } from '../recent-calls/writer';
import type { SyncJobConfig } from '../config/sync-job';
import type { PushedEvent } from './pushed-event';

const PER_MAP_CONCURRENCY = 4;
const CONCURRENCY = 8;
const SERVICE_CACHE_MS = 5 * 60_000;

export type EventOutcome =
  | { position: number; eventType?: string; outcome: 'written' | 'exists' | 'duplicate' | 'old' }
  | { position: number; eventType?: string; outcome: 'ignored'; reason: string }
  | { position: number; eventType?: string; outcome: 'failed'; retryable: boolean; code: string };

export interface PushWriteDeps {
  twilio: ProjectTwilioClient;
  config: Pick<SyncJobConfig, 'serviceSid' | 'workspaceSid' | 'ttlDays'>;
  limiter: ObjectRateLimiter;
  log: Logger;
  /** No write starts after this instant of `now()`. */
  stopAt: number;
  now?: () => number;
}

export interface PushWriteStats {
  twilioRequests: number;
  callsFetched: number;
  callsMissing: number;
}

/** The service's ACL setting, per warm instance (it changes only when an operator runs setup). */
let serviceCache: { sid: string; aclEnabled: boolean; at: number } | undefined;

async function aclEnabled(deps: PushWriteDeps): Promise<boolean> {
  const now = Date.now();
  if (serviceCache && serviceCache.sid === deps.config.serviceSid && now - serviceCache.at < SERVICE_CACHE_MS) return serviceCache.aclEnabled;
  const service = await deps.twilio.client.sync.v1.services(deps.config.serviceSid).fetch();
  serviceCache = { sid: deps.config.serviceSid, aclEnabled: service.aclEnabled, at: now };
  return service.aclEnabled;
}

/** The call's timing for the record, or undefined when the call is not (yet) known: the record takes the task's times. */
async function fetchTiming(deps: PushWriteDeps, callSid: string): Promise<CallTiming | undefined> {
  try {
    return callTiming(await deps.twilio.client.calls(callSid).fetch());
  } catch (error) {
    if (hasStatus(error, 404)) return undefined;
    throw error;
  }
}

async function workerIdentity(deps: PushWriteDeps, workerSid: string): Promise<string | undefined> {
  try {
    const worker = await deps.twilio.client.taskrouter.v1.workspaces(deps.config.workspaceSid).workers(workerSid).fetch();
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
export async function writePushedCompletions(events: readonly PushedEvent[], deps: PushWriteDeps): Promise<{ outcomes: EventOutcome[]; stats: PushWriteStats }> {
  const outcomes: EventOutcome[] = new Array(events.length);
  const stats: PushWriteStats = { twilioRequests: 0, callsFetched: 0, callsMissing: 0 };
  const firsts: Array<{ index: number; completion: Completion }> = [];
  const seen = new Set<string>();
  events.forEach((event, index) => {
    if (!event.ok) {
      outcomes[index] = { position: event.position, eventType: event.eventType, outcome: 'ignored', reason: event.reason };
      return;
    }
    const parsed = parseCompletion(event.raw);
    if (!parsed.ok) {
      outcomes[index] = { position: event.position, eventType: event.raw.eventType, outcome: 'ignored', reason: parsed.reason };
      return;
    }
    const key = `${parsed.completion.workerSid}|${parsed.completion.callSid}`;
    if (seen.has(key)) {
      outcomes[index] = { position: event.position, eventType: event.raw.eventType, outcome: 'duplicate' };
      return;
    }
    seen.add(key);
    firsts.push({ index, completion: parsed.completion });
  });
  if (firsts.length === 0) return { outcomes, stats };

  const requestsBefore = deps.twilio.http.metrics.requests;
  try {
    const missingIdentity = [...new Set(firsts.filter((f) => !f.completion.identity).map((f) => f.completion.workerSid))];
    const [acl, timings, identities] = await Promise.all([
      aclEnabled(deps),
      Promise.all(firsts.map((f) => fetchTiming(deps, f.completion.callSid))),
      Promise.all(missingIdentity.map(async (sid) => [sid, await workerIdentity(deps, sid)] as const)),
    ]);
    stats.callsFetched = firsts.length;
    stats.callsMissing = timings.filter((t) => t === undefined).length;
    const identityOf = new Map(identities.filter((e): e is readonly [string, string] => e[1] !== undefined));
    // Earliest completion first, as the job orders a window's records.
    const order = firsts.map((f, i) => ({ ...f, timing: timings[i] })).sort((a, b) => a.completion.eventDateMs - b.completion.eventDateMs);
    const writer = new RecentCallsWriter({
      client: deps.twilio.client,
      serviceSid: deps.config.serviceSid,
      limiter: deps.limiter,
      concurrency: CONCURRENCY,
      perMapConcurrency: PER_MAP_CONCURRENCY,
      ttlDays: deps.config.ttlDays,
      serverNow: () => deps.twilio.http.serverNow(),
      aclEnabled: acl,
      stopAt: deps.stopAt,
      now: deps.now,
      log: deps.log,
      identityOf: (workerSid) => identityOf.get(workerSid),
    });
    const written = await writer.write(order.map((o) => buildCallRecord(o.completion, o.timing)));
    order.forEach((o, i) => (outcomes[o.index] = fromWrite(events[o.index].position, COMPLETED_EVENT_TYPE, written[i])));
  } catch (error) {
    // A read the records need failed after the HTTP layer's retries: every record of the delivery is still to do.
    const { code, retryable } = classifyFailure(error);
    for (const f of firsts) {
      outcomes[f.index] ??= { position: events[f.index].position, eventType: COMPLETED_EVENT_TYPE, outcome: 'failed', retryable, code };
    }
  } finally {
    stats.twilioRequests = deps.twilio.http.metrics.requests - requestsBefore;
  }
  return { outcomes, stats };
}
