/**
 * Verifies a Flex user's token (`manager.user.token`) with Twilio IAM, as twilio-flex-token-validator does, but through
 * the project's Twilio client: `POST https://iam.twilio.com/v1/Accounts/{AC}/Tokens/validate`, JSON `{token}`,
 * Basic auth from the client. That keeps one HTTP path (retries, deadline, emulator routing) for every Twilio call.
 *
 * - Only `valid: true` is a success; any other answer, whatever its status, is a refusal (401).
 * - 429 / 5xx / network after the client's retries are an upstream failure (the wrapper answers 503 + Retry-After).
 * - 401 / 20003 means our own credentials were refused, and 404 / 20404 that the account SID in the path is not the
 *   credentials' (a made-up or mistyped ACCOUNT_SID; public fixture of twilio-flex-token-validator): configuration
 *   errors, never the caller's bad token.
 * - Flex tokens are JWEs (five segments), opaque here: nothing but IAM reads them.
 * - Results are cached per warm instance, keyed by a SHA-256 of the token (the token itself is never kept), for at
 *   most the configured seconds and never past the token's expiry by the Twilio server's clock; concurrent requests
 *   with one token share one IAM call.
 * - Guests (no WK… worker SID, or role `guest`) are refused unless allowed; an optional role allow-list narrows it.
 */
import { createHash } from 'node:crypto';
import twilio, { type Twilio } from 'twilio';
import { SID_PATTERNS } from '../config/env';
import { ConfigError } from '../config/errors';
import { registerWarmState } from '../runtime/warm-state';
import type { ProjectTwilioClient } from '../twilio/client-factory';
import { isRetryableStatus } from '../twilio/retry-policy';
import { FlexTokenRejected, FlexUserNotAllowed } from './errors';
import { SingleFlightCache, type CacheSource } from './flex-token-cache';

export const IAM_ORIGIN = 'https://iam.twilio.com';

/** Longest Flex token worth sending to IAM; real ones (JWEs) are a few KB at most. */
export const MAX_FLEX_TOKEN_LENGTH = 8192;
const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]+$/;
/** IAM's code for an expired token (other invalid tokens get e.g. 20101). */
const IAM_EXPIRED_CODE = 20104;

export interface FlexUser {
  identity: string;
  roles: string[];
  workerSid: string | null;
  /** ISO 8601 expiry of the Flex token, as IAM reported it. */
  expiration: string;
}

/**
 * The guest rule, in one place: a Flex user is an agent when IAM names a WK… worker SID and no role `guest`;
 * anyone else is a guest (no recent calls; a Sync token only where guests are allowed).
 */
export function isAgent(user: FlexUser): user is FlexUser & { workerSid: string } {
  return !user.roles.includes('guest') && SID_PATTERNS.worker.test(user.workerSid ?? '');
}

export type FlexValidation =
  | { valid: true; user: FlexUser; expiresAtMs: number }
  | { valid: false; reason: 'expired' | 'invalid'; message: string };

export interface FlexPolicy {
  allowGuests: boolean;
  /** Empty: any role. */
  allowedRoles: readonly string[];
}

/** The cache of this warm instance (module scope survives between invocations of one instance). */
export const flexValidationCache = new SingleFlightCache<FlexValidation>({ maxEntries: 10_000 });
registerWarmState('Flex validation cache', () => flexValidationCache.clear());

/** Cheap shape check before any IAM call: bounded length, token characters only. */
export function looksLikeFlexToken(token: string): boolean {
  return token.length > 0 && token.length <= MAX_FLEX_TOKEN_LENGTH && TOKEN_CHARS.test(token);
}

/** The cache key: a hash of the account and the token, so the cache never holds a usable token. */
export function flexTokenKey(accountSid: string, token: string): string {
  return createHash('sha256').update(accountSid).update('\0').update(token).digest('hex');
}

