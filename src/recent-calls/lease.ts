/**
 * The lease: which run currently works. A run takes the lease with If-Match (checkpoint-store.ts) before it writes
 * anything; a lease expires on its own (a run killed at the platform's time limit cannot release it), and a run
 * releases it with its last save.
 *
 * Even a sealed lease is checked: one that ends later than any run could have taken it was not written by a run, and
 * is ignored, so that a forged `until` far ahead cannot keep the job busy forever.
 */
import type { Checkpoint, CheckpointStore, SealFailure } from './checkpoint-store';

/** A run's lease lasts its budget plus this (the last save happens after the budget). */
export const LEASE_MARGIN_MS = 4000;
/** Any run's lease ends within this of its start: the largest budget plus the lease margin plus clock slack. */
export const CLOCK_SLACK_MS = 2000;

/** How long a run with `budgetMs` holds the lease. */
export function leaseMsFor(budgetMs: number): number {
  return budgetMs + LEASE_MARGIN_MS;
}

/** The latest `lease.until` any run can have set `now` (ms): a later one was not written by a run. */
export function latestPlausibleLeaseEnd(nowMs: number, maxLeaseMs: number): number {
  return nowMs + maxLeaseMs + CLOCK_SLACK_MS;
}

export type LeaseResult =
  | {
      ok: true;
      checkpoint: Checkpoint;
      /** Another holder's lease that was ignored because no run could have set it (it ended too far ahead). */
      ignoredLease?: { owner: string; until: string };
      /** The stored state (lease and cursor included) failed its seal check and was ignored. */
      rejectedState?: SealFailure;
    }
  | { ok: false; reason: 'busy' | 'conflict'; until?: string };

/**
 * Takes the lease for `owner` for `leaseMs`, unless another run holds an unexpired one (`nowMs`: Twilio's clock).
 * A lease ending more than `maxLeaseMs` (the longest lease any run takes) from now is not a run's: it is ignored,
 * so that a forged `until` far ahead cannot keep the job busy forever. A state that failed its seal check has been
 * replaced by EMPTY_STATE already (no lease): the run takes the lease over it. `onFree` is told the checkpoint as it
 * was read, when no other run holds it, just before the lease is saved (the caller's reads may start meanwhile).
 */
export async function acquireLease(
  store: Pick<CheckpointStore, 'loadOrCreate' | 'save'>,
  owner: string,
  nowMs: () => number,
  leaseMs: number,
  maxLeaseMs: number = leaseMs,
  onFree?: (current: Checkpoint) => void,
): Promise<LeaseResult> {
  const current = await store.loadOrCreate();
  const lease = current.state.lease;
  const now = nowMs(); // read after a response: the server clock is known by now
  const until = lease ? Date.parse(lease.until) : Number.NaN;
  const forged = lease !== null && until > latestPlausibleLeaseEnd(now, Math.max(leaseMs, maxLeaseMs));
  if (lease && !forged && lease.owner !== owner && until > now)
    return { ok: false, reason: 'busy', until: lease.until };
  onFree?.(current);
  const saved = await store.save(
    { ...current.state, lease: { owner, until: new Date(now + leaseMs).toISOString() } },
    current.revision,
  );
  if (!saved.ok) return { ok: false, reason: 'conflict' };
  return {
    ...saved,
    ...(forged && lease ? { ignoredLease: lease } : {}),
    ...(current.rejected ? { rejectedState: current.rejected } : {}),
  };
}
