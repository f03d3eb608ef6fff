/**
 * Writes call records into the agents' maps: concurrently across maps, each map kept under its write rate by the
 * project's per-object limiter, every request inside the run's time budget.
 *
 * Per record: create the item (key = the record's item key, item-key.ts) with ItemTtl (so date_expires = call start + TTL) and CollectionTtl
 * (refreshing the map's TTL in the same request). Outcomes:
 * - 201 → written; 409 / 54208 → already written (by an earlier, retried or overlapping run): idempotent;
 * - 404 (20404 / 54200) → the map does not exist yet: create it (409 / 54301 → another writer just did), then retry;
 * - 429 / 5xx / network errors are retried by the HTTP layer (backoff, jitter, Retry-After); if they persist, the
 *   record failed retryably (cause `throttled` / `unavailable`) and the checkpoint stays before it; other 4xx fail
 *   the record permanently (`rejected`); anything else (not an answer from Twilio) fails it retryably (`unexpected`). The job gives up a record that keeps failing
 *   retryably after a few runs (attempts.ts), so no record blocks the checkpoint forever.
 * With ACLs on the service, the agent's identity is granted read-only access to its own map once per map per run
 * (and not again while this warm instance remembers having granted it);
 * a grant that fails is classified the same way (a 4xx refusal is permanent for the record, and not retried for
 * the map in this run). The identity goes into the URL path percent-encoded: it comes from worker attributes, and
 * a `/` or `..` in it must not turn the grant into one on another path.
 *
 * Maps known to be missing can be prepared before their records are known (prepareMaps: created, then granted), while
 * the window's Calls list is still being read; the write that follows stops that and does what is left.
 *
 * Scheduling (write-schedule.ts): a map found missing is created before its items; the first write of a map not
 * known either way goes alone (it may find the map missing); then up to `perMapConcurrency` requests of a map may be
 * in flight (its grant among them), each started only in a slot of the map's rate limiter. `concurrency` workers
 * each send one request at a time, so at most `concurrency` requests are in flight.
 */
import type { Twilio } from 'twilio';
import type { SyncMapContext, SyncMapListInstance } from 'twilio/lib/rest/sync/v1/service/syncMap';
import type { Logger } from '../observability/logger';
import { hasStatus, hasTwilioCode, isRestError, isUpstreamFailure } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { isRetryableNetworkError } from '../twilio/retry-policy';
import { collectionTtlSeconds, ItemTooLarge, itemTtlSeconds, toItem, type CallRecord } from './call-record';
import { warmMap } from '../runtime/warm-state';
import { Notifier } from './concurrency';
import { WriteSchedule, type MapQueue, type Unit, type UnitEnd } from './write-schedule';
import { recentCallsMapName } from './map-name';
import type { Deadline } from '../twilio/deadline';

/**
 * The read grants this instance has made (service/map → identity), kept across warm invocations, so that a map whose
 * agent already has its grant from this instance is not granted again by every run and every pushed delivery. A map
 * a writer finds missing starts without permissions: its entry is dropped then. Bounded: emptied when full.
 */
const grantsMade = warmMap<string, string>('map permissions granted');
const MAX_GRANTS_REMEMBERED = 20_000;

export type WriteOutcome =
  | { kind: 'written' }
  | { kind: 'exists' }
  | { kind: 'old' }
  | { kind: 'failed'; retryable: boolean; code: string; cause?: FailureCause }
  /** Not done before the budget ran out. `itemWritten`: the item was created, only its map's permission was not granted yet. */
  | { kind: 'not-attempted'; itemWritten?: boolean };

export function isCommitted(outcome: WriteOutcome | undefined): boolean {
  if (!outcome) return false;
  return (
    outcome.kind === 'written' ||
    outcome.kind === 'exists' ||
    outcome.kind === 'old' ||
    (outcome.kind === 'failed' && !outcome.retryable)
  );
}

