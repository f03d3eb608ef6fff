/**
 * Writes call records into the agents' maps: concurrently across maps, each map kept under its write rate by the
 * project's per-object limiter, every request inside the run's time budget.
 *
 * Per record: create the item (key = call SID) with ItemTtl (so date_expires = call start + TTL) and CollectionTtl
 * (refreshing the map's TTL in the same request). Outcomes:
 * - 201 → written; 409 / 54208 → already written (by an earlier, retried or overlapping run): idempotent;
 * - 404 (20404 / 54200) → the map does not exist yet: create it (409 / 54301 → another writer just did), then retry;
 * - 429 / 5xx / network errors are retried by the HTTP layer (backoff, jitter, Retry-After); if they persist, the
 *   record failed retryably and the checkpoint stays before it; other 4xx fail the record permanently.
 * With ACLs on the service, the agent's identity is granted read-only access to its own map once per map per run.
 *
 * Scheduling: see write(). The first write of a map goes alone (it may have to create the map); then up to
 * `perMapConcurrency` writes of a map may be in flight, each started only in a slot of the map's rate limiter.
 */
import type { Twilio } from 'twilio';
import type { Logger } from '../observability/logger';
import { hasStatus, hasTwilioCode, isRestError, isUpstreamFailure } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { isRetryableNetworkError } from '../twilio/retry-policy';
import { collectionTtlSeconds, itemTtlSeconds, toItem, type CallRecord } from './call-record';
import { Notifier, Semaphore } from './concurrency';
import { recentCallsMapName } from './map-name';

export type WriteOutcome =
  | { kind: 'written' }
  | { kind: 'exists' }
  | { kind: 'old' }
  | { kind: 'failed'; retryable: boolean; code: string }
  | { kind: 'not-attempted' };

export function isCommitted(outcome: WriteOutcome | undefined): boolean {
  if (!outcome) return false;
  return outcome.kind === 'written' || outcome.kind === 'exists' || outcome.kind === 'old' || (outcome.kind === 'failed' && !outcome.retryable);
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
  /** No request starts after this instant of `now()` (the run's budget). */
  stopAt: number;
  now?: () => number;
  log: Logger;
  /** Identity for workers whose events lacked `contact_uri` (looked up in bulk by the caller). */
  identityOf?: (workerSid: string) => string | undefined;
}

export interface WriterStats {
  itemCreates: number;
  mapCreates: number;
  mapsAlreadyThere: number;
  permissionGrants: number;
  permissionsWithoutIdentity: number;
}

interface MapState {
  name: string;
  workerSid: string;
  identity?: string;
  creating?: Promise<void>;
  permission?: Promise<boolean>;
}

class NotStarted extends Error {}

export function classifyFailure(error: unknown): { retryable: boolean; code: string } {
  if (isRestError(error)) {
    const code = error.code !== undefined ? String(error.code) : `HTTP_${error.status}`;
    return { retryable: isUpstreamFailure(error), code };
  }
  if (isRetryableNetworkError(error)) return { retryable: true, code: String((error as { code?: string }).code ?? 'NETWORK') };
  // Anything unexpected: keep the record for the next run rather than skip it.
  return { retryable: true, code: 'UNEXPECTED' };
}

function isMapMissing(error: unknown): boolean {
  return hasTwilioCode(error, 20404) || hasTwilioCode(error, 54200) || (hasStatus(error, 404) && !hasTwilioCode(error, 54201));
}

export class RecentCallsWriter {
  readonly stats: WriterStats = {
    itemCreates: 0,
    mapCreates: 0,
    mapsAlreadyThere: 0,
    permissionGrants: 0,
    permissionsWithoutIdentity: 0,
  };
  private readonly inFlight: Semaphore;
  private readonly now: () => number;
  private readonly maps = new Map<string, MapState>();

