/** Reading the SDK's errors: RestException carries Twilio's `status` and `code`; network errors carry a Node code. */
import { isRetryableNetworkError, isRetryableStatus } from './retry-policy';

export interface TwilioRestError {
  status: number;
  code?: number;
  message: string;
}

export function isRestError(error: unknown): error is TwilioRestError {
  const e = error as { status?: unknown };
  return typeof e === 'object' && e !== null && typeof e.status === 'number';
}

/** True for a Twilio error with this error code (e.g. 54208) or, with a status, this HTTP status. */
export function hasTwilioCode(error: unknown, code: number): boolean {
  return isRestError(error) && error.code === code;
}

export function hasStatus(error: unknown, status: number): boolean {
  return isRestError(error) && error.status === status;
}

/** Twilio did not answer usefully even after retries: 429 / 5xx, or the network. */
export function isUpstreamFailure(error: unknown): boolean {
  return (isRestError(error) && isRetryableStatus(error.status)) || isRetryableNetworkError(error);
}
