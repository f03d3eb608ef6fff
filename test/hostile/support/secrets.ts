/**
 * Finds secrets in text (responses, log lines): the exact values, and any run of 30 or more consecutive characters
 * of one (so a truncated, sliced or partly redacted copy is caught too). Thousands of values can be indexed: each is
 * cut into 20-character windows every 10 characters, and the text is scanned window by window over its runs of
 * token characters, so the cost grows with the text, not with the number of secrets.
 */
const WINDOW = 20;
const STRIDE = 10;
/** Characters a token, key or secret is made of; other characters end a run. */
const RUN = /[A-Za-z0-9._~+/=-]{20,}/g;
/** Windows with fewer distinct characters are not indexed (e.g. "aaaa…"), so they cannot match by accident. */
const MIN_DISTINCT = 9;

export interface SecretHit {
  label: string;
  /** The window or value that matched (shortened). */
  sample: string;
}

export class SecretIndex {
  private readonly windows = new Map<string, string>();
  private readonly exact: Array<{ value: string; label: string }> = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Indexes `value` (ignored when shorter than a window, unless `exactOnly`); `label` names it in reports. */
  add(value: string, label: string, options: { exact?: boolean } = {}): void {
    if (typeof value !== 'string' || value.length === 0) return;
    this.count += 1;
    if (options.exact) this.exact.push({ value, label });
    if (value.length < WINDOW) return;
    // A JWT's header segment (eyJ… up to its first dot) is public and the same in every token: a window that lies
    // wholly inside it (or before it) proves nothing, e.g. when a parser error quotes the first bytes of a body.
    const jwtHeader = /eyJ[A-Za-z0-9_-]*\./.exec(value);
    const publicEnd = jwtHeader ? jwtHeader.index + jwtHeader[0].length : 0;
    const last = value.length - WINDOW;
    for (let at = 0; ; at = Math.min(at + STRIDE, last)) {
      const window = value.slice(at, at + WINDOW);
      const secretPart = at + WINDOW > publicEnd;
      if (secretPart && new Set(window).size >= MIN_DISTINCT && !this.windows.has(window))
        this.windows.set(window, label);
      if (at === last) break;
    }
  }

  /** Every secret found in `text` (at most `limit`). */
  scan(text: string, limit = 5): SecretHit[] {
    const hits: SecretHit[] = [];
    for (const { value, label } of this.exact) {
      if (text.includes(value)) hits.push({ label, sample: value.slice(0, 12) + '…' });
      if (hits.length >= limit) return hits;
    }
    if (this.windows.size === 0) return hits;
    for (const match of text.matchAll(RUN)) {
      const run = match[0];
      for (let at = 0; at + WINDOW <= run.length; at++) {
        const label = this.windows.get(run.slice(at, at + WINDOW));
        if (label !== undefined) {
          hits.push({ label, sample: run.slice(at, at + WINDOW) });
          if (hits.length >= limit) return hits;
          break; // one hit per run is enough
        }
      }
    }
    return hits;
  }
}

/** A JWT anywhere in a text (an issued Access Token would be one). */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;
