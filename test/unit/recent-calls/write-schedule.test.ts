/** The writer's schedule: which unit goes next, under per-map caps, dependencies and rate slots. */
import fc from 'fast-check';
import { MinHeap } from '../../../src/recent-calls/min-heap';
import {
  WriteSchedule,
  type MapPhase,
  type MapQueue,
  type Unit,
  type UnitEnd,
} from '../../../src/recent-calls/write-schedule';

interface MapSpec {
  name: string;
  /** Record times of this map, in commit order. */
  times: number[];
  phase: MapPhase;
  grant?: boolean;
}

/** Queues over records numbered in the order the specs list them; slots from `slots` (default: always free). */
function schedule(specs: MapSpec[], options: { cap?: number; slots?: Map<string, number>; old?: Set<number> } = {}) {
  const times: number[] = [];
  const queues: MapQueue<string>[] = specs.map((spec) => {
    const queue = spec.times.map((time) => times.push(time) - 1);
    return {
      map: spec.name,
      name: spec.name,
      queue,
      head: 0,
      phase: spec.phase,
      inFlight: 0,
      version: 0,
      ...(spec.grant ? { grant: { running: false, sentAtItemsIn: 0, itemsIn: 0, settled: false } } : {}),
    };
  });
  const slots = options.slots ?? new Map<string, number>();
  const s = new WriteSchedule(queues, {
    perMapConcurrency: options.cap ?? 4,
    slotAt: (name) => slots.get(name) ?? Number.NEGATIVE_INFINITY,
    timeOf: (index) => times[index],
    writable: (index) => !options.old?.has(index),
  });
  return { s, queues, slots };
}

/** Takes units until the schedule has none to give now; each is started at once. */
function drain(s: WriteSchedule<string>, now = 0): Unit<string>[] {
  const units: Unit<string>[] = [];
  for (let next = s.next(now); typeof next === 'object' && 'kind' in next; next = s.next(now)) {
    s.started(next);
    units.push(next);
  }
  return units;
}

const label = (u: Unit<string>) => `${u.kind} ${u.q.name}${'index' in u ? ` #${u.index}` : ''}`;
const ITEM_IN: UnitEnd = { kind: 'item', in: true };

