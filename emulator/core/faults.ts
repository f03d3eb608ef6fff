/**
 * Injected failures, set by POST /__admin/faults: 5xx, extra 429s, latency and dropped connections.
 *
 * Whether a request gets a fault is not a draw from a shared random stream (requests run concurrently, so the order
 * in which they draw changes from run to run): it is a hash of the seed and the request's identity, i.e. its route,
 * the object it addresses (path, query, and the Key / UniqueName it creates) and how many requests with that same
 * route and object came before it since the faults were set. The same seed and the same requests give the same
 * faults, whatever the interleaving; which requests a client makes can still depend on timing.
 */
import { createHash } from 'node:crypto';
import { TwilioError } from './errors';

export interface FaultSettings {
  /** Share of requests answered 500 / 503 before they are handled (0–1). */
  errorRate: number;
  /** Share of requests answered 429 before they are handled (0–1). */
  throttleRate: number;
  /** Delay added before each request is handled, in ms. */
  latencyMs: number;
  /** Share of requests whose connection is dropped after they were handled: the change is made, the answer lost. */
  dropRate: number;
  /** Limit faults to these API families (sync, taskrouter, api, iam); all when absent. */
  families?: string[];
  /** Seed of the fault decisions (a whole number, default 0): the same seed replays the same faults. */
  seed: number;
}

export const NO_FAULTS: FaultSettings = { errorRate: 0, throttleRate: 0, latencyMs: 0, dropRate: 0, seed: 0 };

const MAX_SEED = 2 ** 32 - 1;

export function parseFaults(body: unknown): FaultSettings {
  const input = (body ?? {}) as Record<string, unknown>;
  const rate = (name: string) => {
    const v = input[name] ?? 0;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new TwilioError(400, 20001, `${name} must be a number from 0 to 1`);
    return v;
  };
  const latency = input.latencyMs ?? 0;
  if (typeof latency !== 'number' || !(latency >= 0 && latency <= 60_000)) {
    throw new TwilioError(400, 20001, 'latencyMs must be a number from 0 to 60000');
  }
  const families = input.families;
  if (families !== undefined && !(Array.isArray(families) && families.every((f) => typeof f === 'string'))) {
    throw new TwilioError(400, 20001, 'families must be an array of strings');
  }
  const seed = input.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new TwilioError(400, 20001, `seed must be a whole number from 0 to ${MAX_SEED}`);
  }
  return {
    errorRate: rate('errorRate'),
    throttleRate: rate('throttleRate'),
    latencyMs: latency,
    dropRate: rate('dropRate'),
    families: families as string[] | undefined,
    seed,
  };
}

export function appliesTo(faults: FaultSettings, family: string): boolean {
  return !faults.families || faults.families.includes(family);
}

/** What happens to one request: handled normally, answered 500 / 503 / 429 before it is handled, or its answer lost. */
export type FaultDecision =
  { kind: 'none' } | { kind: 'error'; status: 500 | 503 } | { kind: 'throttle' } | { kind: 'drop' };

/** The identity a fault decision is keyed on (see the header). */
export interface RequestIdentity {
  /** Method and route pattern, e.g. "POST /v1/Services/:ServiceSid/Maps/:MapSid/Items". */
  route: string;
  /** The object addressed: the concrete path, its query string and the key or unique name a create names. */
  object: string;
}

/** Four independent numbers in [0, 1) from one hash of the seed and the request's identity and sequence number. */
export function faultDraws(
  seed: number,
  identity: RequestIdentity,
  sequence: number,
): [number, number, number, number] {
  const digest = createHash('sha256').update(`${seed}\0${identity.route}\0${identity.object}\0${sequence}`).digest();
  const draw = (offset: number) => digest.readUIntBE(offset, 6) / 2 ** 48;
  return [draw(0), draw(6), draw(12), draw(18)];
}

/** The fault decisions for one setting of the faults: counts each identity's requests and hashes, nothing random. */
export class FaultPlan {
  private readonly sequences = new Map<string, number>();

  constructor(readonly settings: FaultSettings) {}

  decide(family: string, identity: RequestIdentity): FaultDecision {
    const { settings } = this;
    if (!appliesTo(settings, family)) return { kind: 'none' };
    if (settings.errorRate === 0 && settings.throttleRate === 0 && settings.dropRate === 0) return { kind: 'none' };
    const key = `${identity.route}\0${identity.object}`;
    const sequence = (this.sequences.get(key) ?? 0) + 1;
    this.sequences.set(key, sequence);
    const [error, which, throttle, drop] = faultDraws(settings.seed, identity, sequence);
    if (error < settings.errorRate) return { kind: 'error', status: which < 0.5 ? 500 : 503 };
    if (throttle < settings.throttleRate) return { kind: 'throttle' };
    if (drop < settings.dropRate) return { kind: 'drop' };
    return { kind: 'none' };
  }
}

/** The object part of a request's identity: path, query, and the Key / UniqueName / token its body names. */
export function objectIdentity(path: string, search: string, form: URLSearchParams, json: unknown): string {
  const fromJson = (name: string) => {
    const value = json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' ? value : null;
  };
  const named = form.get('Key') ?? form.get('UniqueName') ?? fromJson('token');
  return `${path}${search}${named === null ? '' : `#${named}`}`;
}
