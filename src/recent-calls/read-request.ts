/**
 * Who is asking /recent-calls, and for what:
 *
 * - Credentials: the caller's Flex token, only as `Authorization: Bearer <token>` (any method). A `Token`
 *   parameter is refused whatever the method: the runtime merges the query string into the body's parameters, so
 *   the function cannot tell a body's `Token` from a URL's, and URLs end up in access logs, proxies and browser
 *   history (twilio-run's own request log prints them). Verified with Twilio IAM through the shared Flex verifier.
 * - Target: the verified token's own `worker_sid`; `WorkerSid` may name another worker only for supervisor roles.
 * - Paging: `PageSize` (1–100, default 50) and `PageToken` (from the previous answer's `nextPageToken`).
 */
import { CredentialsMissing, FlexUserNotAllowed } from '../auth/errors';
import { isAgent, verifyFlexToken, type FlexUser } from '../auth/flex-token';
import type { RecentCallsConfig } from '../config/recent-calls';
import type { FunctionRequest } from '../http/function';
import { InvalidParameter } from '../params/errors';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import { isWorkerSid } from './map-name';
import { decodePageToken, type PageCursor } from './page-token';
import { TokenInParameters, WorkerNotAllowed } from './read-errors';
import { PAGE_SIZE } from './reader';

export interface RecentCallsQuery {
  caller: FlexUser & { workerSid: string };
  /** Whose calls: the caller's own, or (supervisors) the named worker's. */
  workerSid: string;
  pageSize: number;
  after?: PageCursor;
}

const present = (value: unknown) => value !== undefined && value !== null && value !== '';

/** The Flex token of the request (not yet verified), or InvalidParameter / TokenInParameters / CredentialsMissing. */
export function flexTokenOf(request: Pick<FunctionRequest, 'params' | 'headers'>): string {
  const header = request.headers.authorization;
  let fromHeader: string | undefined;
  if (present(header)) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header!);
    if (!match) throw new InvalidParameter('Authorization', 'Authorization must be "Bearer <Flex token>"');
    fromHeader = match[1];
  }
  if (present(request.params.Token)) {
    throw new TokenInParameters(
      'Send the Flex token only as "Authorization: Bearer <token>": a Token parameter may have come from the URL',
    );
  }
  if (fromHeader !== undefined) return fromHeader;
  throw new CredentialsMissing('Send the Flex token as "Authorization: Bearer <token>"');
}

export function parsePageSize(value: unknown): number {
  if (!present(value)) return PAGE_SIZE.default;
  // A string (query or form) or a JSON number; an array or object is no page size (and String() of it may throw).
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  const n = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= PAGE_SIZE.max)) {
    throw new InvalidParameter('PageSize', `PageSize must be a whole number from 1 to ${PAGE_SIZE.max}`);
  }
  return n;
}

/** The `WorkerSid` parameter: undefined when absent, a worker SID, or InvalidParameter. */
export function parseWorkerSid(value: unknown): string | undefined {
  if (!present(value)) return undefined;
  if (!isWorkerSid(value)) {
    throw new InvalidParameter('WorkerSid', 'WorkerSid must be a worker SID (WK + 32 hex)');
  }
  return value;
}

/** The worker whose list is read: the caller's own unless a supervisor names another (WorkerNotAllowed otherwise). */
export function targetWorker(
  caller: { workerSid: string; roles: readonly string[] },
  requested: string | undefined,
  supervisorRoles: readonly string[],
): string {
  if (requested === undefined || requested === caller.workerSid) return caller.workerSid;
  if (!caller.roles.some((role) => supervisorRoles.includes(role))) {
    throw new WorkerNotAllowed("Only supervisors may read another agent's recent calls");
  }
  return requested;
}

/** Checks every parameter that needs no Twilio call first, then verifies the Flex token and authorises the target. */
export async function readQuery(
  request: FunctionRequest,
  config: RecentCallsConfig,
  twilioClient: () => ProjectTwilioClient,
): Promise<RecentCallsQuery> {
  const token = flexTokenOf(request);
  request.addSecret(token);
  const pageSize = parsePageSize(request.params.PageSize);
  const requested = parseWorkerSid(request.params.WorkerSid);
  const pageToken = request.params.PageToken;

  // Guests are refused here rather than by the shared policy, so that the message speaks of recent calls.
  const { user } = await verifyFlexToken(token, {
    accountSid: config.accountSid,
    cacheSeconds: config.validationCacheSeconds,
    policy: { allowGuests: true, allowedRoles: [] },
    twilioClient,
  });
  if (!isAgent(user)) {
    throw new FlexUserNotAllowed('guest', 'Guest Flex users (no worker, or role guest) have no recent calls');
  }
  const workerSid = targetWorker(user, requested, config.supervisorRoles);
  const after = present(pageToken) ? decodePageToken(pageToken, workerSid) : undefined;
  return { caller: user, workerSid, pageSize, after };
}
