/**
 * The time budget of one invocation, and of each step in it. The function wrapper makes the root when a request
 * arrives (`Deadline.forInvocation()`: the platform's 10 s limit minus a margin for the answer to leave); each step
 * that may wait on Twilio (IAM, the ACL check, the job's work, a read) takes a child carved from it, which may end
 * sooner than its parent but never later. So however the steps' own budgets add up, the invocation answers in time.
 *
 * A deadline is an instant on a monotonic clock (performance.now unless a test injects one); its children share it.
 */
export type Clock = () => number;

/** Functions stop an invocation after this long. */
export const FUNCTION_TIME_LIMIT_MS = 10_000;
/** Left out of the root: the time the answer needs to leave (wrapper, logging, the runtime's own work). */
export const ROOT_MARGIN_MS = 300;

const monotonic: Clock = () => performance.now();

export class Deadline {
  /** The instant (on `clock`) by which the step must be done; Infinity for none. */
  readonly endsAt: number;

  /** A deadline `budgetMs` from now (a root: nothing above it). Prefer `child` below a request's own deadline. */
  constructor(
    budgetMs: number,
    private readonly clock: Clock = monotonic,
  ) {
    this.endsAt = clock() + Math.max(0, budgetMs);
  }

  /** The root of one invocation: the platform's limit minus the margin, from now. */
  static forInvocation(clock: Clock = monotonic): Deadline {
    return new Deadline(FUNCTION_TIME_LIMIT_MS - ROOT_MARGIN_MS, clock);
  }

  /** No deadline at all (tools, tests). */
  static none(clock: Clock = monotonic): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY, clock);
  }

  /** The current instant on this deadline's clock. */
  now(): number {
    return this.clock();
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - this.clock());
  }

  expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** Whether a step of `ms` started now would end before the deadline. */
  allows(ms: number): boolean {
    return this.clock() + Math.max(0, ms) < this.endsAt;
  }

  /** A step's own budget: `ms` from now, or this deadline if it ends sooner. */
  child(ms: number): Deadline {
    return Deadline.ending(Math.min(this.endsAt, this.clock() + Math.max(0, ms)), this.clock);
  }

  /** This deadline brought `ms` forward (e.g. no new work in the last `ms`, which the answer or a save needs). */
  shortenedBy(ms: number): Deadline {
    return Deadline.ending(this.endsAt - Math.max(0, ms), this.clock);
  }

  private static ending(endsAt: number, clock: Clock): Deadline {
    const deadline = new Deadline(0, clock);
    (deadline as { endsAt: number }).endsAt = endsAt;
    return deadline;
  }
}
