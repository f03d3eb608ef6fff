/**
 * The lifetime of an issued Sync token: the configured SYNC_TOKEN_TTL, or a shorter `Ttl` the client asks for.
 * A request outside [minimum, configured] is refused (InvalidParameter), never silently clamped, so a client that asks for
 * something it cannot get learns it at once instead of being surprised by an early expiry.
 */
import { SYNC_TOKEN_TTL } from '../config/sync-token';
import { InvalidParameter } from '../params/errors';

const WHOLE_SECONDS = /^[0-9]{1,9}$/;

/** `requested` is the raw `Ttl` parameter: absent, a form string, or a JSON number. */
export function resolveLifetime(
  requested: unknown,
  configuredSeconds: number,
  minimumSeconds: number = SYNC_TOKEN_TTL.min,
): number {
  if (requested === undefined || requested === null) return configuredSeconds;
  let seconds: number;
  if (typeof requested === 'number' && Number.isSafeInteger(requested)) seconds = requested;
  else if (typeof requested === 'string' && WHOLE_SECONDS.test(requested)) seconds = Number(requested);
  else {
    throw new InvalidParameter('Ttl', 'Ttl must be a whole number of seconds');
  }
  if (seconds < minimumSeconds || seconds > configuredSeconds) {
    throw new InvalidParameter(
      'Ttl',
      `Ttl must be from ${minimumSeconds} to ${configuredSeconds} seconds, got ${seconds}`,
      'out-of-range',
    );
  }
  return seconds;
}
