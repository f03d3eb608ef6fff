/**
 * IAM: `POST /v1/Accounts/{AccountSid}/Tokens/validate`, the call twilio-flex-token-validator makes, answering for the
 * Flex tokens minted through the admin API. Shapes follow the public fixtures of twilio-flex-token-validator
 * (twilio/twilio-flex-token-validator, README and tests):
 * - valid: `{valid: true, code: 0, message: null, expiration, realm_user_id (the raw user name / e-mail), identity,
 *   roles, worker_sid}`; `worker_sid` is null for a user without a worker (a guest); no other keys;
 * - invalid: every key present, null where unknown, code 20101 "Invalid Access Token"; expired: 20104 (Twilio's code
 *   for expired access tokens; its use by IAM for Flex tokens is unconfirmed). HTTP status of a refusal: 200
 *   (unconfirmed; clients must treat anything but `valid: true` as a refusal);
 * - an account SID in the path that is not the caller's: 404 / 20404 "The requested resource … was not found".
 * Flex tokens are JWEs (Flex "User Token" docs; validator README): five dot-separated base64url segments, opaque.
 */
import { randomBytes } from 'node:crypto';
import { isoDate } from '../core/clock';
import { badRequest, notFound } from '../core/errors';
import type { Router } from '../core/router';
import { newSid } from '../core/sids';
import type { Emulator } from '../server';

export interface FlexTokenRecord {
  identity: string;
  roles: string[];
  workerSid: string | null;
  expiresAt: number;
  realmUserId: string;
}

export interface IamState {
  tokens: Map<string, FlexTokenRecord>;
}

export function createIamState(_emu: Emulator): IamState {
  return { tokens: new Map() };
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** `alice_40example_2Ecom` → `alice@example.com`: Flex escapes each non-alphanumeric byte as `_` + two hex digits. */
export function unescapeFlexIdentity(identity: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < identity.length; i++) {
    const hex = identity.slice(i + 1, i + 3);
    if (identity[i] === '_' && /^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(identity[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Mints an opaque Flex token that only this emulator's IAM validate will accept: a compact JWE's five segments
 * (protected header, encrypted key, IV, ciphertext, tag); the header's content is unconfirmed, the rest random.
 */
export function mintFlexToken(
  emu: Emulator,
  input: { identity: string; roles: string[]; workerSid: string | null; ttlSeconds: number; realmUserId?: string },
): { token: string; expiration: string } {
  const expiresAt = emu.clock.now() + input.ttlSeconds * 1000;
  const header = base64url(JSON.stringify({ kid: newSid('TK'), alg: 'dir', enc: 'A256GCM', zip: 'DEF' }));
  const segments = [header, '', base64url(randomBytes(12)), base64url(randomBytes(96)), base64url(randomBytes(16))];
  const token = segments.join('.');
  emu.state.iam.tokens.set(token, {
    identity: input.identity,
    roles: input.roles,
    workerSid: input.workerSid,
    expiresAt,
    realmUserId: input.realmUserId ?? unescapeFlexIdentity(input.identity),
  });
  return { token, expiration: isoDate(expiresAt) };
}

const REFUSAL = { valid: false, expiration: null, realm_user_id: null, identity: null, roles: null, worker_sid: null };

export function registerIam(router: Router, emu: Emulator): void {
  router.add('iam', 'POST', '/v1/Accounts/:AccountSid/Tokens/validate', (req) => {
    if (req.params.AccountSid !== emu.config.accountSid) {
      throw notFound(20404, `The requested resource /Accounts/${req.params.AccountSid}/Tokens/validate was not found`);
    }
    const body = (req.json ?? {}) as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : req.form.get('token');
    if (!token) throw badRequest('Missing required parameter token');
    const record = emu.state.iam.tokens.get(token);
    if (!record) return { status: 200, body: { code: 20101, message: 'Invalid Access Token', ...REFUSAL } };
    if (record.expiresAt <= emu.clock.now()) {
      return {
        status: 200,
        body: { code: 20104, message: 'Access Token expired or expiration date invalid', ...REFUSAL },
      };
    }
    return {
      status: 200,
      body: {
        valid: true,
        code: 0,
        message: null,
        // With milliseconds, as the validator's fixture; answers without them exist too (clients parse both).
        expiration: new Date(record.expiresAt).toISOString(),
        realm_user_id: record.realmUserId,
        identity: record.identity,
        roles: record.roles,
        worker_sid: record.workerSid,
      },
    };
  });
}
