import { Deadline } from '../twilio/deadline';

/** The part of the SDK's Page objects the readers use (the SDK's own page types do not accept `nextPage()`'s type). */
export interface PageLike<T> {
  instances: T[];
  /** The SDK sets it (undefined on the last page); `nextPage()` sends the request at once when it is set. */
  nextPageUrl?: string;
  nextPage(): Promise<PageLike<T>> | undefined;
}

/** Whether a next page exists, known without requesting it (pages without `nextPageUrl`: assume it may). */
export function hasNextPage(page: PageLike<unknown>): boolean {
  return 'nextPageUrl' in page ? Boolean(page.nextPageUrl) : true;
}

/**
 * The time a run may spend reading pages (events, calls). Before each page a reader asks whether one more page,
 * as slow as the last one read, would still end before the reads' deadline; when not, it stops and reports the read
 * as out of budget instead of starting a request that would time out.
 */
export class PageBudget {
  /** The last page to end, of whichever list (a window's event pages and its Calls list may run side by side). */
  private lastPageMs = 0;

  /** No page may end after `deadline`. */
  constructor(private readonly deadline: Deadline) {}

  allowsPage(): boolean {
    return this.deadline.allows(this.lastPageMs);
  }

  /** Reads one page, remembering how long it took. */
  async page<T>(read: () => Promise<T>): Promise<T> {
    const started = this.deadline.now();
    try {
      return await read();
    } finally {
      this.lastPageMs = this.deadline.now() - started;
    }
  }

  /** No deadline: every page allowed (tests, tools). */
  static unlimited(): PageBudget {
    return new PageBudget(Deadline.none());
  }
}
