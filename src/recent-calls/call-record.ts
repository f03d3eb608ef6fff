/**
 * One agent's recent call: built from a completed reservation and, when the Calls list has it, the call's own timing.
 * The Sync item holds only what an agent's UI shows (no secrets, no attributes blob) and stays well under 2 KiB.
 */
import type { CallTiming } from './calls-source';
import type { Completion } from './events-source';
import type { RecentCallItem } from './recent-call-item';

export const MAX_ITEM_BYTES = 2048;
export const MAX_SYNC_TTL_SECONDS = 31_536_000;
export const DAY_MS = 86_400_000;

/** A call as the job handles it: the item's identifying fields plus its agent, timing and place in the checkpoint. */
export interface CallRecord extends Pick<
  RecentCallItem,
  'callSid' | 'taskSid' | 'direction' | 'from' | 'to' | 'queue'
> {
  /** The Sync item key (item-key.ts). */
  itemKey: string;
  workerSid: string;
  identity?: string;
  startedAtMs: number;
  endedAtMs: number;
  durationSeconds: number;
  /** Where startedAt came from: the Calls list, or the task (its creation; ended at its completion). */
  startSource: 'call' | 'task';
  /** How the call SID was found: named by the task, matched in the Calls list (outbound), or not at all. */
  callSource: 'task' | 'matched' | 'none';
  /** The completion event's time and SID: the record's place in the checkpoint order. */
  eventDateMs: number;
  eventSid: string;
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max);
}

/**
 * The record of one completed reservation. `timing` is the call's entry in the Calls list (the task's own call, or
 * the customer leg `matchedCallSid` names for an unenriched outbound task); without it, the task's times.
 */
export function buildCallRecord(completion: Completion, timing?: CallTiming, matchedCallSid?: string): CallRecord {
  let startedAtMs: number;
  let startSource: CallRecord['startSource'];
  if (timing) {
    startedAtMs = timing.startMs;
    startSource = 'call';
  } else {
    startedAtMs = completion.taskCreatedMs;
    startSource = 'task';
  }
  const callSid = completion.callSid ?? matchedCallSid ?? null;
  const callSource: CallRecord['callSource'] = completion.callSid ? 'task' : callSid ? 'matched' : 'none';
  let endedAtMs =
    timing?.endMs ??
    (timing?.durationSeconds !== undefined ? timing.startMs + timing.durationSeconds * 1000 : completion.eventDateMs);
  if (endedAtMs < startedAtMs) endedAtMs = startedAtMs;
  const durationSeconds = timing?.durationSeconds ?? Math.round((endedAtMs - startedAtMs) / 1000);
  return {
    itemKey: completion.itemKey,
    workerSid: completion.workerSid,
    identity: completion.identity,
    callSid,
    taskSid: completion.taskSid,
    direction: clip(completion.direction, 32),
    from: clip(completion.from, 64),
    to: clip(completion.to, 64),
    queue: clip(completion.queue, 128),
    startedAtMs,
    endedAtMs,
    durationSeconds,
    startSource,
    callSource,
    eventDateMs: completion.eventDateMs,
    eventSid: completion.eventSid,
  };
}

/** An item whose data would exceed MAX_ITEM_BYTES: permanent for its record (writing it again cannot help). */
export class ItemTooLarge extends RangeError {
  constructor(
    readonly itemKey: string,
    readonly bytes: number,
  ) {
    super(`item ${itemKey} is ${bytes} bytes, over ${MAX_ITEM_BYTES}`);
    this.name = 'ItemTooLarge';
  }
}

/** The item's data, checked against the size budget where every write takes it (the clipped fields keep it far below). */
export function toItem(record: CallRecord): RecentCallItem {
  const item = itemData(record);
  const bytes = Buffer.byteLength(JSON.stringify(item));
  if (bytes > MAX_ITEM_BYTES) throw new ItemTooLarge(record.itemKey, bytes);
  return item;
}

function itemData(record: CallRecord): RecentCallItem {
  return {
    callSid: record.callSid,
    taskSid: record.taskSid,
    direction: record.direction,
    from: record.from,
    to: record.to,
    queue: record.queue,
    startedAt: new Date(record.startedAtMs).toISOString(),
    endedAt: new Date(record.endedAtMs).toISOString(),
    durationSeconds: record.durationSeconds,
  };
}

/** The instant the item must expire: the call's start (or the task's creation) + ttlDays. */
export function expiryOf(record: Pick<CallRecord, 'startedAtMs'>, ttlDays: number): number {
  return record.startedAtMs + ttlDays * DAY_MS;
}

/**
 * ItemTtl (seconds, rounded up so the item never expires before start + ttlDays) as seen from the Twilio server's
 * `nowMs`, or undefined when the call is already older than the TTL window (such calls are skipped: ItemTtl 0 would
 * mean "never expires").
 */
export function itemTtlSeconds(
  record: Pick<CallRecord, 'startedAtMs'>,
  nowMs: number,
  ttlDays: number,
): number | undefined {
  const seconds = Math.ceil((expiryOf(record, ttlDays) - nowMs) / 1000);
  if (seconds < 1) return undefined;
  return Math.min(seconds, MAX_SYNC_TTL_SECONDS);
}

/** The map's TTL, refreshed on every item write: it outlives the newest item it can hold by a day. */
export function collectionTtlSeconds(ttlDays: number): number {
  return Math.min(MAX_SYNC_TTL_SECONDS, (ttlDays + 1) * 86_400);
}