export interface WriterOptions {
  client: Twilio;
  serviceSid: string;
  limiter: ObjectRateLimiter;
  /** Requests in flight at once, all maps together. */
  concurrency: number;
  /** Requests in flight at once for one map. */
  perMapConcurrency: number;
  ttlDays: number;
  /** The Twilio server's clock (TTL decisions). */
  serverNow: () => number;
  aclEnabled: boolean;
  /** No request starts after this deadline (the run's writes budget); its clock is the writer's clock. */
  deadline: Deadline;
  log: Logger;
  /** Identity for workers whose events lacked `contact_uri` (looked up in bulk by the caller). */
  identityOf?: (workerSid: string) => string | undefined;
}

export interface WriterStats {
  itemCreates: number;
  mapCreates: number;
  mapsAlreadyThere: number;
  permissionGrants: number;
  /** Grants not sent again: this instance made them already (same map, same identity). */
  permissionsAlreadyGranted: number;
  permissionsWithoutIdentity: number;
}

interface MapState {
  name: string;
  workerSid: string;
  identity?: string;
  creating?: Promise<void>;
  permission?: Promise<GrantResult>;
  /** This run has created the map or written into it: it exists. */
  known?: boolean;
  /** A range read of this run found the map missing (and the writer has not created it since): create it first. */
  absent?: boolean;
  /** The agent's read grant on the map is made (in this run). */
  granted?: boolean;
  /** Times this run created the map (201): a map created again has no permissions. */
  creations?: number;
  /** The SDK's context for the map (built once). */
  context?: SyncMapContext;
}

export interface WriteOptions {
  /** Maps found missing in this run (reconcile.ts): their first write creates the map before the item. */
  absentMaps?: ReadonlySet<string>;
  /** Maps found in this run (reconcile.ts): their writes need not wait for a first one to see the map is there. */
  existingMaps?: ReadonlySet<string>;
  /**
   * Indexes of records found in their maps already (reconcile.ts): not written, `exists` once their map's grant is
   * made (with ACLs), exactly as a record whose create answered 54208.
   */
  alreadyIn?: ReadonlySet<number>;
  /** Called after each record's write ends, with how many of the records have ended so far. */
  onProgress?: (ended: number) => void;
}

/**
 * Why a request failed (after the HTTP layer's retries): `rejected` 4xx (permanent), `throttled` 429 (the object's
 * write rate: about this map), `unavailable` 5xx or network (about Twilio), `unexpected` anything else.
 */
export type FailureCause = 'rejected' | 'throttled' | 'unavailable' | 'unexpected';
type Failure = { retryable: boolean; code: string; cause: FailureCause };
type GrantResult = { ok: true } | { ok: false; notStarted: true } | { ok: false; notStarted?: false; failure: Failure };

class NotStarted extends Error {}

/**
 * 429 / 5xx / network: retryable. Other 4xx: permanent. Anything else (a bug, an error that is not an answer from
 * Twilio): retryable, so the record is kept for the next run rather than skipped, and given up after a few runs if
 * it keeps failing (attempts.ts).
 */
export function classifyFailure(error: unknown): Failure {
  if (error instanceof ItemTooLarge) return { retryable: false, code: 'ITEM_TOO_LARGE', cause: 'rejected' };
  if (isRestError(error)) {
    const code = error.code !== undefined ? String(error.code) : `HTTP_${error.status}`;
    if (error.status === 429) return { retryable: true, code, cause: 'throttled' };
    if (isUpstreamFailure(error)) return { retryable: true, code, cause: 'unavailable' };
    return { retryable: false, code, cause: 'rejected' };
  }
  if (isRetryableNetworkError(error))
    return { retryable: true, code: String((error as { code?: string }).code ?? 'NETWORK'), cause: 'unavailable' };
  return { retryable: true, code: 'UNEXPECTED', cause: 'unexpected' };
}

function isMapMissing(error: unknown): boolean {
  return (
    hasTwilioCode(error, 20404) ||
    hasTwilioCode(error, 54200) ||
    (hasStatus(error, 404) && !hasTwilioCode(error, 54201))
  );
}

