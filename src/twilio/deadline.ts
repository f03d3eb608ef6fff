/** A point in time by which an invocation must have answered (Functions stop at 10 s). */
export class Deadline {
  private readonly at: number;

  constructor(
    budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.at = now() + budgetMs;
  }

  static none(): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY);
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.now());
  }

  expired(): boolean {
    return this.remainingMs() <= 0;
  }
}
