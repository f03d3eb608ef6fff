/**
 * The job's progress, in one Sync Document (`CHECKPOINT_DOCUMENT_NAME`), changed only with If-Match on its revision.
 *
 * - `cursor`: every completion with an event time before it is committed (see window.ts).
 * - `lease`: the run that currently works. A run takes the lease with If-Match before it writes anything, and every
 *   later save is conditional on the revision it last wrote, so of two overlapping runs only one can advance the
 *   cursor; the other stops at its first save (412) having only written items that are idempotent anyway. A lease
 *   expires on its own (a run killed at the 10 s limit cannot release it).
 */
import { randomUUID } from 'node:crypto';
import type { Twilio } from 'twilio';
import { hasStatus, hasTwilioCode } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { CHECKPOINT_DOCUMENT_NAME } from './map-name';

export interface CheckpointFailure {
  callSid: string;
  workerSid: string;
  code: string;
  at: string;
}

export interface CheckpointState {
  v: 1;
  /** ISO 8601 with ms; null before the first committed window. */
  cursor: string | null;
  windowSeconds: number | null;
  lease: { owner: string; until: string } | null;
  updatedAt: string | null;
  /** Last permanent failures (newest last, at most MAX_FAILURES), for operators. */
  failures: CheckpointFailure[];
  lastRun: Record<string, number | string | boolean> | null;
  /** A nonce per save: tells our own write (whose answer was lost) from another run's after a 412. */
  writeId: string | null;
}

export const MAX_FAILURES = 20;

export const EMPTY_STATE: CheckpointState = {
  v: 1,
  cursor: null,
  windowSeconds: null,
  lease: null,
  updatedAt: null,
  failures: [],
  lastRun: null,
  writeId: null,
};

export interface Checkpoint {
  state: CheckpointState;
  revision: string;
}

/** Reads stored data tolerantly (a document written by an older or newer version, or by hand). */
export function readState(data: unknown): CheckpointState {
  const d = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  const iso = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null);
  const lease = d.lease as { owner?: unknown; until?: unknown } | null | undefined;
  return {
    v: 1,
    cursor: iso(d.cursor),
    windowSeconds: typeof d.windowSeconds === 'number' && d.windowSeconds > 0 ? d.windowSeconds : null,
    lease:
      lease && typeof lease.owner === 'string' && iso(lease.until) ? { owner: lease.owner, until: iso(lease.until)! } : null,
    updatedAt: iso(d.updatedAt),
    failures: Array.isArray(d.failures) ? (d.failures as CheckpointFailure[]).slice(-MAX_FAILURES) : [],
    lastRun: d.lastRun && typeof d.lastRun === 'object' ? (d.lastRun as CheckpointState['lastRun']) : null,
    writeId: typeof d.writeId === 'string' ? d.writeId : null,
  };
}

export function cursorMs(state: CheckpointState): number | undefined {
  return state.cursor === null ? undefined : Date.parse(state.cursor);
}

function isMissing(error: unknown): boolean {
  return hasTwilioCode(error, 20404) || hasTwilioCode(error, 54100) || hasStatus(error, 404);
}

function isConflict(error: unknown): boolean {
  return hasStatus(error, 412) || hasTwilioCode(error, 54103);
}

export type SaveResult = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: 'conflict' };

export class CheckpointStore {
  constructor(
    private readonly client: Twilio,
    private readonly serviceSid: string,
    private readonly limiter?: ObjectRateLimiter,
    readonly name = CHECKPOINT_DOCUMENT_NAME,
  ) {}

  private get documents() {
    return this.client.sync.v1.services(this.serviceSid).documents;
  }

  async load(): Promise<Checkpoint | undefined> {
    try {
      const doc = await this.documents(this.name).fetch();
      return { state: readState(doc.data), revision: doc.revision };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Loads the checkpoint, creating it (empty) the first time; a concurrent creator's document is used as is. */
  async loadOrCreate(): Promise<Checkpoint> {
    const existing = await this.load();
    if (existing) return existing;
    try {
      await this.limiter?.acquire(this.name);
      const doc = await this.documents.create({ uniqueName: this.name, data: EMPTY_STATE });
      return { state: readState(doc.data), revision: doc.revision };
    } catch (error) {
      if (!hasTwilioCode(error, 54301)) throw error;
      const created = await this.load();
      if (!created) throw error;
      return created;
    }
  }

  /**
   * Saves `state` only if the document is still at `revision`; a 412 means another run moved it, unless the document
   * holds this very write (the update was applied, its answer lost, and the retry found the revision moved on).
   */
  async save(state: CheckpointState, revision: string): Promise<SaveResult> {
    const data: CheckpointState = { ...state, writeId: randomUUID() };
    try {
      await this.limiter?.acquire(this.name);
      const doc = await this.documents(this.name).update({ data, ifMatch: revision });
      return { ok: true, checkpoint: { state: readState(doc.data), revision: doc.revision } };
    } catch (error) {
      if (!isConflict(error)) throw error;
      const current = await this.load();
      if (current && current.state.writeId === data.writeId) return { ok: true, checkpoint: current };
      return { ok: false, reason: 'conflict' };
    }
  }
}

export type LeaseResult = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: 'busy' | 'conflict'; until?: string };

/** Takes the lease for `owner` until `untilMs`, unless another run holds an unexpired one (`nowMs`: Twilio's clock). */
export async function acquireLease(
  store: CheckpointStore,
  owner: string,
  nowMs: () => number,
  leaseMs: number,
): Promise<LeaseResult> {
  const current = await store.loadOrCreate();
  const lease = current.state.lease;
  const now = nowMs(); // read after a response: the server clock is known by now
  if (lease && lease.owner !== owner && Date.parse(lease.until) > now) return { ok: false, reason: 'busy', until: lease.until };
  const saved = await store.save(
    { ...current.state, lease: { owner, until: new Date(now + leaseMs).toISOString() } },
    current.revision,
  );
  return saved.ok ? saved : { ok: false, reason: 'conflict' };
}