export class RecentCallsWriter {
  readonly stats: WriterStats = {
    itemCreates: 0,
    mapCreates: 0,
    mapsAlreadyThere: 0,
    permissionGrants: 0,
    permissionsAlreadyGranted: 0,
    permissionsWithoutIdentity: 0,
  };
  private readonly now: () => number;
  private readonly maps = new Map<string, MapState>();
  /** Stops the maps being prepared (prepareMaps), if any: the places its workers hold until their request ends. */
  private preparing?: () => Array<Promise<void>>;

  constructor(private readonly options: WriterOptions) {
    this.now = () => options.deadline.now();
  }

  /**
   * Writes every record it can before the deadline; one outcome per record, in the records' order (which must be
   * the commit order, i.e. by event time). `concurrency` workers each send one request at a time, the one the
   * schedule picks (write-schedule.ts): a missing map's create, a map's first or next item, or its grant.
   */
  async write(records: readonly CallRecord[], options: WriteOptions = {}): Promise<WriteOutcome[]> {
    // A worker of the maps' preparation still in flight hands its place to one of this write's when its request
    // ends: at most `concurrency` requests in flight, and a slow one does not hold the others up.
    const held = this.stopPreparing();
    const outcomes: Array<WriteOutcome | undefined> = new Array(records.length);
    for (const index of options.alreadyIn ?? []) outcomes[index] = { kind: 'exists' };
    const schedule = new WriteSchedule(this.queuesFor(records, options), {
      perMapConcurrency: this.options.perMapConcurrency,
      slotAt: (name) => this.options.limiter.nextSlotAt(name),
      timeOf: (index) => records[index].eventDateMs,
      writable: (index) => itemTtlSeconds(records[index], this.options.serverNow(), this.options.ttlDays) !== undefined,
    });
    const finished = new Notifier();
    /** How each map's last grant of this write ended (by worker SID). */
    const grants = new Map<string, GrantResult>();
    let ended = 0;
    const recordEnded = (index: number, outcome: WriteOutcome) => {
      outcomes[index] = outcome;
      options.onProgress?.(++ended);
    };
    const stopAt = this.options.deadline.endsAt;
    let thrown: { error: unknown } | undefined;
    const worker = async () => {
      while (!thrown) {
        const t = this.now();
        if (t >= stopAt) return;
        const next = schedule.next(t);
        if (next === 'done') return;
        if ('waitMs' in next) {
          // For a rate slot or for a request in flight to end, never past the budget.
          await finished.wait(Math.min(stopAt - t, Number.isFinite(next.waitMs) ? next.waitMs : 50));
          continue;
        }
        let end: UnitEnd = unitFailed(next);
        try {
          end = await this.send(next, schedule, records, recordEnded, grants);
        } catch (error) {
          thrown ??= { error }; // a bug, not an answer from Twilio: every worker stops
        } finally {
          schedule.ended(next, end);
          finished.notifyAll();
        }
      }
    };
    await Promise.all(inPlacesOf(held, Math.max(1, this.options.concurrency), worker));
    if (thrown) throw thrown.error;
    return records.map((record, index) =>
      this.withGrant(outcomes[index] ?? { kind: 'not-attempted' }, record, grants.get(record.workerSid)),
    );
  }

  /**
   * Creates the maps of `agents` (missing, as a range read or the service's map list said) and, with ACLs, grants
   * each agent its read permission, before the records are written: started while the window's Calls list is still
   * being read, when the writer is otherwise idle, with at most `concurrency` requests in flight. Stops taking maps
   * when `write` (or another preparation) starts, which takes over what is left as it would have without this;
   * nothing here fails a record: a create or grant that failed is tried again by the write. Resolves when it is done
   * (never rejects); callers need not wait for it.
   */
  prepareMaps(agents: Iterable<{ workerSid: string; identity?: string }>): Promise<void> {
    const held = this.stopPreparing();
    const queue = new Map<string, MapState>();
    for (const { workerSid, identity } of agents) {
      const map = this.mapState(workerSid);
      map.identity ??= identity || this.options.identityOf?.(workerSid);
      if (!map.known && !map.creating) queue.set(workerSid, map);
    }
    const maps = [...queue.values()];
    let stopped = false;
    const worker = async () => {
      for (let map = maps.shift(); map && !stopped; map = maps.shift()) {
        if (map.known || map.creating) continue; // made meanwhile, by an earlier preparation
        const created = await this.ensureMap(map).then(
          () => true,
          () => false, // the write finds it missing again and creates it (or fails its records) as usual
        );
        if (!created || stopped || !this.options.aclEnabled || !map.identity || map.granted) continue;
        const grant = await this.grantOnce(map);
        if (grant.ok) map.granted = true;
      }
    };
    const places = inPlacesOf(held, Math.min(this.options.concurrency, maps.length), worker);
    this.preparing = () => {
      stopped = true;
      return places;
    };
    return Promise.all(places).then(() => undefined);
  }

