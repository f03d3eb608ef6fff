/**
 * POST /sync-recent-calls (protected): the scheduled recent-calls sync. A scheduler calls it with a request signed
 * with the account's auth token (X-Twilio-Signature, see README "Signed requests"); each call does up to
 * SYNC_JOB_BUDGET_MS of work and answers {done, processed, written, skipped, failed, remaining, syncedThrough};
 * call again until `done`.
 */
import { randomUUID } from 'node:crypto';
import { verifySignature } from '../auth/signature';
import { requiredString } from '../config/env';
import { defineFunction } from '../http/function';
import { runSyncJob, limiterSettings } from '../recent-calls/job';
import { readSyncJobConfig } from '../config/sync-job';
import { createTwilioClient } from '../twilio/client-factory';
import { Deadline } from '../twilio/deadline';
import { ObjectRateLimiter } from '../twilio/object-rate-limiter';

/** Time kept after the budget for the last checkpoint save (Functions stop at 10 s). */
const CONTROL_RESERVE_MS = 1200;

/** Kept across warm invocations, so back-to-back runs keep pacing each map's writes. */
let limiter: ObjectRateLimiter | undefined;

export const handler = defineFunction({
  name: 'sync-recent-calls',
  methods: ['POST'],
  cors: false,
  async handle({ context, params, headers, requestId, log }) {
    const startedAt = performance.now();
    verifySignature({ context, params, headers }, requiredString(context, 'AUTH_TOKEN'));
    const config = readSyncJobConfig(context);
    const settings = limiterSettings(config);
    if (!limiter || limiter.ratePerSecond !== settings.ratePerSecond || limiter.burst !== settings.burst) {
      limiter = new ObjectRateLimiter(settings);
    }
    const summary = await runSyncJob(config, {
      work: createTwilioClient(context, { deadline: new Deadline(config.budgetMs) }),
      control: createTwilioClient(context, { deadline: new Deadline(config.budgetMs + CONTROL_RESERVE_MS) }),
      limiter,
      log,
      runId: `${requestId}-${randomUUID().slice(0, 8)}`,
      startedAt,
    });
    return { status: 200, body: summary };
  },
});
