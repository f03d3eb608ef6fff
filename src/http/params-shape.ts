/**
 * A bound on the parameters' shape, checked by the wrapper before any function code runs: no function here takes
 * nested parameters, and a body nested thousands deep would overflow the stack of any recursive step (String() of
 * nested arrays, JSON.stringify, a serialiser in a library). The walk is iterative, so it cannot overflow itself.
 */
import { InvalidRequest } from '../params/errors';

/** Deepest nesting accepted (the parameters object itself is depth 0). */
export const MAX_PARAMS_DEPTH = 32;
/** Most values (objects, arrays and leaves together) accepted. */
export const MAX_PARAMS_VALUES = 20_000;

/** Throws InvalidRequest (400 INVALID_REQUEST) when `params` nests deeper than MAX_PARAMS_DEPTH or holds more than MAX_PARAMS_VALUES. */
export function checkParamsShape(params: Record<string, unknown>): void {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: params, depth: 0 }];
  let values = 0;
  while (pending.length > 0) {
    const { value, depth } = pending.pop()!;
    if (++values > MAX_PARAMS_VALUES) {
      throw new InvalidRequest(`The request holds more than ${MAX_PARAMS_VALUES} values`);
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_PARAMS_DEPTH) {
      throw new InvalidRequest(`The request is nested more than ${MAX_PARAMS_DEPTH} levels deep`);
    }
    for (const item of Object.values(value)) pending.push({ value: item, depth: depth + 1 });
  }
}
