/**
 * Ground truth for the recent-calls job, read from the emulator's own records (never from the job's code): which
 * agent handled which call (a voice reservation that was accepted and then completed), which (agent, call) pairs
 * must never show up (declined or timed-out reservations of another agent, calls abandoned in queue), and chat tasks.
 * And a snapshot of what is in Sync right now, read in-process so that injected faults cannot disturb the checks.
 */
import type { Emulator } from '../../../emulator/server';

export const DAY_MS = 86_400_000;
export const TTL_DAYS = 30;
/** The documented naming contract (README / src/recent-calls/map-name.ts): one map per worker, item key = call SID. */
export const mapName = (workerSid: string) => `recent-calls-${workerSid}`;
export const CHECKPOINT_NAME = 'recent-calls-sync-checkpoint';

export interface HandledCall {
  /** `<map unique name>|<call SID>` */
  key: string;
  workerSid: string;
  callSid: string;
  taskSid: string;
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

function callSidOf(attributes: unknown): string | undefined {
  let a: Record<string, unknown>;
  try {
    a = JSON.parse(String(attributes)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const direct = typeof a.call_sid === 'string' ? a.call_sid : undefined;
  const conference = a.conference as { participants?: { customer?: unknown } } | undefined;
  const customer = typeof conference?.participants?.customer === 'string' ? conference.participants.customer : undefined;
  return direct ?? customer;
}

export function readTruth(emulator: Emulator): Truth {
  const { taskrouter, calls } = emulator.state;
  const byReservation = new Map<string, Array<{ type: string; ms: number; data: Record<string, unknown> }>>();
  const chatTaskSids = new Set<string>();
  for (const e of taskrouter.events) {
    if (e.taskChannelUniqueName && e.taskChannelUniqueName !== 'voice' && e.taskSid) chatTaskSids.add(e.taskSid);
    if (!e.reservationSid) continue;
    const list = byReservation.get(e.reservationSid) ?? [];
    list.push({ type: e.eventType, ms: e.eventDateMs, data: e.eventData });
    byReservation.set(e.reservationSid, list);
  }
  const handled = new Map<string, HandledCall>();
  const forbidden: Truth['forbidden'] = new Map();
  for (const events of byReservation.values()) {
    const types = new Set(events.map((e) => e.type));
    const last = events[events.length - 1];
    if (last.data.task_channel_unique_name !== 'voice') continue;
    const workerSid = String(last.data.worker_sid);
    const callSid = callSidOf(last.data.task_attributes);
    if (!callSid) continue;
    const key = `${mapName(workerSid)}|${callSid}`;
    if (types.has('reservation.accepted') && types.has('reservation.completed')) {
      const completed = events.find((e) => e.type === 'reservation.completed')!;
      const call = calls.calls.get(callSid);
      if (!call) throw new Error(`seeded call ${callSid} has no Call record`);
      handled.set(key, {
        key,
        workerSid,
        callSid,
        taskSid: String(completed.data.task_sid),
        startMs: call.startTimeMs,
        completedMs: completed.ms,
        expiresMs: call.startTimeMs + TTL_DAYS * DAY_MS,
      });
    } else if (types.has('reservation.rejected') || types.has('reservation.timeout')) {
      forbidden.set(key, 'declined by this agent');
    } else if (types.has('reservation.canceled')) {
      forbidden.set(key, 'abandoned in queue');
    }
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
export function readSync(emulator: Emulator): { checkpoint: Record<string, unknown> | undefined; items: SyncedItem[]; maps: string[] } {
  const service = emulator.state.sync.services.get(emulator.config.syncServiceSid)!;
  const doc = [...service.documents.values()].find((d) => d.uniqueName === CHECKPOINT_NAME);
  const checkpoint = doc ? structuredClone(doc.data) : undefined;
  const items: SyncedItem[] = [];
  const maps: string[] = [];
  for (const map of service.maps.values()) {
    maps.push(String(map.uniqueName));
    for (const item of map.items.values()) {
      items.push({ map: String(map.uniqueName), key: item.key, revision: item.revision, dateExpires: item.dateExpires, data: item.data });
    }
  }
  return { checkpoint, items, maps };
}
