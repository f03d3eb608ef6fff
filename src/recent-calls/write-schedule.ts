/**
 * Which request the writer sends next (writer.ts), one request per unit:
 *
 *   create  a map a range read found missing is created before any of its items (only its grant waits too);
 *   probe   the first item of a map not known either way goes alone (its answer may say the map is missing);
 *   item    then up to `perMapConcurrency` requests of a map at once;
 *   grant   with ACLs, the agent's read grant on its map, once an item of the map is in it; a grant that failed
 *           retryably is sent again once another item of the map is in; a map created again (it had gone) is
 *           granted again.
 *
 * Each unit waits for its map's rate slot. Among the maps that may send now, the one whose next record is the
 * earliest goes first (a grant before any item), so that a run cut by its budget has written an (almost) unbroken
 * prefix of the records and the checkpoint can move as far as possible. A map that may send is kept in a heap by that
 * time, a map waiting for its rate slot in a heap by the slot: picking a unit costs O(log maps), not a scan.
 */
import { MinHeap } from './min-heap';

export type MapPhase = 'create' | 'probe' | 'open';

export interface GrantTally {
  running: boolean;
  /** itemsIn when the last grant was sent: another is sent only once more items are in. */
  sentAtItemsIn: number;
  /** The map's items this write put (or found) in the map. */
  itemsIn: number;
  /** Granted, or refused for good: never sent again in this write. */
  settled: boolean;
}

export interface MapQueue<M> {
  map: M;
  name: string;
  /** Record indexes of this map, in commit order. */
  queue: number[];
  head: number;
  phase: MapPhase;
  inFlight: number;
  /** Undefined when the map needs no grant (no ACLs, or granted already). */
  grant?: GrantTally;
  /** Bumped whenever the map is placed again: older heap entries of it are stale. */
  version: number;
}

export type Unit<M> =
  | { kind: 'create'; q: MapQueue<M>; index: number }
  | { kind: 'probe' | 'item'; q: MapQueue<M>; index: number }
  | { kind: 'grant'; q: MapQueue<M> };

export type UnitEnd =
  /** create: the map exists now; item / probe: the record is in its map (`in`) or not. */
  | { kind: 'create'; ok: boolean }
  /** `mapCreated`: the map was missing and the item's write created it again. */
  | { kind: 'item'; in: boolean; mapCreated?: boolean }
  /** grant: `settled` when granted or refused for good. */
  | { kind: 'grant'; settled: boolean };

export interface ScheduleOptions {
  perMapConcurrency: number;
  /** The earliest instant the next write to the map named may start (the rate limiter's). */
  slotAt: (name: string) => number;
  /** The record's event time (the commit order). */
  timeOf: (index: number) => number;
  /** Whether the record would be written now (not already older than the TTL): only then is a missing map created. */
  writable: (index: number) => boolean;
}

interface Entry<M> {
  q: MapQueue<M>;
  version: number;
}

export class WriteSchedule<M> {
  /** Maps that have a unit to send, by its record's time (a grant before all); possibly before their rate slot. */
  private readonly ready = new MinHeap<Entry<M>>();
  /** Maps whose unit waits for their rate slot, by the slot. */
  private readonly waiting = new MinHeap<Entry<M>>();
  private inFlight = 0;

  constructor(
    readonly queues: readonly MapQueue<M>[],
    private readonly options: ScheduleOptions,
  ) {
    for (const q of queues) this.place(q);
  }

  /** The next unit to send, or how long to wait for one (Infinity: until a unit in flight ends), or 'done'. */
  next(now: number): Unit<M> | { waitMs: number } | 'done' {
    while ((this.waiting.peekKey() ?? Number.POSITIVE_INFINITY) <= now) this.place(this.waiting.pop()!.q);
    for (let entry = this.ready.pop(); entry; entry = this.ready.pop()) {
      const { q } = entry;
      // An entry from before the map last changed is stale: the map has a newer one (if it has a unit at all).
      const unit = entry.version === q.version ? this.unitOf(q) : undefined;
      if (!unit) continue;
      const slot = this.options.slotAt(q.name);
      if (slot > now) {
        this.waiting.push(slot, { q, version: q.version });
        continue;
      }
      this.dispatch(unit);
      return unit;
    }
    if (this.inFlight === 0 && this.waiting.size === 0) return 'done';
    return { waitMs: (this.waiting.peekKey() ?? Number.POSITIVE_INFINITY) - now };
  }

  /** Call once the unit's request has taken its rate slot: its map may offer its next unit. */
  started(unit: Unit<M>): void {
    this.place(unit.q);
  }

  ended(unit: Unit<M>, end: UnitEnd): void {
    const { q } = unit;
    q.inFlight -= 1;
    this.inFlight -= 1;
    if (end.kind === 'create') {
      if (end.ok) q.phase = 'open';
      else q.head += 1; // the record whose write found it so takes the failure; the next one creates it again
    } else if (end.kind === 'item') {
      if (unit.kind === 'probe') q.phase = 'open';
      // The map was created again under this write (it had gone): its grant must be made again too.
      if (end.mapCreated)
        q.grant = { running: q.grant?.running ?? false, sentAtItemsIn: 0, itemsIn: 0, settled: false };
      if (end.in && q.grant) q.grant.itemsIn += 1;
    } else {
      const grant = q.grant!;
      grant.running = false;
      grant.settled = end.settled;
    }
    this.place(q);
  }

  private dispatch(unit: Unit<M>): void {
    const { q } = unit;
    q.inFlight += 1;
    this.inFlight += 1;
    if (unit.kind === 'probe' || unit.kind === 'item') q.head += 1;
    if (unit.kind === 'grant') {
      const grant = q.grant!;
      grant.running = true;
      grant.sentAtItemsIn = grant.itemsIn;
    }
    // Stryker disable next-line AssignmentOperator: equivalent, any change of the version makes the entries stale
    q.version += 1; // off the heaps until started() places it again
  }

  /** What the map would send next, or undefined (it has nothing, or waits for one of its units in flight). */
  private unitOf(q: MapQueue<M>): Unit<M> | undefined {
    if (q.inFlight >= this.options.perMapConcurrency) return undefined;
    const grant = q.grant;
    if (grant && !grant.running && !grant.settled && grant.itemsIn > grant.sentAtItemsIn) return { kind: 'grant', q };
    if (q.head >= q.queue.length) return undefined;
    const index = q.queue[q.head];
    if (q.phase === 'open') return { kind: 'item', q, index };
    if (q.inFlight > 0) return undefined; // a create or probe goes alone
    if (q.phase === 'probe') return { kind: 'probe', q, index };
    return this.options.writable(index) ? { kind: 'create', q, index } : { kind: 'item', q, index };
  }

  /** Puts the map on the ready heap when it has a unit (next() moves it to `waiting` if its slot is later). */
  private place(q: MapQueue<M>): void {
    // Stryker disable next-line AssignmentOperator: equivalent, any change of the version makes the entries stale
    q.version += 1;
    const unit = this.unitOf(q);
    if (!unit) return;
    const key = unit.kind === 'grant' ? Number.NEGATIVE_INFINITY : this.options.timeOf(unit.index);
    this.ready.push(key, { q, version: q.version });
  }
}
