/** Injected failures, set by POST /__admin/faults: 5xx, extra 429s, latency and dropped connections. */
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
}

export const NO_FAULTS: FaultSettings = { errorRate: 0, throttleRate: 0, latencyMs: 0, dropRate: 0 };

export function parseFaults(body: unknown): FaultSettings {
  const input = (body ?? {}) as Record<string, unknown>;
  const rate = (name: string) => {
    const v = input[name] ?? 0;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new TwilioError(400, 20001, `${name} must be a number from 0 to 1`);
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
  return {
    errorRate: rate('errorRate'),
    throttleRate: rate('throttleRate'),
    latencyMs: latency,
    dropRate: rate('dropRate'),
    families: families as string[] | undefined,
  };
}

export function appliesTo(faults: FaultSettings, family: string): boolean {
  return !faults.families || faults.families.includes(family);
}
