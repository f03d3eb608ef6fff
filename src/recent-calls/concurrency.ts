/** Wakes waiters one at a time (a finished request frees one slot: one waiter is enough). */
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
}
