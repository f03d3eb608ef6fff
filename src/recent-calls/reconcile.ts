/**
 * The scheduled job as a cheap reconciler: when pushed events (/taskrouter-events) already wrote most calls, a run
 * should not pay one create (answered 409 / 54208) per record. Item keys sort by time (item-key.ts), so the items a
 * window's records would be are one key range of each agent's map: one range read per active agent per window
 * (`Order=asc`, `From=<first key>`, `Bounds=inclusive`, 100 a page, stopping past the last key) finds those already
 * there, and only the missing ones go to the writer.
 *
 * A read costs a request and spares one per record it finds. Where few are found (a backfill's later runs, where
 * nothing was pushed), reading every map would cost more than it spares: after SAMPLE_MAPS maps are read (those with
 * the most records first), a map is read only when the share found so far says the read would find at least one of
 * its records; the others' records go to the writer as they are.
 *
 * A read that fails (after the HTTP layer's retries) or does not fit the budget proves nothing: that map's records
 * all go to the writer, whose create answers 409 for the ones that exist, exactly as without the read.
 */
import type { Twilio } from 'twilio';
import { hasStatus, hasTwilioCode } from '../twilio/errors';
import type { SyncMapItemInstance } from 'twilio/lib/rest/sync/v1/service/syncMap/syncMapItem';
import type { CallRecord } from './call-record';
import { hasNextPage, type PageLike } from './paging';
import { recentCallsMapName } from './map-name';
import type { RecentCallsWriter, WriteOutcome } from './writer';
import type { Deadline } from '../twilio/deadline';

/** Sync's largest item page. */
const PAGE_SIZE = 100;
/** Range reads in flight at once, all maps together, while writes are in flight too. */
export const READ_CONCURRENCY = 8;
/** A map's read is not started when less than this is left before the writes' stop. */
const READ_MARGIN_MS = 500;
/** Maps read before the share of records found decides whether the others are worth a read. */
export const SAMPLE_MAPS = 8;

export interface ReconcileStats {
  /** Item pages read to find the records already there. */
  rangeReads: number;
  /** Records found in their map already (not written again). */
  alreadyThere: number;
  /** Maps whose range read failed or was skipped for the budget (their records were written as usual). */
  rangeReadsSkipped: number;
  /** Maps not read because the service's map list (read at the start of the run) did not name them. */
  mapsNotListed: number;
  /**
   * Maps not read because the reads before them found too few records already there: for these maps a read would
   * cost more requests than the creates it spares (each record found spares one create answered 409).
   */
  rangeReadsLeftOut: number;
}

/** What a range read looks up: an agent's item. */
export interface MapEntry {
  workerSid: string;
  itemKey: string;
}

/** What range reads found, to be applied to a window's records (by agent and item key). */
export interface FoundEntries {
  indexesOf(records: readonly MapEntry[]): MapLookup;
}

/** What a range read of a window's maps found. */
export interface MapLookup {
  /** Indexes of the records already in their maps. */
  present: ReadonlySet<number>;
  /** Maps found missing in this run (their first write creates them without trying the item first). */
  absentMaps: ReadonlySet<string>;
  /** Maps a range read of this run found (their first write need not go alone to find out). */
  existingMaps: ReadonlySet<string>;
}

export class Reconciler {
  readonly stats: ReconcileStats = {
    rangeReads: 0,
    alreadyThere: 0,
    rangeReadsSkipped: 0,
    mapsNotListed: 0,
    rangeReadsLeftOut: 0,
  };
  private readonly now: () => number;
  /** Maps a range read found missing in this run. */
  private readonly absent = new Set<string>();
  /** Maps a range read found in this run. */
  private readonly existing = new Set<string>();

  /**
   * `deadline`: no range read starts after it (less a margin for the read itself). `mapsAtStart`: every map the
   * service held when the run started (service-maps.ts), if known: a map it does not name is missing, without a read.
   */
  constructor(
    private readonly options: {
      client: Twilio;
      serviceSid: string;
      deadline: Deadline;
      mapsAtStart?: ReadonlySet<string>;
    },
  ) {
    this.now = () => options.deadline.now();
  }

  /**
   * Whether this run knows the agent's map to be missing: a range read found none, or the service's map list did not
   * name it and no read of this run found it since.
   */
  isKnownAbsent(workerSid: string): boolean {
    const name = recentCallsMapName(workerSid);
    if (this.absent.has(name)) return true;
    const listed = this.options.mapsAtStart;
    return listed !== undefined && !listed.has(name) && !this.existing.has(name);
  }

