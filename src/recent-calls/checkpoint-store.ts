/**
 * The job's checkpoint document (`CHECKPOINT_DOCUMENT_NAME`), loaded and saved only with If-Match on its revision:
 * every save is conditional on the revision the run last wrote, so of two overlapping runs only one can advance the
 * cursor; the other's save finds the revision moved (412) and it stops (lease.ts).
 *
 * The document lives in the same Sync service as the agents' maps, so its content is not trusted blindly: every save
 * carries a seal (an HMAC keyed from a secret only the functions hold, checkpoint-seal.ts); a state whose seal does not
 * verify, lease included, is ignored as if there were none, and a save that finds such a state in its way (412)
 * overwrites it instead of stopping, so a forger rewriting the document cannot stall the job.
 */
import { randomUUID } from 'node:crypto';
import type { Twilio } from 'twilio';
import { hasStatus, hasTwilioCode } from '../twilio/errors';
import type { ObjectRateLimiter } from '../twilio/object-rate-limiter';
import { canonicalJson, sealMatches, sealOf } from './checkpoint-seal';
import { EMPTY_STATE, readState, type CheckpointState } from './checkpoint-state';
import { CHECKPOINT_DOCUMENT_NAME } from './map-name';

export interface Checkpoint {
  state: CheckpointState;
  revision: string;
  /** The stored state failed its seal check and was replaced by EMPTY_STATE: no seal, or a seal that does not match. */
  rejected?: SealFailure;
}

export type SealFailure = 'unsealed' | 'tampered';

export type SaveResult = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: 'conflict' };

/** A save overwrites at most this many forged states in a row before it reports a conflict. */
export const MAX_FORGED_OVERWRITES = 3;

function isMissing(error: unknown): boolean {
  return hasTwilioCode(error, 20404) || hasTwilioCode(error, 54100) || hasStatus(error, 404);
}

function isConflict(error: unknown): boolean {
  return hasStatus(error, 412) || hasTwilioCode(error, 54103);
}

export class CheckpointStore {
  /** How many forged states (failing their seal) this store has met: ignored on load, or overwritten by a save. */
  forgeries = 0;

  constructor(
    private readonly client: Twilio,
    private readonly serviceSid: string,
    /** The seal key (checkpointKey): only states sealed with it are trusted. */
    private readonly key: Buffer,
    private readonly limiter?: ObjectRateLimiter,
    readonly name = CHECKPOINT_DOCUMENT_NAME,
  ) {}

  private get documents() {
    return this.client.sync.v1.services(this.serviceSid).documents;
  }

  private get scope(): string {
    return `${this.serviceSid}/${this.name}`;
  }

  /** The document's data for `state`: the state as readState will read it back, and its seal. */
  private sealed(state: CheckpointState): Record<string, unknown> {
    const read = readState(state);
    return { ...read, seal: sealOf(this.key, this.scope, read) };
  }

  /** The stored state if its seal verifies; else EMPTY_STATE, saying why. */
  private open(data: unknown, revision: string): Checkpoint {
    const state = readState(data);
    const seal = data && typeof data === 'object' ? (data as Record<string, unknown>).seal : undefined;
    if (sealMatches(this.key, this.scope, state, seal)) return { state, revision };
    // An unsealed empty state (as `npm run setup` creates it) says nothing a run could be misled by.
    if (seal === undefined && canonicalJson(state) === canonicalJson(EMPTY_STATE))
      return { state: EMPTY_STATE, revision };
    this.forgeries += 1;
    return { state: EMPTY_STATE, revision, rejected: seal === undefined ? 'unsealed' : 'tampered' };
  }

  async load(): Promise<Checkpoint | undefined> {
    try {
      const doc = await this.documents(this.name).fetch();
      return this.open(doc.data, doc.revision);
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
      const doc = await this.documents.create({ uniqueName: this.name, data: this.sealed(EMPTY_STATE) });
      return this.open(doc.data, doc.revision);
    } catch (error) {
      if (!hasTwilioCode(error, 54301)) throw error;
      const created = await this.load();
      if (!created) throw error;
      return created;
    }
  }

  /**
   * Saves `state` only if the document is still at `revision`; a 412 means another run moved it, unless the document
   * holds this very write (the update was applied, its answer lost, and the retry found the revision moved on), or a
   * state that fails its seal: no run wrote that, so it is overwritten (a few times at most) rather than obeyed.
   */
  async save(state: CheckpointState, revision: string): Promise<SaveResult> {
    const data = this.sealed({ ...state, writeId: randomUUID() });
    let ifMatch = revision;
    for (let overwrites = 0; ; overwrites++) {
      try {
        await this.limiter?.acquire(this.name);
        const doc = await this.documents(this.name).update({ data, ifMatch });
        return { ok: true, checkpoint: this.open(doc.data, doc.revision) };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const current = await this.load();
        if (current && !current.rejected && current.state.writeId === data.writeId)
          return { ok: true, checkpoint: current };
        if (!current?.rejected || overwrites >= MAX_FORGED_OVERWRITES) return { ok: false, reason: 'conflict' };
        ifMatch = current.revision;
      }
    }
  }
}
