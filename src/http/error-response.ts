/**
 * The one place where errors become HTTP answers: each domain error type maps to a code of the registry
 * (error-codes.ts, which also gives the status), the answer's message and any header it needs. The domain throws its
 * own types and never picks a status; anything not listed here is a 500 INTERNAL.
 */
import {
  BasicCredentialsRejected,
  CredentialsMissing,
  FlexTokenRejected,
  FlexUserNotAllowed,
  SignatureRejected,
} from '../auth/errors';
import { ConfigError } from '../config/errors';
import { InvalidParameter, InvalidRequest } from '../params/errors';
import { MapReadOutOfTime, TokenInParameters, WorkerNotAllowed } from '../recent-calls/read-errors';
import { FlexIdentityRejected } from '../tokens/errors';
import { isUpstreamFailure } from '../twilio/errors';
import { ERROR_CODES, type ErrorCode } from './error-codes';
import { HttpError } from './errors';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  status: number;
  requestId: string;
}

interface Mapped {
  code: ErrorCode;
  /** Default: the error's own message. */
  message?: string;
  headers?: Record<string, string>;
}

/** When to call again after a 503 (seconds). */
const RETRY_AFTER = { 'Retry-After': '5' };

/** Codes of parameters that have their own; any other parameter is INVALID_REQUEST. */
const PARAMETER_CODES: Record<string, ErrorCode> = {
  Ttl: 'TTL_INVALID',
  Identity: 'IDENTITY_INVALID',
  PageSize: 'PAGE_SIZE_INVALID',
  PageToken: 'PAGE_TOKEN_INVALID',
  WorkerSid: 'WORKER_SID_INVALID',
  ShardIndex: 'SHARD_INVALID',
  ShardCount: 'SHARD_INVALID',
};

type Rule<E> = [new (...args: never[]) => E, (error: E) => Mapped];
const rule = <E>(type: new (...args: never[]) => E, map: (error: E) => Mapped): Rule<unknown> =>
  [type, map] as Rule<unknown>;

/** The table, most specific type first. */
const RULES: ReadonlyArray<Rule<unknown>> = [
  rule(HttpError, (e) => ({ code: e.code, headers: e.headers })),
  rule(InvalidParameter, (e) => ({
    code:
      e.parameter === 'Ttl' && e.problem === 'out-of-range'
        ? 'TTL_OUT_OF_RANGE'
        : (PARAMETER_CODES[e.parameter] ?? 'INVALID_REQUEST'),
  })),
  rule(InvalidRequest, () => ({ code: 'INVALID_REQUEST' })),
  rule(TokenInParameters, () => ({ code: 'TOKEN_IN_URL' })),
  rule(CredentialsMissing, () => ({ code: 'CREDENTIALS_MISSING' })),
  rule(BasicCredentialsRejected, (e) => ({
    code: e.reason === 'missing' ? 'CREDENTIALS_MISSING' : 'CREDENTIALS_INVALID',
    headers: { 'WWW-Authenticate': `Basic realm="${e.realm}", charset="UTF-8"` },
  })),
  rule(FlexTokenRejected, (e) => ({ code: e.reason === 'expired' ? 'FLEX_TOKEN_EXPIRED' : 'FLEX_TOKEN_INVALID' })),
  rule(SignatureRejected, (e) => ({ code: e.reason === 'missing' ? 'SIGNATURE_MISSING' : 'SIGNATURE_INVALID' })),
  rule(FlexUserNotAllowed, (e) => ({ code: e.reason === 'guest' ? 'GUEST_NOT_ALLOWED' : 'ROLE_NOT_ALLOWED' })),
  rule(FlexIdentityRejected, () => ({ code: 'FLEX_IDENTITY_INVALID' })),
  rule(WorkerNotAllowed, () => ({ code: 'WORKER_NOT_ALLOWED' })),
  rule(MapReadOutOfTime, () => ({ code: 'UPSTREAM_UNAVAILABLE', headers: RETRY_AFTER })),
  rule(ConfigError, (e) => ({ code: 'CONFIG_INVALID', message: `Server misconfigured: ${e.message}` })),
];

/** The code, message and headers an error is answered with (INTERNAL for anything unknown). */
export function describeError(error: unknown): Required<Mapped> & { status: number } {
  const found = RULES.find(([type]) => error instanceof type);
  let mapped: Mapped;
  if (found) mapped = found[1](error);
  else if (isUpstreamFailure(error)) {
    mapped = {
      code: 'UPSTREAM_UNAVAILABLE',
      message: 'Twilio is not answering right now; try again shortly',
      headers: RETRY_AFTER,
    };
  } else mapped = { code: 'INTERNAL', message: 'Internal error; quote the request id when reporting it' };
  return {
    code: mapped.code,
    status: ERROR_CODES[mapped.code],
    message: mapped.message ?? (error as Error).message,
    headers: mapped.headers ?? {},
  };
}

export function toErrorResponse(
  error: unknown,
  requestId: string,
): { status: number; body: ErrorBody; extraHeaders: Record<string, string> } {
  const { code, status, message, headers } = describeError(error);
  return { status, body: { code, message, status, requestId }, extraHeaders: headers };
}
