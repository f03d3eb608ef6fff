/** Wakes waiters: one (a finished request frees one slot), or all (it may have made several units ready). */
export class Notifier {
  private readonly waiting: Array<() => void> = [];

  /** Resolves at the next notify(), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve();
        },
        Math.max(0, timeoutMs),
      );
      this.waiting.push(wake);
    });
  }

  notifyOne(): void {
    this.waiting.shift()?.();
  }

  notifyAll(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }
}