  /** Ends the maps' preparation (if any) and waits for its requests in flight: before the run lets go of its lease. */
  async endPreparation(): Promise<void> {
    await Promise.all(this.stopPreparing());
  }

  /** Stops prepareMaps taking maps; the places its workers hold, each freed when the request it is in ends. */
  private stopPreparing(): Array<Promise<void>> {
    const stop = this.preparing;
    this.preparing = undefined;
    return stop?.() ?? [];
  }

  /** One queue per map, in the order the records first name it. */
  private queuesFor(records: readonly CallRecord[], options: WriteOptions): MapQueue<MapState>[] {
    const queues = new Map<string, MapQueue<MapState>>();
    /** Records of each map found in it already (by worker SID). */
    const foundIn = new Map<string, number>();
    records.forEach((record, index) => {
      let q = queues.get(record.workerSid);
      if (!q) {
        const map = this.mapState(record.workerSid);
        q = { map, name: map.name, queue: [], head: 0, phase: 'probe', inFlight: 0, version: 0 };
        queues.set(record.workerSid, q);
      }
      if (record.identity) q.map.identity ??= record.identity;
      if (options.alreadyIn?.has(index)) {
        q.map.known = true;
        foundIn.set(record.workerSid, (foundIn.get(record.workerSid) ?? 0) + 1);
      } else q.queue.push(index);
    });
    for (const q of queues.values()) {
      const map = q.map;
      map.identity ??= this.options.identityOf?.(map.workerSid);
      if (options.existingMaps?.has(map.name) && !map.creating) map.known = true;
      // A map whose create is in flight (being prepared) is waited for like one found missing, not probed.
      map.absent = !map.known && (options.absentMaps?.has(map.name) === true || map.creating !== undefined);
      q.phase = map.known ? 'open' : map.absent ? 'create' : 'probe';
      if (this.options.aclEnabled && !map.granted)
        q.grant = { running: false, sentAtItemsIn: 0, itemsIn: foundIn.get(map.workerSid) ?? 0, settled: false };
    }
    return [...queues.values()];
  }

  /** Sends one unit (started() as soon as its request has its rate slot) and says how it ended. */
  private async send(
    unit: Unit<MapState>,
    schedule: WriteSchedule<MapState>,
    records: readonly CallRecord[],
    recordEnded: (index: number, outcome: WriteOutcome) => void,
    grants: Map<string, GrantResult>,
  ): Promise<UnitEnd> {
    const map = unit.q.map;
    if (unit.kind === 'grant') {
      const sent = this.grantOnce(map);
      schedule.started(unit);
      const result = await sent;
      grants.set(map.workerSid, result);
      if (result.ok) map.granted = true;
      return { kind: 'grant', settled: result.ok || (!result.notStarted && !result.failure.retryable) };
    }
    const record = records[unit.index];
    if (unit.kind === 'create') {
      // Made meanwhile (a preparation's create that was in flight when this write was planned): nothing to send.
      const created = map.known ? Promise.resolve() : this.ensureMap(map);
      schedule.started(unit);
      try {
        await created;
        return { kind: 'create', ok: true };
      } catch (error) {
        recordEnded(unit.index, this.failed(error, map, record));
        return { kind: 'create', ok: false };
      }
    }
    const creations = map.creations ?? 0;
    const written = this.createItem(map, record);
    schedule.started(unit);
    let outcome: WriteOutcome;
    try {
      outcome = await written;
    } catch (error) {
      outcome = this.failed(error, map, record);
    }
    recordEnded(unit.index, outcome);
    // The map had gone and this write created it again: with ACLs its grant is made again.
    const mapCreated = this.options.aclEnabled && (map.creations ?? 0) > creations;
    if (mapCreated) grants.delete(map.workerSid);
    return { kind: 'item', in: outcome.kind === 'written' || outcome.kind === 'exists', mapCreated };
  }

