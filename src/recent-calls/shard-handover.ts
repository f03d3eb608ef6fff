/**
 * Where a run starts when shards have run before (pure, unit-tested). The rules:
 *
 * - The main checkpoint's cursor C means: every completion (any agent) before C is committed. Shard i of N's cursor
 *   C(i, N) means the same for the agents of shard i of N only.
 * - A set of N shards is complete when each of its N documents holds a trusted cursor. Its cursor is then the
 *   smallest of them: every agent belongs to one of its shards, so every completion before that minimum is committed.
 *   An incomplete set says nothing (a shard that never committed a window may have written nothing).
 * - The regular (unsharded) run starts from the largest of its own cursor and the cursors of complete sets: after a
 *   backfill it continues where the slowest shard ended; an interrupted or abandoned set does not move it.
 * - Shard i of N starts from the largest of its own cursor, the main cursor and the cursors of complete sets: a
 *   new N (more or fewer shards) starts where the last complete set or the regular run got to, never before.
 * - Every candidate only ever moves a run forward over completions that are committed already, so changing N
 *   between runs cannot leave a gap; what a new set reads again is written nowhere twice (item writes are
 *   idempotent and the job skips items already in their maps).
 */
import { isSharded, type Shard } from './shard';

/** What one checkpoint document says, as far as the handover needs: whose it is and its trusted cursor. */
export interface CheckpointCursor {
  shard: Shard;
  /** Undefined when the document has no cursor yet, or one that is not trusted (unsealed, ahead of the clock). */
  cursorMs: number | undefined;
}

/** The cursor of the set of `count` shards: the minimum of its shards' cursors, or undefined if it is incomplete. */
export function setCursor(cursors: readonly CheckpointCursor[], count: number): number | undefined {
  if (count < 2) return undefined;
  const byIndex = new Map<number, number | undefined>();
  for (const c of cursors) if (c.shard.count === count) byIndex.set(c.shard.index, c.cursorMs);
  let min = Number.POSITIVE_INFINITY;
  for (let index = 0; index < count; index++) {
    const ms = byIndex.get(index);
    if (ms === undefined || !Number.isFinite(ms)) return undefined;
    min = Math.min(min, ms);
  }
  return min;
}

/**
 * The furthest cursor that other checkpoints prove committed for the agents of `self`: for a shard, the main cursor
 * and every complete set's; for the regular run, every complete set's. Undefined when none proves anything.
 */
export function handoverCursor(cursors: readonly CheckpointCursor[], self: Shard): number | undefined {
  const candidates: number[] = [];
  if (isSharded(self)) {
    const main = cursors.find((c) => !isSharded(c.shard));
    if (main?.cursorMs !== undefined && Number.isFinite(main.cursorMs)) candidates.push(main.cursorMs);
  }
  for (const count of new Set(cursors.filter((c) => isSharded(c.shard)).map((c) => c.shard.count))) {
    const ms = setCursor(cursors, count);
    if (ms !== undefined) candidates.push(ms);
  }
  return candidates.length === 0 ? undefined : Math.max(...candidates);
}

/** Where a run starts: its own cursor, moved forward to the handover cursor when that is further. */
export function adoptCursor(ownMs: number | undefined, handoverMs: number | undefined): number | undefined {
  if (handoverMs === undefined) return ownMs;
  if (ownMs === undefined) return handoverMs;
  return Math.max(ownMs, handoverMs);
}