/** Turns IAM's answer into a validation, or throws for upstream failures and refused credentials. */
export function interpretIamAnswer(status: number, rawBody: unknown, serverNowMs: number): FlexValidation {
  const body = parseBody(rawBody);
  if (isRetryableStatus(status)) throw new twilio.RestException({ statusCode: status, body });
  if ((status === 401 || status === 403) && body.code === 20003) {
    throw new ConfigError('AUTH_TOKEN', 'was refused by Twilio IAM (20003): check ACCOUNT_SID and AUTH_TOKEN');
  }
  if (status === 404 && body.code === 20404) {
    throw new ConfigError('ACCOUNT_SID', 'is not the account of AUTH_TOKEN: Twilio IAM answered 404 (20404)');
  }
  const message = typeof body.message === 'string' ? body.message.slice(0, 200) : 'Flex token is not valid';
  if (status < 200 || status >= 300 || body.valid !== true) {
    const expired = body.code === IAM_EXPIRED_CODE || /expired/i.test(message);
    return { valid: false, reason: expired ? 'expired' : 'invalid', message };
  }
  const identity = body.identity;
  if (typeof identity !== 'string' || identity === '') {
    return { valid: false, reason: 'invalid', message: 'IAM named no identity for this token' };
  }
  const expiration = typeof body.expiration === 'string' ? body.expiration : '';
  const expiresAtMs = Date.parse(expiration);
  if (Number.isNaN(expiresAtMs))
    return { valid: false, reason: 'invalid', message: 'IAM named no expiry for this token' };
  if (expiresAtMs <= serverNowMs) return { valid: false, reason: 'expired', message: 'Flex token expired' };
  const roles = Array.isArray(body.roles) ? body.roles.filter((r): r is string => typeof r === 'string') : [];
  const workerSid = typeof body.worker_sid === 'string' && body.worker_sid !== '' ? body.worker_sid : null;
  return { valid: true, user: { identity, roles, workerSid, expiration }, expiresAtMs };
}

/**
 * The server clock comes from the Date header, which has one-second resolution: the true server time may be up to
 * this much later than the estimate, so a validation is dropped this much before the token's expiry.
 */
export const SERVER_CLOCK_RESOLUTION_MS = 1000;

/** How long a validation may be reused: the cache setting, capped by the token's remaining life (server clock). */
export function cacheLifetimeMs(
  validation: FlexValidation,
  status: number,
  cacheSeconds: number,
  serverNowMs: number,
): number {
  if (status !== 200) return 0; // only IAM's regular answers are worth remembering
  const configured = cacheSeconds * 1000;
  if (!validation.valid) return configured;
  return Math.min(configured, validation.expiresAtMs - serverNowMs - SERVER_CLOCK_RESOLUTION_MS);
}

/** Throws FlexUserNotAllowed unless this Flex user may get a Sync token. */
export function enforceFlexPolicy(user: FlexUser, policy: FlexPolicy): void {
  if (!isAgent(user) && !policy.allowGuests) {
    throw new FlexUserNotAllowed('guest', 'Guest Flex users (no worker, or role guest) cannot get a Sync token');
  }
  if (policy.allowedRoles.length > 0 && !user.roles.some((role) => policy.allowedRoles.includes(role))) {
    throw new FlexUserNotAllowed('role', "None of this Flex user's roles may get a Sync token");
  }
}

/** The IAM validate call, through the project client (its http client retries and routes to the emulator locally). */
export async function callIamValidate(
  client: Twilio,
  accountSid: string,
  token: string,
): Promise<{ status: number; body: unknown }> {
  const response = await client.request({
    method: 'post',
    uri: `${IAM_ORIGIN}/v1/Accounts/${accountSid}/Tokens/validate`,
    headers: { 'Content-Type': 'application/json' },
    data: { token },
  });
  return { status: response.statusCode, body: response.body };
}

export interface VerifyFlexTokenOptions {
  accountSid: string;
  cacheSeconds: number;
  policy: FlexPolicy;
  /** Makes the project client; called only when IAM must be asked (not on a cache hit). */
  twilioClient: () => ProjectTwilioClient;
  cache?: SingleFlightCache<FlexValidation>;
}

/** The verified Flex user behind `token`; FlexTokenRejected or FlexUserNotAllowed otherwise. */
export async function verifyFlexToken(
  token: string,
  options: VerifyFlexTokenOptions,
): Promise<{ user: FlexUser; source: CacheSource }> {
  if (!looksLikeFlexToken(token)) {
    throw new FlexTokenRejected('malformed', 'The Flex token is malformed');
  }
  const cache = options.cache ?? flexValidationCache;
  const { value, source } = await cache.get(flexTokenKey(options.accountSid, token), async () => {
    const { client, http } = options.twilioClient();
    const answer = await callIamValidate(client, options.accountSid, token);
    const serverNow = http.serverNow();
    const validation = interpretIamAnswer(answer.status, answer.body, serverNow);
    return { value: validation, ttlMs: cacheLifetimeMs(validation, answer.status, options.cacheSeconds, serverNow) };
  });
  if (!value.valid) {
    throw value.reason === 'expired'
      ? new FlexTokenRejected('expired', 'The Flex token has expired; sign in to Flex again')
      : new FlexTokenRejected('invalid', 'The Flex token is not valid');
  }
  enforceFlexPolicy(value.user, options.policy);
  return { user: value.user, source };
}

function parseBody(raw: unknown): Record<string, unknown> & { code?: unknown; message?: unknown; roles?: unknown } {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      value = {};
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