  /** A record whose write threw: not attempted (the budget), or failed as classifyFailure says. */
  private failed(error: unknown, map: MapState, record: CallRecord): WriteOutcome {
    if (error instanceof NotStarted) return { kind: 'not-attempted' };
    const failure = this.noteFailure(error, map, 'recent call not written', { key: record.itemKey });
    return { kind: 'failed', ...failure };
  }

  /** Classifies a request's failure, backs the map off after a 429, and logs it. */
  private noteFailure(error: unknown, map: MapState, message: string, fields: Record<string, unknown> = {}): Failure {
    const failure = classifyFailure(error);
    if (hasStatus(error, 429)) this.options.limiter.penalize(map.name, 1000);
    this.options.log.warn(message, {
      workerSid: map.workerSid,
      ...fields,
      code: failure.code,
      retryable: failure.retryable,
    });
    return failure;
  }

  /**
   * A record in its map counts only once its agent may read it (with ACLs): its map's grant failed → the record
   * failed with the grant's code; not sent within the budget → not attempted (the next run finds the item, 54208,
   * and grants again).
   */
  private withGrant(outcome: WriteOutcome, record: CallRecord, grant: GrantResult | undefined): WriteOutcome {
    if (!this.options.aclEnabled || (outcome.kind !== 'written' && outcome.kind !== 'exists')) return outcome;
    if (this.mapState(record.workerSid).granted) return outcome;
    if (!grant || grant.ok || grant.notStarted)
      return outcome.kind === 'written' ? { kind: 'not-attempted', itemWritten: true } : { kind: 'not-attempted' };
    return { kind: 'failed', ...grant.failure, code: `PERMISSION_${grant.failure.code}` };
  }

  private mapState(workerSid: string): MapState {
    let state = this.maps.get(workerSid);
    if (!state) {
      state = { name: recentCallsMapName(workerSid), workerSid };
      this.maps.set(workerSid, state);
    }
    return state;
  }

  /** The service's map list, built once: the SDK makes a new list object (and a context per map) on each access. */
  private mapList?: SyncMapListInstance;

  private get syncMaps() {
    this.mapList ??= this.options.client.sync.v1.services(this.options.serviceSid).syncMaps;
    return this.mapList;
  }

  /** The map's SDK context, built once per map. */
  private mapContext(map: MapState) {
    map.context ??= this.syncMaps(map.name);
    return map.context;
  }

  /** One write request to `map`: waits for the map's rate slot; NotStarted past the budget. */
  private async request<T>(map: MapState, send: () => Promise<T>): Promise<T> {
    const stopAt = this.options.deadline.endsAt;
    if (!(await this.options.limiter.acquire(map.name, 1, stopAt))) throw new NotStarted();
    if (this.now() >= stopAt) throw new NotStarted();
    return send();
  }

  private async createItem(map: MapState, record: CallRecord, mapJustCreated = false): Promise<WriteOutcome> {
    try {
      const sent = await this.request(map, async () => {
        // The TTL counts from the moment Sync receives the write: compute it when the request leaves, after any
        // wait for a rate slot, so that date_expires lands on the call's start + TTL days.
        const ttl = itemTtlSeconds(record, this.options.serverNow(), this.options.ttlDays);
        if (ttl === undefined) return false;
        this.stats.itemCreates += 1;
        await this.mapContext(map).syncMapItems.create({
          key: record.itemKey,
          data: toItem(record),
          itemTtl: ttl,
          collectionTtl: collectionTtlSeconds(this.options.ttlDays),
        });
        return true;
      });
      if (sent) map.known = true;
      return sent ? { kind: 'written' } : { kind: 'old' };
    } catch (error) {
      if (hasTwilioCode(error, 54208)) {
        map.known = true;
        return { kind: 'exists' };
      }
      if (!mapJustCreated && isMapMissing(error)) {
        await this.ensureMap(map);
        return this.createItem(map, record, true);
      }
      throw error;
    }
  }

