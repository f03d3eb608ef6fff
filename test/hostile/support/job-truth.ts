/**
 * Ground truth for the recent-calls job, read from the emulator's own records (never from the job's code): which
 * agent handled which task (a voice reservation that was accepted and then completed), which (agent, task) pairs
 * must never show up (declined or timed-out reservations of another agent, calls abandoned in queue), and chat tasks.
 * And a snapshot of what is in Sync right now, read in-process so that injected faults cannot disturb the checks.
 */
import type { Emulator } from '../../../emulator/server';
import { expectedItemKey, handledCalls } from '../../helpers/handled-calls';

export const DAY_MS = 86_400_000;
export const TTL_DAYS = 30;
/** The documented naming contract (README): one map per worker; item key = task creation second + task SID. */
export const mapName = (workerSid: string) => `recent-calls-${workerSid}`;
export const CHECKPOINT_NAME = 'recent-calls-sync-checkpoint';

export interface HandledCall {
  /** `<map unique name>|<item key>`: one item per completed voice reservation (agent, task). */
  key: string;
  itemKey: string;
  workerSid: string;
  /** Null for an outbound task whose customer leg is not the only candidate in the Calls list. */
  callSid: string | null;
  taskSid: string;
  /** Call start (or the task's creation, without a call). */
  startMs: number;
  /** When the reservation completed (the job's checkpoint orders work by this instant). */
  completedMs: number;
  /** start + 30 days: the item's date_expires. */
  expiresMs: number;
}

export interface Truth {
  handled: Map<string, HandledCall>;
  /** Pairs that must never be in Sync, with the reason. */
  forbidden: Map<string, 'declined by this agent' | 'abandoned in queue'>;
  chatTaskSids: Set<string>;
  workers: Set<string>;
}

export function readTruth(emulator: Emulator): Truth {
  const { taskrouter } = emulator.state;
  const byReservation = new Map<
    string,
    Array<{ type: string; workerSid: string; taskSid: string; taskCreatedMs: number; voice: boolean }>
  >();
  const chatTaskSids = new Set<string>();
  for (const e of taskrouter.events) {
    if (e.taskChannelUniqueName && e.taskChannelUniqueName !== 'voice' && e.taskSid) chatTaskSids.add(e.taskSid);
    if (!e.reservationSid) continue;
    const list = byReservation.get(e.reservationSid) ?? [];
    list.push({
      type: e.eventType,
      workerSid: String(e.eventData.worker_sid),
      taskSid: String(e.taskSid),
      taskCreatedMs: e.taskCreatedMs!,
      voice: e.taskChannelUniqueName === 'voice',
    });
    byReservation.set(e.reservationSid, list);
  }
  const handled = new Map<string, HandledCall>();
  for (const c of handledCalls(emulator)) {
    handled.set(c.key, {
      key: c.key,
      itemKey: c.itemKey,
      workerSid: c.workerSid,
      callSid: c.callSid,
      taskSid: c.taskSid,
      startMs: c.startMs,
      completedMs: c.completedMs,
      expiresMs: c.startMs + TTL_DAYS * DAY_MS,
    });
  }
  const forbidden: Truth['forbidden'] = new Map();
  for (const events of byReservation.values()) {
    const last = events[events.length - 1];
    if (!last.voice) continue;
    const types = new Set(events.map((e) => e.type));
    const key = `${mapName(last.workerSid)}|${expectedItemKey(last.taskSid, last.taskCreatedMs)}`;
    if (types.has('reservation.accepted') && types.has('reservation.completed')) continue;
    if (types.has('reservation.rejected') || types.has('reservation.timeout'))
      forbidden.set(key, 'declined by this agent');
    else if (types.has('reservation.canceled')) forbidden.set(key, 'abandoned in queue');
  }
  for (const key of handled.keys()) forbidden.delete(key); // an agent who declined once may handle it later
  return { handled, forbidden, chatTaskSids, workers: new Set(taskrouter.workers.keys()) };
}

export interface SyncedItem {
  map: string;
  key: string;
  revision: number;
  dateExpires: number | null;
  data: Record<string, unknown>;
}

/** Everything in the Sync service right now: the checkpoint first, then the items (so items can only be newer). */
export function readSync(emulator: Emulator): {
  checkpoint: Record<string, unknown> | undefined;
  items: SyncedItem[];
  maps: string[];
} {
  const service = emulator.state.sync.services.get(emulator.config.syncServiceSid)!;
  const doc = [...service.documents.values()].find((d) => d.uniqueName === CHECKPOINT_NAME);
  const checkpoint = doc ? structuredClone(doc.data) : undefined;
  const items: SyncedItem[] = [];
  const maps: string[] = [];
  for (const map of service.maps.values()) {
    maps.push(String(map.uniqueName));
    for (const item of map.items.values()) {
      items.push({
        map: String(map.uniqueName),
        key: item.key,
        revision: item.revision,
        dateExpires: item.dateExpires,
        data: item.data,
      });
    }
  }
  return { checkpoint, items, maps };
}
