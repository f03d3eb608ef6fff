/**
 * The `PageToken` of /recent-calls: an opaque keyset cursor, the item key of the last call of the page it follows,
 * bound to the worker whose list it pages. Keys sort by time (item-key.ts), so "every item strictly after this key
 * in descending key order" is the rest of the list.
 *
 * A keyset cursor rather than an offset: between two requests items expire (dropping out of the list) or new calls
 * arrive (at its head). An offset would then skip or repeat calls; "everything after this key" does neither for the
 * calls that stay.
 *
 * It is base64url JSON, not a secret and not signed: whoever holds one may already read that list, and a forged one
 * can only move the position inside a list the caller is allowed to read.
 */
import { InvalidParameter } from '../params/errors';
import { ITEM_KEY_PATTERN } from './item-key';
import { isWorkerSid } from './map-name';

const VERSION = 2;
export const MAX_PAGE_TOKEN_LENGTH = 1024;

export interface PageCursor {
  workerSid: string;
  /** The item key of the last call answered. */
  key: string;
}

export function encodePageToken(cursor: PageCursor): string {
  const json = JSON.stringify({ v: VERSION, w: cursor.workerSid, k: cursor.key });
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** The cursor in `token`, which must belong to `workerSid`'s list; otherwise InvalidParameter (PageToken). */
export function decodePageToken(token: unknown, workerSid: string): PageCursor {
  const invalid = (why: string) => new InvalidParameter('PageToken', `PageToken ${why}`);
  if (typeof token !== 'string' || token.length > MAX_PAGE_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw invalid('is not one this endpoint issued');
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not one this endpoint issued');
  }
  const v = value as { v?: unknown; w?: unknown; k?: unknown };
  if (
    typeof value !== 'object' ||
    value === null ||
    v.v !== VERSION ||
    !isWorkerSid(v.w) ||
    // The reader answers only items with this job's keys, so a token names one: anything else would go to Sync as
    // the range's start and come back as Sync's refusal rather than this one.
    typeof v.k !== 'string' ||
    !ITEM_KEY_PATTERN.test(v.k)
  ) {
    throw invalid('is not one this endpoint issued');
  }
  if (v.w !== workerSid) throw invalid("belongs to another worker's list");
  return { workerSid, key: v.k };
}
