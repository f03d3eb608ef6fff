/**
 * The handover rules between shard sets and the regular run (pure). The property below is the safety argument: in
 * a model where each agent has an instant before which all its completions are committed, a checkpoint's cursor is
 * honest when it is at most its agents' earliest such instant; from honest checkpoints, whatever N they were
 * written with, the handover never starts a run past an uncommitted completion of its own agents (no gap).
 */
import fc from 'fast-check';
import { shardOfWorker, UNSHARDED, type Shard } from '../../../src/recent-calls/shard';
import {
  adoptCursor,
  handoverCursor,
  setCursor,
  type CheckpointCursor,
} from '../../../src/recent-calls/shard-handover';

const T = Date.parse('2026-03-10T12:00:00Z');
const shard = (index: number, count: number): Shard => ({ index, count });
const at = (index: number, count: number, cursorMs: number | undefined): CheckpointCursor => ({
  shard: shard(index, count),
  cursorMs,
});

describe('setCursor', () => {
  it('is the slowest shard of a complete set', () => {
    expect(setCursor([at(0, 3, T + 5), at(1, 3, T + 2), at(2, 3, T + 9)], 3)).toBe(T + 2);
  });
  it('is undefined while a shard of the set has no cursor or no document', () => {
    expect(setCursor([at(0, 3, T + 5), at(1, 3, undefined), at(2, 3, T + 9)], 3)).toBeUndefined();
    expect(setCursor([at(0, 3, T + 5), at(2, 3, T + 9)], 3)).toBeUndefined();
    expect(setCursor([at(0, 3, T + 5), at(1, 3, T), at(2, 3, Number.NaN)], 3)).toBeUndefined();
  });
  it('ignores other sets and the main document', () => {
    expect(setCursor([at(0, 2, T), at(1, 2, T + 1), at(0, 3, T - 100), { shard: UNSHARDED, cursorMs: 0 }], 2)).toBe(T);
    expect(setCursor([at(0, 1, T)], 1)).toBeUndefined();
  });
});

describe('handoverCursor', () => {
  const backfill3 = [at(0, 3, T + 30), at(1, 3, T + 10), at(2, 3, T + 20)];

  it('the regular run adopts the minimum of the completed set after a backfill', () => {
    expect(handoverCursor(backfill3, UNSHARDED)).toBe(T + 10);
    expect(adoptCursor(T - 1000, handoverCursor(backfill3, UNSHARDED))).toBe(T + 10);
    expect(adoptCursor(undefined, handoverCursor(backfill3, UNSHARDED))).toBe(T + 10);
  });

  it('never moves a run back: its own cursor ahead of every set stays', () => {
    expect(adoptCursor(T + 99, handoverCursor(backfill3, UNSHARDED))).toBe(T + 99);
    expect(adoptCursor(T + 99, undefined)).toBe(T + 99);
    expect(adoptCursor(undefined, undefined)).toBeUndefined();
  });

  it('an interrupted set (a shard without a cursor) is not adopted; a complete older one still is', () => {
    const interrupted2 = [at(0, 2, T + 500), at(1, 2, undefined)];
    expect(handoverCursor([...backfill3, ...interrupted2], UNSHARDED)).toBe(T + 10);
    expect(handoverCursor(interrupted2, UNSHARDED)).toBeUndefined();
  });

  it('the furthest complete set wins, whatever its N', () => {
    const later2 = [at(0, 2, T + 400), at(1, 2, T + 300)];
    expect(handoverCursor([...backfill3, ...later2], UNSHARDED)).toBe(T + 300);
  });

  it('the regular run does not adopt its own main cursor from the list; a shard does', () => {
    const main: CheckpointCursor = { shard: UNSHARDED, cursorMs: T + 1000 };
    expect(handoverCursor([main], UNSHARDED)).toBeUndefined();
    expect(handoverCursor([main], shard(0, 2))).toBe(T + 1000);
    expect(handoverCursor([main, ...backfill3], shard(1, 4))).toBe(T + 1000);
    expect(handoverCursor([{ shard: UNSHARDED, cursorMs: T - 5 }, ...backfill3], shard(1, 4))).toBe(T + 10);
  });

  it('a new N starts where the last complete set got to', () => {
    expect(adoptCursor(undefined, handoverCursor(backfill3, shard(0, 2)))).toBe(T + 10);
    // Its own further cursor (an earlier, interrupted run of the same set) is kept.
    expect(adoptCursor(T + 15, handoverCursor(backfill3, shard(0, 2)))).toBe(T + 15);
  });

  it('from honest checkpoints of any N, never starts a run past an uncommitted completion of its agents', () => {
    const workers = fc.uniqueArray(fc.stringMatching(/^WK[0-9a-f]{32}$/), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(
        workers,
        fc.array(fc.integer({ min: 2, max: 6 }), { maxLength: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 1000 })),
        fc.infiniteStream(fc.integer({ min: 0, max: 4 })),
        (sids, setCounts, selfCount, numbers, drops) => {
          // Each agent's completions before committedThrough are committed (what the runs achieved).
          const committedThrough = new Map(sids.map((sid) => [sid, T + numbers.next().value]));
          const earliest = (owned: (sid: string) => boolean) =>
            Math.min(...sids.filter(owned).map((sid) => committedThrough.get(sid)!));
          const honest = (bound: number): number | undefined => {
            if (drops.next().value === 0) return undefined; // no cursor yet
            // A shard that owns no agent may be anywhere (ahead of every other, say).
            return Number.isFinite(bound) ? bound - numbers.next().value : T + 2000 + numbers.next().value;
          };
          const cursors: CheckpointCursor[] = [{ shard: UNSHARDED, cursorMs: honest(earliest(() => true)) }];
          for (const count of new Set(setCounts)) {
            for (let index = 0; index < count; index++) {
              if (drops.next().value === 1) continue; // no document
              const bound = earliest((sid) => shardOfWorker(sid, count) === index);
              cursors.push({ shard: shard(index, count), cursorMs: honest(bound) });
            }
          }
          for (let index = 0; index < selfCount; index++) {
            const self = selfCount === 1 ? UNSHARDED : shard(index, selfCount);
            const own = selfCount === 1 ? cursors[0].cursorMs : undefined;
            const start = adoptCursor(own, handoverCursor(cursors, self));
            if (start === undefined) continue;
            const mine = (sid: string) => selfCount === 1 || shardOfWorker(sid, selfCount) === index;
            if (sids.some(mine)) expect(start).toBeLessThanOrEqual(earliest(mine));
          }
        },
      ),
    );
  });
});
