/**
 * Agent shards of the recent-calls job (pure): a backfill can be split across N concurrent invocations, shard i of N
 * owning the agents whose worker SID hashes to i (first 4 bytes of SHA-256 of the SID, big-endian, mod N). A shard
 * owns whole maps, so it owns its maps' 20 writes/s too: no two shards of a set ever write the same map.
 *
 * The shard travels as two signed form parameters, `ShardIndex` and `ShardCount` (both or neither, canonical
 * decimal). Neither, or `ShardCount=1`, is the regular (unsharded) run. Each shard keeps its own checkpoint document
 * (`shardDocumentName`), sealed like the main one (the seal's scope names the document, so a seal cannot be moved
 * from one shard's document to another's).
 */
import { createHash } from 'node:crypto';
import { InvalidParameter } from '../params/errors';
import { CHECKPOINT_DOCUMENT_NAME } from './map-name';

export interface Shard {
  /** 0 … count - 1. */
  index: number;
  /** How many shards the set has; 1: the regular, unsharded run. */
  count: number;
}

export const UNSHARDED: Shard = Object.freeze({ index: 0, count: 1 });
/** The most shards a set may have (a large center needs a handful: see docs/performance.md). */
export const MAX_SHARD_COUNT = 32;

/** The signed form parameters that name a shard. */
export const SHARD_PARAMS = { index: 'ShardIndex', count: 'ShardCount' } as const;
export const SHARD_PARAM_NAMES: readonly string[] = [SHARD_PARAMS.index, SHARD_PARAMS.count];

const CANONICAL_NUMBER = /^(0|[1-9][0-9]{0,2})$/;

const invalid = (parameter: string, message: string) => new InvalidParameter(parameter, message);

/** The shard a request names; throws InvalidParameter (400 SHARD_INVALID) for anything but a well-formed pair (or none). */
export function readShardParams(params: Record<string, unknown>): Shard {
  const rawIndex = params[SHARD_PARAMS.index];
  const rawCount = params[SHARD_PARAMS.count];
  if (rawIndex === undefined && rawCount === undefined) return UNSHARDED;
  if (rawIndex === undefined || rawCount === undefined) {
    const missing = rawIndex === undefined ? SHARD_PARAMS.index : SHARD_PARAMS.count;
    throw invalid(missing, `${SHARD_PARAMS.index} and ${SHARD_PARAMS.count} go together: give both or neither`);
  }
  const count = wholeNumber(SHARD_PARAMS.count, rawCount);
  const index = wholeNumber(SHARD_PARAMS.index, rawIndex);
  if (count < 1 || count > MAX_SHARD_COUNT) {
    throw invalid(SHARD_PARAMS.count, `${SHARD_PARAMS.count} must be from 1 to ${MAX_SHARD_COUNT}, got ${count}`);
  }
  if (index >= count) {
    throw invalid(SHARD_PARAMS.index, `${SHARD_PARAMS.index} must be from 0 to ${count - 1}, got ${index}`);
  }
  return count === 1 ? UNSHARDED : { index, count };
}

function wholeNumber(name: string, value: unknown): number {
  if (typeof value !== 'string' || !CANONICAL_NUMBER.test(value)) {
    throw invalid(name, `${name} must be a whole number in plain decimal (e.g. "0", "3")`);
  }
  return Number(value);
}

export function isSharded(shard: Shard): boolean {
  return shard.count > 1;
}

/** The shard (0 … count - 1) that owns the agent's map: stable across runs, versions and instances. */
export function shardOfWorker(workerSid: string, count: number): number {
  if (count <= 1) return 0;
  return createHash('sha256').update(workerSid).digest().readUInt32BE(0) % count;
}

/** A filter for one shard's agents; hashes each worker SID once. */
export function shardFilter(shard: Shard): (workerSid: string) => boolean {
  if (!isSharded(shard)) return () => true;
  const memo = new Map<string, boolean>();
  return (workerSid) => {
    let owned = memo.get(workerSid);
    if (owned === undefined) {
      owned = shardOfWorker(workerSid, shard.count) === shard.index;
      memo.set(workerSid, owned);
    }
    return owned;
  };
}

/**
 * Events that no agent owns (ignored events) and repeated ones are counted by one shard of a set only, so the
 * shards' counts add up to what one unsharded run reports.
 */
export function countsSharedEvents(shard: Shard): boolean {
  return shard.index === 0;
}

/** `2-of-3`; `all` for the unsharded run. For keys of per-shard state and log fields. */
export function shardLabel(shard: Shard): string {
  return isSharded(shard) ? `${shard.index}-of-${shard.count}` : 'all';
}

const SHARD_DOCUMENT = new RegExp(`^${CHECKPOINT_DOCUMENT_NAME}-shard-(0|[1-9][0-9]?)-of-([1-9][0-9]?)$`);

/** The checkpoint document of a shard (the main one for the unsharded run). */
export function shardDocumentName(shard: Shard): string {
  return isSharded(shard)
    ? `${CHECKPOINT_DOCUMENT_NAME}-shard-${shard.index}-of-${shard.count}`
    : CHECKPOINT_DOCUMENT_NAME;
}

/** The shard a checkpoint document belongs to (UNSHARDED for the main one), or undefined for any other document. */
export function shardOfDocument(uniqueName: string): Shard | undefined {
  if (uniqueName === CHECKPOINT_DOCUMENT_NAME) return UNSHARDED;
  const match = SHARD_DOCUMENT.exec(uniqueName);
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return count >= 2 && count <= MAX_SHARD_COUNT && index < count ? { index, count } : undefined;
}