  /** The keys of `keys` (one map's, sorted) that the map holds, or undefined when that could not be read. */
  private async present(mapName: string, keys: readonly string[]): Promise<Set<string> | undefined> {
    const items = this.options.client.sync.v1.services(this.options.serviceSid).syncMaps(mapName).syncMapItems;
    const wanted = new Set(keys);
    const last = keys[keys.length - 1];
    const found = new Set<string>();
    try {
      let page: PageLike<SyncMapItemInstance> = await items.page({
        order: 'asc',
        from: keys[0],
        bounds: 'inclusive',
        pageSize: PAGE_SIZE,
      });
      this.existing.add(mapName);
      for (;;) {
        this.stats.rangeReads += 1;
        let beyond = false;
        for (const item of page.instances) {
          if (wanted.has(item.key)) found.add(item.key);
          if (item.key >= last) beyond = true;
        }
        if (beyond || found.size === wanted.size || !hasNextPage(page)) return found;
        if (this.now() >= this.options.deadline.endsAt - READ_MARGIN_MS) return undefined;
        const next = await page.nextPage();
        if (!next || next.instances.length === 0) return found;
        page = next;
      }
    } catch (error) {
      // No map yet: nothing of it is there.
      if (
        hasTwilioCode(error, 20404) ||
        hasTwilioCode(error, 54200) ||
        (hasStatus(error, 404) && !hasTwilioCode(error, 54201))
      ) {
        this.absent.add(mapName);
        this.existing.delete(mapName);
        return found;
      }
      return undefined;
    }
  }

  /**
   * Which of `records` are already in their maps: one range read per map (READ_CONCURRENCY at once). A map found
   * missing is remembered for the rest of the run (`absentMaps`): what it holds later, this run wrote (or a push did,
   * which the writer's create then answers with 409), so it is not read again. `readers`: range reads in flight at
   * once (more when nothing else is in flight).
   */
  async lookup(records: readonly MapEntry[], readers = READ_CONCURRENCY): Promise<MapLookup> {
    return this.lookupKeys(records, readers).then((found) => found.indexesOf(records));
  }

  /**
   * The same reads, answered by entry (agent and item key) rather than by index: a window starts them as soon as its
   * completions are known, while its Calls list is still being read, and applies them to its records afterwards.
   */
  async lookupKeys(entries: readonly MapEntry[], readers = READ_CONCURRENCY): Promise<FoundEntries> {
    const byMap = new Map<string, string[]>();
    for (const entry of entries) {
      const name = recentCallsMapName(entry.workerSid);
      const keys = byMap.get(name);
      if (keys) keys.push(entry.itemKey);
      else byMap.set(name, [entry.itemKey]);
    }
    const present = new Set<string>();
    const listed = this.options.mapsAtStart;
    for (const name of byMap.keys()) {
      if (!listed || listed.has(name) || this.absent.has(name) || this.existing.has(name)) continue;
      this.absent.add(name); // it held nothing at the start of the run: what it holds now, the writer will find
      this.stats.mapsNotListed += 1;
    }
    // The maps with the most records first: their reads can spare the most creates.
    const maps = [...byMap.entries()]
      .filter(([name]) => !this.absent.has(name))
      .map(([name, keys]) => [name, [...new Set(keys)].sort()] as const)
      .sort((a, b) => b[1].length - a[1].length);
    // A read costs a request; each record it finds spares one. The first SAMPLE_MAPS maps are read (the sample, once
    // per window: what is there changes as a backfill nears the pushed calls); every other map waits for the sample
    // and is read only when the share found so far says it would find at least one of its records.
    const sample = { started: 0, ended: 0, keys: 0, found: 0 };
    let sampleEnded!: () => void;
    const sampleRead = new Promise<void>((resolve) => (sampleEnded = resolve));
    const worthReading = (keys: number) => sample.found * keys >= sample.keys;
    const reader = async () => {
      for (let next = maps.shift(); next; next = maps.shift()) {
        const [name, keys] = next;
        const inSample = sample.started < SAMPLE_MAPS;
        if (inSample) sample.started += 1;
        else {
          await sampleRead; // the sample's reads have all started: they end
          if (!worthReading(keys.length)) {
            this.stats.rangeReadsLeftOut += 1;
            continue;
          }
        }
        const found =
          this.now() >= this.options.deadline.endsAt - READ_MARGIN_MS ? undefined : await this.present(name, keys);
        if (found) {
          sample.keys += keys.length;
          sample.found += found.size;
          for (const key of found) present.add(`${name}/${key}`);
        } else this.stats.rangeReadsSkipped += 1;
        if (inSample && ++sample.ended === SAMPLE_MAPS) sampleEnded();
      }
    };
    await Promise.all(Array.from({ length: Math.min(readers, maps.length) }, reader));
    const absentMaps = this.absent;
    const existingMaps = this.existing;
    return {
      indexesOf: (records) => {
        const indexes = new Set<number>();
        records.forEach((record, i) => {
          if (present.has(`${recentCallsMapName(record.workerSid)}/${record.itemKey}`)) indexes.add(i);
        });
        return { present: indexes, absentMaps, existingMaps };
      },
    };
  }

  /**
   * Writes the records not already in their maps (`lookup`, unless given); one outcome per record, in order
   * (`exists` for those found, once their maps' grants are made).
   */
  async writeMissing(
    writer: RecentCallsWriter,
    records: readonly CallRecord[],
    lookup?: MapLookup,
    onProgress?: (ended: number, of: number) => void,
  ): Promise<WriteOutcome[]> {
    const { present, absentMaps, existingMaps } = lookup ?? (await this.lookup(records));
    this.stats.alreadyThere += present.size;
    const missing = records.length - present.size;
    // The records found are not written again, but their maps' grants are made like those of written ones: an
    // item whose grant an earlier run did not get to is found here, and nothing else would grant it.
    return writer.write(records, {
      absentMaps,
      existingMaps,
      alreadyIn: present,
      onProgress: onProgress && ((ended) => onProgress(ended, missing)),
    });
  }
}
