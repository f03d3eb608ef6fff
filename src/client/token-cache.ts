/**
 * The cached token's storage format and its checks. An entry read back from storage is untrusted: it may be corrupt,
 * from an older format, for another endpoint, for another Flex user (the tab's previous login), or expired.
 * Only an entry that passes every check, and is still outside the refresh margin, is handed out.
 *
 * Freshness is measured on the browser's own clock, from the moment the request was sent plus the server's `ttl`
 * (not the server's absolute `expiresAt`): a browser clock that is off by minutes or hours then neither hands out a
 * stale token nor throws away fresh ones. A clock that moves backwards past the fetch time invalidates the entry.
 */
export interface SyncTokenResult {
  /** The Twilio Access Token (JWT) for `new SyncClient(token)` / `updateToken(token)`. */
  readonly token: string;
  readonly identity: string;
  /** Lifetime in seconds, as issued. */
  readonly ttl: number;
  /** ISO 8601 expiry by the server's clock. */
  readonly expiresAt: string;
  readonly serviceSid: string;
}

export interface CacheEntry {
  v: 1;
  endpoint: string;
  /** Fingerprint of the Flex token the Sync token was issued for (never the Flex token itself). */
  user: string;
  /** Browser clock (ms) when the request was sent, and that plus `ttl`. */
  obtainedAtMs: number;
  expiresAtMs: number;
  result: SyncTokenResult;
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** The /sync-token success body, or undefined if it is not one. */
export function readTokenResult(body: unknown): SyncTokenResult | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (!isNonEmptyString(b.token) || !isNonEmptyString(b.identity) || !isNonEmptyString(b.serviceSid)) return undefined;
  if (typeof b.ttl !== 'number' || !Number.isFinite(b.ttl) || b.ttl <= 0) return undefined;
  if (!isNonEmptyString(b.expiresAt) || Number.isNaN(Date.parse(b.expiresAt))) return undefined;
  return { token: b.token, identity: b.identity, ttl: b.ttl, expiresAt: b.expiresAt, serviceSid: b.serviceSid };
}

export function makeEntry(endpoint: string, user: string, obtainedAtMs: number, result: SyncTokenResult): CacheEntry {
  return { v: 1, endpoint, user, obtainedAtMs, expiresAtMs: obtainedAtMs + result.ttl * 1000, result };
}

/** Parses a stored entry; undefined for anything malformed. */
export function decodeEntry(text: string | null): CacheEntry | undefined {
  if (text === null) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // Not JSON: raw stays undefined, refused next.
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const e = raw as Record<string, unknown>;
  if (e.v !== 1 || typeof e.endpoint !== 'string' || typeof e.user !== 'string') return undefined;
  // JSON numbers are always finite.
  if (typeof e.obtainedAtMs !== 'number') return undefined;
  if (typeof e.expiresAtMs !== 'number') return undefined;
  const result = readTokenResult(e.result);
  if (!result) return undefined;
  // The stored expiry must be the one the stored ttl implies: no hand-edited or mixed-up entries.
  if (e.expiresAtMs !== e.obtainedAtMs + result.ttl * 1000) return undefined;
  return { v: 1, endpoint: e.endpoint, user: e.user, obtainedAtMs: e.obtainedAtMs, expiresAtMs: e.expiresAtMs, result };
}

export function encodeEntry(entry: CacheEntry): string {
  return JSON.stringify(entry);
}

/**
 * The refresh margin for a token of `ttlSeconds`: `configured` seconds, or by default 10 % of the lifetime but at
 * least 5 minutes (so a handed-out token outlives the SDK's `tokenAboutToExpire`, sent 3 minutes before expiry);
 * never more than half the lifetime, so a token just fetched is always usable.
 */
export function marginMs(ttlSeconds: number, configured?: number): number {
  const seconds = configured ?? Math.max(300, ttlSeconds * 0.1);
  return Math.min(seconds, ttlSeconds / 2) * 1000;
}

/** Usable now: the clock has not gone back past the fetch, and `now` is before expiry minus the margin. */
export function isFresh(entry: CacheEntry, nowMs: number, configuredMarginSeconds?: number): boolean {
  if (!Number.isFinite(nowMs) || nowMs < entry.obtainedAtMs) return false;
  return nowMs < entry.expiresAtMs - marginMs(entry.result.ttl, configuredMarginSeconds);
}

/**
 * A short, non-reversible fingerprint of the Flex token (cyrb53, 53 bits), so the cache can tell a token issued for
 * this Flex session from one left behind by another login in the same tab, without storing the Flex token.
 * Flex tokens are opaque to the browser (their identity cannot be read reliably), so the whole token is hashed: when
 * Flex refreshes its token the next getToken() fetches once more, which is cheap and always correct.
 */
export function fingerprint(value: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