  private grantKey(map: MapState): string {
    return `${this.options.serviceSid}/${map.name}`;
  }

  /** Creates the map once, however many writers found it missing at the same time. */
  private ensureMap(map: MapState): Promise<void> {
    map.creating ??= (async () => {
      try {
        await this.request(map, () => {
          this.stats.mapCreates += 1;
          return this.syncMaps.create({ uniqueName: map.name, ttl: collectionTtlSeconds(this.options.ttlDays) });
        });
      } catch (error) {
        if (!hasTwilioCode(error, 54301)) throw error;
        this.stats.mapsAlreadyThere += 1;
      }
      // A map created now has no permissions. So may one answered "already there": the create may be this writer's
      // own, applied but its answer lost and the retry refused (or another writer's, not granted yet). It is granted
      // again either way (a grant is idempotent).
      grantsMade.delete(this.grantKey(map));
      map.granted = false;
      map.permission = undefined;
      map.creations = (map.creations ?? 0) + 1;
      map.known = true;
      map.absent = false;
    })().finally(() => {
      map.creating = undefined; // a later 404 (map expired and swept) may create it again
    });
    return map.creating;
  }

  /**
   * Read-only permission for the agent on its own map, once per map per run, and not again while this instance
   * remembers having made it (grantsMade). A grant refused for good (4xx) is not
   * asked again in this run: every record of the map gets the same permanent failure. A grant that failed
   * otherwise, or was not started, may be tried again by a later record of the map.
   */
  private grantOnce(map: MapState): Promise<GrantResult> {
    map.permission ??= (async (): Promise<GrantResult> => {
      if (!map.identity) {
        this.stats.permissionsWithoutIdentity += 1;
        this.options.log.warn('no agent identity for map permission', { workerSid: map.workerSid });
        return { ok: true }; // nothing to grant to; retrying cannot help
      }
      const granted = this.grantKey(map);
      if (grantsMade.get(granted) === map.identity) {
        this.stats.permissionsAlreadyGranted += 1;
        return { ok: true };
      }
      try {
        await this.request(map, () => {
          this.stats.permissionGrants += 1;
          return this.mapContext(map)
            .syncMapPermissions(encodeURIComponent(map.identity!))
            .update({ read: true, write: false, manage: false });
        });
        if (grantsMade.size >= MAX_GRANTS_REMEMBERED) grantsMade.clear();
        grantsMade.set(granted, map.identity);
        return { ok: true };
      } catch (error) {
        if (error instanceof NotStarted) {
          map.permission = undefined;
          return { ok: false, notStarted: true };
        }
        const failure = this.noteFailure(error, map, 'map permission not granted');
        if (failure.retryable) map.permission = undefined; // a later record of this map (or the next run) tries again
        return { ok: false, failure };
      }
    })();
    return map.permission;
  }
}

/**
 * `count` runs of `work`, at most one per place: the first ones each once one of the `held` places is freed (a request
 * of an earlier run still in flight), the rest at once; held places beyond `count` are kept as they are.
 */
function inPlacesOf(
  held: ReadonlyArray<Promise<void>>,
  count: number,
  work: () => Promise<void>,
): Array<Promise<void>> {
  return Array.from({ length: Math.max(count, held.length) }, (_, i) => {
    if (i >= held.length) return work();
    return i < count ? held[i].then(work, work) : held[i];
  });
}

/** How a unit ended when sending it threw (a bug): nothing of it is in. */
function unitFailed(unit: Unit<MapState>): UnitEnd {
  if (unit.kind === 'grant') return { kind: 'grant', settled: false };
  if (unit.kind === 'create') return { kind: 'create', ok: false };
  return { kind: 'item', in: false };
}
