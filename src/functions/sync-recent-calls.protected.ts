/**
 * POST /sync-recent-calls (protected): the scheduled recent-calls sync. A scheduler calls it with a request signed
 * with the account's auth token (X-Twilio-Signature, see docs/endpoints.md "Signed requests"); each call does up to
 * SYNC_JOB_BUDGET_MS of work and answers
 *   {done, processed, written, skipped, failed, remaining, remainingExact, syncedThrough[, busy]};
 * call again until `done`.
 * - `processed` = `written` + `skipped` + `failed`, for this invocation only.
 * - `remaining`: completed calls known to be still waiting (read but not committed, or in a window the run could
 *   not finish reading). It is a lower bound unless `remainingExact` is true: a run stopped by its budget has not
 *   read what lies after its last window, so `done: false, remaining: 0` means "more may be waiting: call again",
 *   not "nothing left". `remainingExact` is true only when the run read every settled event (then, with `done`, 0).
 * - `syncedThrough`: every completed call before this instant is in Sync (the checkpoint).
 * - `busy: true`: another invocation holds the lease; nothing was done.
 * - `ShardIndex` / `ShardCount` (signed, both or neither): sync only the agents of that shard, with its own
 *   checkpoint (a parallel backfill, docs/performance.md); bad values → 400 SHARD_INVALID. The answer then names
 *   its `shard` (`1-of-3`).
 * Every invocation logs one "sync run summary" line (counts, retries, 429s, elapsed time, remaining).
 */
import { randomUUID } from 'node:crypto';
import { verifySignature } from '../auth/signature';
import { requiredString } from '../config/env';
import { defineFunction } from '../http/function';
import { checkpointKey } from '../recent-calls/checkpoint-seal';
import { limiterSettings, runSyncJob, workSockets } from '../recent-calls/job';
import { readSyncJobConfig } from '../config/sync-job';
import { createTwilioClient, twilioNow } from '../twilio/client-factory';
import { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { warmMap } from '../runtime/warm-state';
import { readShardParams, SHARD_PARAM_NAMES, shardLabel } from '../recent-calls/shard';

/**
 * What a signed request may name (besides SignedAt): the trigger's invocation number and time, both informative, and
 * the shard of a parallel backfill.
 */
export const SIGNED_JOB_PARAMS = ['Invocation', 'RequestedAt', ...SHARD_PARAM_NAMES];

/**
 * Kept across warm invocations, so back-to-back runs keep pacing each map's writes; one per shard, because in
 * production each shard's invocations run on their own instances (locally they share this process, and must not
 * share more than they would there).
 */
const limiters = warmMap<string, ObjectRateLimiter>('sync job rate limiters (one per shard)');
/** A process keeps the limiters of at most this many shards (the oldest goes first). */
const MAX_LIMITERS = 64;

function limiterFor(label: string, settings: { ratePerSecond: number; burst: number }): ObjectRateLimiter {
  const kept = limiters.get(label);
  if (kept && kept.ratePerSecond === settings.ratePerSecond && kept.burst === settings.burst) return kept;
  const limiter = new ObjectRateLimiter(settings);
  limiters.delete(label);
  limiters.set(label, limiter);
  if (limiters.size > MAX_LIMITERS) limiters.delete(limiters.keys().next().value!);
  return limiter;
}

export const handler = defineFunction({
  name: 'sync-recent-calls',
  methods: ['POST'],
  cors: false,
  async handle({ context, params, headers, requestId, deadline, log }) {
    const startedAt = performance.now();
    verifySignature({ context, params, headers }, requiredString(context, 'AUTH_TOKEN'), {
      allowed: SIGNED_JOB_PARAMS,
      now: () => twilioNow(context),
    });
    const shard = readShardParams(params);
    const pool = shardLabel(shard);
    const config = readSyncJobConfig(context);
    const work = deadline.child(config.budgetMs);
    const summary = await runSyncJob(config, {
      // The pool must hold every request the job keeps in flight, or the SDK's 20-socket default caps it.
      work: createTwilioClient(context, { deadline: work, maxSockets: workSockets(config), pool }),
      // The checkpoint's reads and saves may use what the invocation has left after the work budget.
      control: createTwilioClient(context, { deadline, pool }),
      deadline: work,
      limiter: limiterFor(pool, limiterSettings(config)),
      shard,
      checkpointKey: checkpointKey(context),
      log,
      runId: `${requestId}-${randomUUID().slice(0, 8)}`,
      startedAt,
    });
    return { status: 200, body: summary };
  },
});