describe('write schedule', () => {
  it('creates a missing map alone, then sends up to perMapConcurrency of its items, its grant first once one is in', () => {
    const { s } = schedule([{ name: 'A', times: [1, 2, 3, 4, 5, 6], phase: 'create', grant: true }], { cap: 3 });
    const [create, ...none] = drain(s);
    expect(label(create)).toBe('create A #0');
    expect(none).toEqual([]);
    s.ended(create, { kind: 'create', ok: true });
    const items = drain(s);
    expect(items.map(label)).toEqual(['item A #0', 'item A #1', 'item A #2']);
    s.ended(items[0], ITEM_IN);
    // The grant goes before the next item: it is what lets the written records count.
    expect(drain(s).map(label)).toEqual(['grant A']);
  });

  it('sends the first item of a map not known either way alone, then opens the map', () => {
    const { s } = schedule([{ name: 'A', times: [1, 2, 3], phase: 'probe' }]);
    const [probe, ...none] = drain(s);
    expect(label(probe)).toBe('probe A #0');
    expect(none).toEqual([]);
    s.ended(probe, { kind: 'item', in: false });
    expect(drain(s).map(label)).toEqual(['item A #1', 'item A #2']);
  });

  it('writes a missing map’s records that are too old without creating it', () => {
    const { s } = schedule([{ name: 'A', times: [1, 2], phase: 'create' }], { old: new Set([0]) });
    const [first] = drain(s);
    expect(label(first)).toBe('item A #0');
    s.ended(first, { kind: 'item', in: false });
    expect(drain(s).map(label)).toEqual(['create A #1']);
  });

  it('gives a failed create’s record the failure and creates again for the next record', () => {
    const { s, queues } = schedule([{ name: 'A', times: [1, 2], phase: 'create' }]);
    const [create] = drain(s);
    s.ended(create, { kind: 'create', ok: false });
    expect(queues[0].head).toBe(1);
    expect(drain(s).map(label)).toEqual(['create A #1']);
  });

  it('takes the earliest record among the maps that may send now; a map waits for its rate slot', () => {
    const slots = new Map([['B', 10]]);
    const { s } = schedule(
      [
        { name: 'A', times: [5, 9], phase: 'open' },
        { name: 'B', times: [1], phase: 'open' },
        { name: 'C', times: [3], phase: 'open' },
      ],
      { slots, cap: 1 },
    );
    expect(drain(s, 0).map(label)).toEqual(['item C #3', 'item A #0']);
    expect(s.next(0)).toEqual({ waitMs: 10 }); // B's slot
    expect(drain(s, 10).map(label)).toEqual(['item B #2']);
  });

  it('sends a grant that failed retryably again only after another item is in; never one that settled', () => {
    const { s } = schedule([{ name: 'A', times: [1, 2, 3, 4], phase: 'open', grant: true }], { cap: 1 });
    const [item0] = drain(s);
    s.ended(item0, ITEM_IN);
    const [grant] = drain(s);
    expect(label(grant)).toBe('grant A');
    s.ended(grant, { kind: 'grant', settled: false });
    const [item1] = drain(s);
    expect(label(item1)).toBe('item A #1');
    s.ended(item1, ITEM_IN);
    const [again] = drain(s);
    expect(label(again)).toBe('grant A');
    s.ended(again, { kind: 'grant', settled: true });
    const [item2] = drain(s);
    s.ended(item2, ITEM_IN);
    expect(drain(s).map(label)).toEqual(['item A #3']);
  });

  it('is done only when nothing is in flight and nothing waits for a slot', () => {
    const slots = new Map([['A', 5]]);
    const { s } = schedule([{ name: 'A', times: [1], phase: 'open' }], { slots });
    expect(s.next(2)).toEqual({ waitMs: 3 });
    const [item] = drain(s, 5);
    expect(s.next(5)).toEqual({ waitMs: Number.POSITIVE_INFINITY }); // in flight: wait for it
    s.ended(item, ITEM_IN);
    expect(s.next(6)).toBe('done');
  });

  it('sends nothing before a slot that moved after the map was placed (a 429 pushed it back)', () => {
    const slots = new Map<string, number>();
    const { s } = schedule([{ name: 'A', times: [1], phase: 'open' }], { slots });
    slots.set('A', 100);
    expect(s.next(0)).toEqual({ waitMs: 100 });
    expect(drain(s, 100).map(label)).toEqual(['item A #0']);
  });

  it('sends one grant at a time, and a failed one again only once another item is in', () => {
    const { s } = schedule([{ name: 'A', times: [1, 2, 3, 4, 5], phase: 'open', grant: true }], { cap: 4 });
    const items = drain(s);
    expect(items.map(label)).toEqual(['item A #0', 'item A #1', 'item A #2', 'item A #3']);
    s.ended(items[0], ITEM_IN);
    s.ended(items[1], ITEM_IN);
    // Two items in and room for more: one grant (and the last item), not two.
    const [grant, last] = drain(s);
    expect([grant, last].map(label)).toEqual(['grant A', 'item A #4']);
    s.ended(grant, { kind: 'grant', settled: false });
    expect(drain(s)).toEqual([]); // no item came in since it was sent
    s.ended(items[2], ITEM_IN);
    expect(drain(s).map(label)).toEqual(['grant A']);
  });

  it('puts a grant before any item, whatever was placed first', () => {
    const { s, queues } = schedule(
      [
        { name: 'A', times: [1, 100], phase: 'open', grant: true },
        { name: 'B', times: [2, 3], phase: 'open' },
      ],
      { cap: 1 },
    );
    const [a0, b0] = drain(s);
    expect([a0, b0].map(label)).toEqual(['item A #0', 'item B #2']);
    s.ended(b0, ITEM_IN); // B's next item (time 3) is placed before A's grant
    s.ended(a0, ITEM_IN);
    expect(drain(s).map(label)).toEqual(['grant A', 'item B #3']);
    expect(queues[0].grant?.running).toBe(true);
  });

  it('skips an entry placed before the map last changed: the earliest record still goes first', () => {
    const { s } = schedule(
      [
        { name: 'A', times: [1, 2, 10], phase: 'open' },
        { name: 'B', times: [5], phase: 'open' },
      ],
      { cap: 3 },
    );
    const first = s.next(0) as Unit<string>;
    s.started(first); // A is placed with its next record (time 2)...
    s.ended(first, ITEM_IN); // ...and again: the first of the two entries is stale
    expect([label(first), ...drain(s).map(label)]).toEqual(['item A #0', 'item A #1', 'item B #3', 'item A #2']);
  });

  it('does not send a second grant beside one in flight when the map is created again meanwhile', () => {
    const { s } = schedule([{ name: 'A', times: [1, 2], phase: 'open', grant: true }], { cap: 3 });
    const [item0, item1] = drain(s);
    s.ended(item0, ITEM_IN);
    const [grant] = drain(s);
    expect(label(grant)).toBe('grant A');
    s.ended(item1, { kind: 'item', in: true, mapCreated: true });
    expect(drain(s)).toEqual([]);
    s.ended(grant, { kind: 'grant', settled: false });
    expect(drain(s).map(label)).toEqual(['grant A']);
  });

  it('grants a map again when an item’s write had to create it again', () => {
    const { s, queues } = schedule([{ name: 'A', times: [1, 2, 3], phase: 'open' }], { cap: 1 });
    expect(queues[0].grant).toBeUndefined(); // granted before this write
    const [item0] = drain(s);
    s.ended(item0, { kind: 'item', in: true, mapCreated: true });
    expect(drain(s).map(label)).toEqual(['grant A']);
  });

  it('keeps every rule under any order of answers (property)', () => {
    const specArb = fc.array(
      fc.record({
        phase: fc.constantFrom<MapPhase>('create', 'probe', 'open'),
        grant: fc.boolean(),
        times: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 6 }),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(
        specArb,
        fc.array(fc.nat(), { maxLength: 200 }),
        fc.integer({ min: 1, max: 3 }),
        (raw, picks, cap) => {
          const specs = raw.map((spec, i) => ({
            ...spec,
            name: `M${i}`,
            times: [...spec.times].sort((a, b) => a - b),
          }));
          const { s, queues } = schedule(specs, { cap });
          const inFlight: Unit<string>[] = [];
          const sent = new Set<number>();
          let created = new Set<string>();
          for (let step = 0; step < 500; step++) {
            for (const unit of drain(s)) {
              inFlight.push(unit);
              const q = unit.q;
              expect(q.inFlight).toBeLessThanOrEqual(cap);
              if (unit.kind === 'create' || unit.kind === 'probe') expect(q.inFlight).toBe(1);
              if (unit.kind === 'item' && specs[queues.indexOf(q)].phase === 'create') {
                // An item of a missing map only once it is created (the test marks every record writable).
                expect(created.has(q.name)).toBe(true);
              }
              if (unit.kind !== 'grant' && unit.kind !== 'create') {
                expect(sent.has(unit.index)).toBe(false);
                sent.add(unit.index);
              }
            }
            if (inFlight.length === 0) break;
            const [unit] = inFlight.splice((picks[step] ?? 0) % inFlight.length, 1);
            const ok = ((picks[step + 1] ?? 1) & 1) === 1;
            if (unit.kind === 'create') {
              if (ok) created = new Set([...created, unit.q.name]);
              else sent.add(unit.index); // the record took the create's failure
              s.ended(unit, { kind: 'create', ok });
            } else if (unit.kind === 'grant') s.ended(unit, { kind: 'grant', settled: ok });
            else s.ended(unit, { kind: 'item', in: ok });
          }
          // Every record was sent (or took its map's failed create), and nothing is left.
          expect(sent.size).toBe(specs.reduce((n, spec) => n + spec.times.length, 0));
          expect(s.next(0)).toBe('done');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('MinHeap', () => {
  it('pops in key order, ties in insertion order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 })), (keys) => {
        const heap = new MinHeap<number>();
        keys.forEach((key, i) => heap.push(key, i));
        const out: number[] = [];
        for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
        const expected = keys.map((key, i) => ({ key, i })).sort((a, b) => a.key - b.key || a.i - b.i);
        expect(out).toEqual(expected.map((e) => e.i));
        expect(heap.size).toBe(0);
        expect(heap.peekKey()).toBeUndefined();
      }),
    );
  });
});
