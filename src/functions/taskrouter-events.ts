/**
 * POST /taskrouter-events (public, checks its callers in code): TaskRouter pushes each event here, as the workspace's
 * EventCallbackUrl (one form per event) or as an Event Streams webhook sink (JSON arrays of CloudEvents). Each
 * completed voice reservation is written to the agent's recent-calls map exactly as the scheduled job writes it; every
 * other event is acknowledged and ignored. See docs/realtime.md.
 *
 * Answers (within TASKROUTER_EVENTS_BUDGET_MS, under Event Streams' 5 s and the callback's 15 s):
 * - 200 `{received, written, exists, duplicate, old, ignored, failed, retry: false, events}`: done; events that
 *   cannot be written (unreadable, or refused by Twilio for good) are in `events` and are not worth a retry;
 * - 503 (`UPSTREAM_UNAVAILABLE`, `retry: true`, Retry-After): some event failed in a way a retry can fix (Twilio
 *   throttled or unavailable, or out of time). Event Streams retries the whole batch (what was written answers
 *   `exists` then); TaskRouter does not retry callbacks: the scheduled job writes what is missing;
 * - 401 with `WWW-Authenticate` for missing or wrong credentials or a bad signature: nothing is read or written.
 * Every delivery logs one "taskrouter events summary" line.
 */
import { requiredString } from '../config/env';
import { readSyncJobConfig } from '../config/sync-job';
import { readTaskRouterEventsConfig } from '../config/taskrouter-events';
import type { ErrorCode } from '../http/error-codes';
import { describeError } from '../http/error-response';
import { defineFunction } from '../http/function';
import { InvalidRequest } from '../params/errors';
import { limiterSettings } from '../recent-calls/job';
import { authenticateDelivery, type DeliveryAuth } from '../taskrouter-events/delivery-auth';
import { pushedBatch, pushedEvents, type PushedShape } from '../taskrouter-events/pushed-event';
import { writePushedCompletions, type EventOutcome } from '../taskrouter-events/write-completions';
import { createTwilioClient } from '../twilio/client-factory';
import { warmRateLimiter } from '../twilio/object-rate-limiter';

/** No write starts in the last ms of the budget: the answer must still leave in time. */
const STOP_MARGIN_MS = 300;
/** Event Streams batches hold far fewer; a bigger body is not a delivery. */
const MAX_EVENTS = 500;

const limiterFor = warmRateLimiter('pushed events rate limiter');

function countOutcomes(outcomes: readonly EventOutcome[]) {
  const count = (kind: EventOutcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
  const retryable = outcomes.filter((o) => o.outcome === 'failed' && o.retryable).length;
  return {
    received: outcomes.length,
    written: count('written'),
    exists: count('exists'),
    duplicate: count('duplicate'),
    old: count('old'),
    ignored: count('ignored'),
    failed: count('failed'),
    retry: retryable > 0,
  };
}

export const handler = defineFunction({
  name: 'taskrouter-events',
  methods: ['POST'],
  cors: false,
  async handle({ context, params, headers, deadline, log, addSecret }) {
    const startedAt = performance.now();
    const shape: PushedShape = (headers['content-type'] ?? '').toLowerCase().includes('application/json')
      ? 'streams'
      : 'callback';
    const summary: Record<string, unknown> = { shape };
    let status = 500;
    try {
      const config = readTaskRouterEventsConfig(context);
      if (config.secret) addSecret(config.secret);
      const batch = shape === 'streams' ? pushedBatch(params) : [];
      const auth: DeliveryAuth = authenticateDelivery(
        { context, params, headers },
        shape,
        config,
        requiredString(context, 'AUTH_TOKEN'),
        batch,
      );
      Object.assign(summary, { basic: auth.basic, signed: auth.signature });
      if (shape === 'callback' && typeof params.EventType !== 'string') {
        throw new InvalidRequest('A TaskRouter callback needs EventType');
      }
      if (shape === 'streams' && (batch.length === 0 || batch.length > MAX_EVENTS)) {
        throw new InvalidRequest(`An Event Streams delivery is a JSON array of 1 to ${MAX_EVENTS} events`);
      }
      const job = readSyncJobConfig(context);
      const limiter = limiterFor(limiterSettings(job));
      const budget = deadline.child(config.budgetMs);
      const twilio = createTwilioClient(context, { deadline: budget.shortenedBy(STOP_MARGIN_MS / 2) });
      const { outcomes, stats } = await writePushedCompletions(pushedEvents(shape, params), {
        twilio,
        config: job,
        limiter,
        log,
        deadline: budget.shortenedBy(STOP_MARGIN_MS),
      });
      const counts = countOutcomes(outcomes);
      Object.assign(summary, counts, stats);
      const notable = outcomes.filter(
        (o) => o.outcome === 'failed' || (o.outcome === 'ignored' && o.reason !== 'not-completed-event'),
      );
      if (counts.retry) {
        status = 503;
        return {
          status,
          headers: { 'Retry-After': '5' },
          body: {
            code: 'UPSTREAM_UNAVAILABLE' satisfies ErrorCode,
            message: 'Some events could not be written yet; deliver them again',
            ...counts,
            events: notable,
          },
        };
      }
      status = 200;
      return { status, body: { ...counts, events: notable } };
    } catch (error) {
      // As the wrapper will answer it.
      ({ status, code: summary.code } = describeError(error));
      throw error;
    } finally {
      log.info('taskrouter events summary', { ...summary, status, ms: Math.round(performance.now() - startedAt) });
    }
  },
});
