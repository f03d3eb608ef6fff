/**
 * Tamper evidence for the job's checkpoint: an HMAC-SHA256 over the state, keyed from a secret only the functions
 * hold, so that whoever can write the checkpoint document without that secret (a Sync token on a service whose ACLs
 * are off, a leaked API key scoped to Sync) cannot make the job skip calls or stay busy: a state whose seal does not
 * verify is ignored, as if there were none.
 *
 * - The key: HKDF-SHA256 (node:crypto) from CHECKPOINT_SECRET when set, else from AUTH_TOKEN, which every deployed
 *   function holds. Rotating either invalidates the stored seal once: the next run ignores the state and starts over
 *   from the oldest call inside the TTL (item writes are idempotent, so that costs time, not data).
 * - The message: the service SID and document name, then the state as canonical JSON (keys sorted), so a seal cannot
 *   be moved to another document and does not depend on the key order Sync hands back.
 * - What it does not stop: writing back an older sealed state (a replay). That can only move the cursor back (more
 *   work, no skipped call) or bring back a lease that has already expired.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../config/errors';
import { optionalString, requiredString, type Env } from '../config/env';

const KEY_INFO = 'flex-sync-functions recent-calls checkpoint seal v1';
/** A dedicated secret shorter than this is refused (the auth token is 32 characters). */
export const MIN_CHECKPOINT_SECRET_LENGTH = 32;

/** The seal key: from CHECKPOINT_SECRET when set, else from AUTH_TOKEN. */
export function checkpointKey(env: Env): Buffer {
  const dedicated = optionalString(env, 'CHECKPOINT_SECRET', '');
  if (dedicated !== '' && dedicated.length < MIN_CHECKPOINT_SECRET_LENGTH) {
    throw new ConfigError(
      'CHECKPOINT_SECRET',
      `must be at least ${MIN_CHECKPOINT_SECRET_LENGTH} characters (or unset: then AUTH_TOKEN keys the seal)`,
    );
  }
  const secret = dedicated !== '' ? dedicated : requiredString(env, 'AUTH_TOKEN');
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), KEY_INFO, 32));
}

/** JSON with object keys sorted at every level (the state is shallow: readState bounds it). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The seal of `state` (already read through readState) in the document `scope` names. */
export function sealOf(key: Buffer, scope: string, state: unknown): string {
  return createHmac('sha256', key).update(scope).update('\n').update(canonicalJson(state)).digest('base64url');
}

/** True when `seal` is the seal of `state` in `scope` (compared in constant time). */
export function sealMatches(key: Buffer, scope: string, state: unknown, seal: unknown): boolean {
  if (typeof seal !== 'string' || seal.length === 0 || seal.length > 100) return false;
  const expected = Buffer.from(sealOf(key, scope, state));
  const actual = Buffer.from(seal);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
