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
 * Scheduling: see write(). The first write of a map goes alone (it may have to create the map); then up to
 * `perMapConcurrency` writes of a map may be in flight, each started only in a slot of the map's rate limiter.
 * `concurrency` workers each send one request at a time, so at most `concurrency` requests are in flight.
 */
import type { Twilio } from 'twilio';
import type { Logger } from '../observability/logger';
import { hasStatus, hasTwilioCode, isRestError, isUpstreamFailure } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { isRetryableNetworkError } from '../twilio/retry-policy';
import { collectionTtlSeconds, ItemTooLarge, itemTtlSeconds, toItem, type CallRecord } from './call-record';
import { warmMap } from '../runtime/warm-state';
import { Notifier } from './concurrency';
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
}

export interface WriteOptions {
  /** Maps found missing in this run (reconcile.ts): their first write creates the map before the item. */
  absentMaps?: ReadonlySet<string>;
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

  constructor(private readonly options: WriterOptions) {
    this.now = () => options.deadline.now();
  }

  /**
   * Writes every record it can before `stopAt`; one outcome per record, in the records' order (which must be the
   * commit order, i.e. by event time). `concurrency` workers each take the earliest pending record among the maps
   * that may take a write now (rate slot free, fewer than `perMapConcurrency` in flight, and the map's first write,
   * which may create the map, done), so that a run cut by the budget has written an (almost) unbroken prefix of
   * the records and the checkpoint can move as far as possible.
   */
  async write(records: readonly CallRecord[], options: WriteOptions = {}): Promise<WriteOutcome[]> {
    const outcomes: Array<WriteOutcome | undefined> = new Array(records.length);
    const queues = new Map<
      string,
      { state: MapState; queue: number[]; head: number; inFlight: number; started: boolean }
    >();
    records.forEach((record, index) => {
      let q = queues.get(record.workerSid);
      if (!q) {
        q = { state: this.mapState(record.workerSid), queue: [], head: 0, inFlight: 0, started: false };
        queues.set(record.workerSid, q);
      }
      q.queue.push(index);
      if (record.identity) q.state.identity ??= record.identity;
    });
    for (const q of queues.values()) {
      q.state.identity ??= this.options.identityOf?.(q.state.workerSid);
      q.state.absent = !q.state.known && options.absentMaps?.has(q.state.name) === true;
    }
    const maps = [...queues.values()];
    const finished = new Notifier();
    let ended = 0;
    const { limiter, perMapConcurrency } = this.options;
    const stopAt = this.options.deadline.endsAt;

    const worker = async () => {
      for (;;) {
        const t = this.now();
        if (t >= stopAt) return;
        let best: (typeof maps)[number] | undefined;
        let bestTime = Number.POSITIVE_INFINITY;
        let nextSlot = Number.POSITIVE_INFINITY;
        let pending = false;
        for (const m of maps) {
          if (m.head >= m.queue.length) continue;
          pending = true;
          if (m.inFlight >= (m.started ? perMapConcurrency : 1)) continue;
          const slot = limiter.nextSlotAt(m.state.name);
          if (slot > t) {
            nextSlot = Math.min(nextSlot, slot);
            continue;
          }
          const time = records[m.queue[m.head]].eventDateMs;
          if (time < bestTime) {
            best = m;
            bestTime = time;
          }
        }
        if (!pending) return;
        if (!best) {
          // Wait for a rate slot or for a request to finish, never past the budget.
          await finished.wait(Math.min(stopAt - t, Number.isFinite(nextSlot) ? nextSlot - t : 50));
          continue;
        }
        const index = best.queue[best.head++];
        const first = !best.started;
        best.inFlight += 1;
        try {
          outcomes[index] = await this.writeOne(best.state, records[index]);
        } finally {
          best.inFlight -= 1;
          if (first) best.started = true;
          finished.notifyOne();
          options.onProgress?.(++ended);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, worker));
    return records.map((_, i) => outcomes[i] ?? { kind: 'not-attempted' });
  }

  private mapState(workerSid: string): MapState {
    let state = this.maps.get(workerSid);
    if (!state) {
      state = { name: recentCallsMapName(workerSid), workerSid };
      this.maps.set(workerSid, state);
    }
    return state;
  }

  private get syncMaps() {
    return this.options.client.sync.v1.services(this.options.serviceSid).syncMaps;
  }

  /** One write request to `map`: waits for the map's rate slot; NotStarted past the budget. */
  private async request<T>(map: MapState, send: () => Promise<T>): Promise<T> {
    const stopAt = this.options.deadline.endsAt;
    if (!(await this.options.limiter.acquire(map.name, 1, stopAt))) throw new NotStarted();
    if (this.now() >= stopAt) throw new NotStarted();
    return send();
  }

  private async writeOne(map: MapState, record: CallRecord): Promise<WriteOutcome> {
    let outcome: WriteOutcome;
    try {
      // A map known to be missing is created first (not found missing by a create answered 404), unless the item is
      // too old to be written at all.
      const createFirst =
        map.absent === true && itemTtlSeconds(record, this.options.serverNow(), this.options.ttlDays) !== undefined;
      if (createFirst) await this.ensureMap(map);
      outcome = await this.createItem(map, record, createFirst);
    } catch (error) {
      if (error instanceof NotStarted) return { kind: 'not-attempted' };
      const failure = classifyFailure(error);
      if (hasStatus(error, 429)) this.options.limiter.penalize(map.name, 1000);
      this.options.log.warn('recent call not written', {
        workerSid: record.workerSid,
        key: record.itemKey,
        code: failure.code,
        retryable: failure.retryable,
      });
      return { kind: 'failed', ...failure };
    }
    if (outcome.kind === 'old' || !this.options.aclEnabled) return outcome;
    const grant = await this.grantOnce(map);
    if (grant.ok) return outcome;
    // The item is there (counted as written by this run); the next run finds it (54208) and grants again.
    if (grant.notStarted)
      return outcome.kind === 'written' ? { kind: 'not-attempted', itemWritten: true } : { kind: 'not-attempted' };
    return { kind: 'failed', ...grant.failure, code: `PERMISSION_${grant.failure.code}` };
  }

  private async createItem(map: MapState, record: CallRecord, mapJustCreated = false): Promise<WriteOutcome> {
    try {
      const sent = await this.request(map, async () => {
        // The TTL counts from the moment Sync receives the write: compute it when the request leaves, after any
        // wait for a rate slot, so that date_expires lands on the call's start + TTL days.
        const ttl = itemTtlSeconds(record, this.options.serverNow(), this.options.ttlDays);
        if (ttl === undefined) return false;
        this.stats.itemCreates += 1;
        await this.syncMaps(map.name).syncMapItems.create({
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
      // A map found missing has no permissions, whoever creates it now.
      grantsMade.delete(this.grantKey(map));
      try {
        await this.request(map, () => {
          this.stats.mapCreates += 1;
          return this.syncMaps.create({ uniqueName: map.name, ttl: collectionTtlSeconds(this.options.ttlDays) });
        });
      } catch (error) {
        if (!hasTwilioCode(error, 54301)) throw error;
        this.stats.mapsAlreadyThere += 1;
      }
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
          return this.syncMaps(map.name)
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
        const failure = classifyFailure(error);
        if (hasStatus(error, 429)) this.options.limiter.penalize(map.name, 1000);
        this.options.log.warn('map permission not granted', {
          workerSid: map.workerSid,
          code: failure.code,
          retryable: failure.retryable,
        });
        if (failure.retryable) map.permission = undefined; // a later record of this map (or the next run) tries again
        return { ok: false, failure };
      }
    })();
    return map.permission;
  }
}
