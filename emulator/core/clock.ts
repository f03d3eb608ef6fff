export const DAY_MS = 86_400_000;

/**
 * The emulator's clock: real time plus an offset moved by POST /__admin/clock.
 * TTLs, token expiry, seeded event times and the Date header all read it.
 */
export class Clock {
  private offsetMs = 0;
  /** Told after every move (the Sync client endpoint re-reads its token deadlines). */
  readonly listeners: Array<() => void> = [];

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
    for (const listener of this.listeners) listener();
  }

  reset(): void {
    this.offsetMs = 0;
    for (const listener of this.listeners) listener();
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }
}

/** ISO 8601 without milliseconds, as Sync and TaskRouter print dates. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 2822, as API 2010 prints dates: "Fri, 18 Oct 2019 17:00:00 +0000". */
export function rfc2822Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}
