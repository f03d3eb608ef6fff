/**
 * Sync removes expired objects eventually, not at `date_expires`: readers must hide what has expired themselves
 * (Twilio's Sync best practices). Works with the twilio-sync SDK's items (`dateExpires`: an ISO 8601 string as the
 * server sent it, or null for no expiry; a Date is accepted too) and with REST-shaped items (`date_expires`: an ISO 8601 string or null), e.g. from /recent-calls.
 */
export type ExpiryValue = Date | string | number | null | undefined;

export interface ExpiringItem {
  dateExpires?: ExpiryValue;
  date_expires?: ExpiryValue;
}

function toMs(value: ExpiryValue): number | null {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value ?? '');
  return Number.isFinite(ms) ? ms : null;
}

/**
 * When the item expires (epoch ms), or null for never. `dateExpires` wins over `date_expires` when both are set.
 * An unreadable value counts as no expiry: hiding an item is only right when we know it has expired.
 */
export function expiresAtOf(item: ExpiringItem): number | null {
  return toMs(item.dateExpires) ?? toMs(item.date_expires);
}

/** Whether the item's expiry is at or before `now` (epoch ms or a Date; default the browser's clock). */
export function isExpired(item: ExpiringItem, now: number | Date = Date.now()): boolean {
  const at = expiresAtOf(item);
  const nowMs = now instanceof Date ? now.getTime() : now;
  return at !== null && at <= nowMs;
}

/** The items that have not expired at `now`, in their original order. */
export function withoutExpired<T extends ExpiringItem>(items: readonly T[], now: number | Date = Date.now()): T[] {
  const nowMs = now instanceof Date ? now.getTime() : now;
  return items.filter((item) => !isExpired(item, nowMs));
}
