/**
 * Event ids and a short replay log per map. The SDK drops an event whose id is not above the `last_event_id` it holds
 * for the map or the item (`twilio-sync/dist/syncmap.js` `_advanceLastEventId`, `itemsCache.js` `isKnown`), so ids
 * grow per map; a subscription that names an older `last_event_id` gets the events it missed replayed first.
 */
import { isoDate } from '../core/clock';
import type { SyncMap, SyncMapItem } from '../families/sync';

export interface MapEvent {
  event_type: 'map_item_added' | 'map_item_updated' | 'map_item_removed' | 'map_removed';
  event: Record<string, unknown>;
}

/** How many events per map are kept for replay (older gaps replay what is left; unconfirmed: the service's window). */
const REPLAY_LOG_SIZE = 500;

interface MapLog {
  lastEventId: number;
  events: Array<{ id: number; message: MapEvent }>;
}

export class MapEvents {
  private logs = new WeakMap<SyncMap, MapLog>();
  private itemEventIds = new WeakMap<SyncMapItem, number>();

  private log(map: SyncMap): MapLog {
    let log = this.logs.get(map);
    if (!log) {
      log = { lastEventId: 0, events: [] };
      this.logs.set(map, log);
    }
    return log;
  }

  lastEventId(map: SyncMap): number {
    return this.log(map).lastEventId;
  }

  /** The id of the item's latest change (0 for an item written before anyone listened). */
  itemEventId(item: SyncMapItem): number {
    return this.itemEventIds.get(item) ?? 0;
  }

  /** Records a change and returns the event subscribers receive. */
  record(
    kind: MapEvent['event_type'],
    map: SyncMap,
    item: SyncMapItem | undefined,
    itemUrl: string | undefined,
  ): MapEvent {
    const log = this.log(map);
    const id = ++log.lastEventId;
    if (item && kind !== 'map_item_removed') this.itemEventIds.set(item, id);
    const event: Record<string, unknown> = { id, map_sid: map.sid, map_revision: String(map.revision) };
    if (item) {
      Object.assign(event, {
        item_key: item.key,
        item_url: itemUrl,
        item_revision: String(item.revision),
        item_data: item.data,
        date_created: isoDate(item.dateUpdated),
        date_expires: item.dateExpires === null ? null : isoDate(item.dateExpires),
      });
    } else {
      event.date_created = isoDate(map.dateUpdated);
    }
    const message: MapEvent = { event_type: kind, event };
    log.events.push({ id, message });
    if (log.events.length > REPLAY_LOG_SIZE) log.events.shift();
    return message;
  }

  /** Events after `afterId`, oldest first. */
  since(map: SyncMap, afterId: number): MapEvent[] {
    return this.log(map)
      .events.filter((e) => e.id > afterId)
      .map((e) => e.message);
  }
}