  constructor(private readonly options: WriterOptions) {
    this.inFlight = new Semaphore(options.concurrency);
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Writes every record it can before `stopAt`; one outcome per record, in the records' order (which must be the
   * commit order, i.e. by event time). `concurrency` workers each take the earliest pending record among the maps
   * that may take a write now (rate slot free, fewer than `perMapConcurrency` in flight, and the map's first write,
   * which may create the map, done), so that a run cut by the budget has written an (almost) unbroken prefix of
   * the records and the checkpoint can move as far as possible.
   */
  async write(records: readonly CallRecord[]): Promise<WriteOutcome[]> {
    const outcomes: Array<WriteOutcome | undefined> = new Array(records.length);
    const queues = new Map<string, { state: MapState; queue: number[]; head: number; inFlight: number; started: boolean }>();
    records.forEach((record, index) => {
      let q = queues.get(record.workerSid);
      if (!q) {
        q = { state: this.mapState(record.workerSid), queue: [], head: 0, inFlight: 0, started: false };
        queues.set(record.workerSid, q);
      }
      q.queue.push(index);
      if (record.identity) q.state.identity ??= record.identity;
    });
    for (const q of queues.values()) q.state.identity ??= this.options.identityOf?.(q.state.workerSid);
    const maps = [...queues.values()];
    const finished = new Notifier();
    const { limiter, stopAt, perMapConcurrency } = this.options;

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

  /** One write request to `map`: waits for the map's rate slot and an in-flight slot; NotStarted past the budget. */
  private async request<T>(map: MapState, send: () => Promise<T>): Promise<T> {
    const stopAt = this.options.stopAt;
    if (!(await this.options.limiter.acquire(map.name, 1, stopAt))) throw new NotStarted();
    await this.inFlight.acquire();
    try {
      if (this.now() >= stopAt) throw new NotStarted();
      return await send();
    } finally {
      this.inFlight.release();
    }
  }

  private async writeOne(map: MapState, record: CallRecord): Promise<WriteOutcome> {
    const ttl = itemTtlSeconds(record, this.options.serverNow(), this.options.ttlDays);
    if (ttl === undefined) return { kind: 'old' };
    let outcome: WriteOutcome;
    try {
      outcome = await this.createItem(map, record);
    } catch (error) {
      if (error instanceof NotStarted) return { kind: 'not-attempted' };
      const failure = classifyFailure(error);
      if (hasStatus(error, 429)) this.options.limiter.penalize(map.name, 1000);
      this.options.log.warn('recent call not written', {
        workerSid: record.workerSid,
        callSid: record.callSid,
        code: failure.code,
        retryable: failure.retryable,
      });
      return { kind: 'failed', ...failure };
    }
    if (this.options.aclEnabled && !(await this.grantOnce(map))) {
      return { kind: 'failed', retryable: true, code: 'PERMISSION_NOT_GRANTED' };
    }
    return outcome;
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
          key: record.callSid,
          data: toItem(record),
          itemTtl: ttl,
          collectionTtl: collectionTtlSeconds(this.options.ttlDays),
        });
        return true;
      });
      return sent ? { kind: 'written' } : { kind: 'old' };
    } catch (error) {
      if (hasTwilioCode(error, 54208)) return { kind: 'exists' };
      if (!mapJustCreated && isMapMissing(error)) {
        await this.ensureMap(map);
        return this.createItem(map, record, true);
      }
      throw error;
    }
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
    })().finally(() => {
      map.creating = undefined; // a later 404 (map expired and swept) may create it again
    });
    return map.creating;
  }

  /** Read-only permission for the agent on its own map, once per map per run; false when it could not be granted. */
  private grantOnce(map: MapState): Promise<boolean> {
    map.permission ??= (async () => {
      if (!map.identity) {
        this.stats.permissionsWithoutIdentity += 1;
        this.options.log.warn('no agent identity for map permission', { workerSid: map.workerSid });
        return true; // nothing to grant to; retrying cannot help
      }
      try {
        await this.request(map, () => {
          this.stats.permissionGrants += 1;
          return this.syncMaps(map.name).syncMapPermissions(map.identity!).update({ read: true, write: false, manage: false });
        });
        return true;
      } catch (error) {
        if (!(error instanceof NotStarted)) {
          this.options.log.warn('map permission not granted', { workerSid: map.workerSid, code: classifyFailure(error).code });
        }
        map.permission = undefined; // let a later record of this map (or the next run) try again
        return false;
      }
    })();
    return map.permission;
  }
}
