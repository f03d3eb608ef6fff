/**
 * IAM: `POST /v1/Accounts/{AccountSid}/Tokens/validate`, the call twilio-flex-token-validator makes, answering for the
 * Flex tokens minted through the admin API. Invalid and expired tokens get HTTP 200 with `valid: false`, the most
 * likely real answer; clients must treat anything but `valid: true` as a refusal.
 */
import { randomBytes } from 'node:crypto';
import { isoDate } from '../core/clock';
import { badRequest, TwilioError } from '../core/errors';
import type { Router } from '../core/router';
import { newSid } from '../core/sids';
import type { Emulator } from '../server';

export interface FlexTokenRecord {
  identity: string;
  roles: string[];
  workerSid: string | null;
  expiresAt: number;
  realmUserId: string;
  flexUserSid: string;
}

export interface IamState {
  tokens: Map<string, FlexTokenRecord>;
  flexInstanceSid: string;
}

export function createIamState(_emu: Emulator): IamState {
  return { tokens: new Map(), flexInstanceSid: 'GO00000000000000000000000000000001' };
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Mints an opaque, JWT-shaped Flex token that only this emulator's IAM validate will accept. */
export function mintFlexToken(
  emu: Emulator,
  input: { identity: string; roles: string[]; workerSid: string | null; ttlSeconds: number },
): { token: string; expiration: string } {
  const expiresAt = emu.clock.now() + input.ttlSeconds * 1000;
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ jti: newSid('TK'), exp: Math.floor(expiresAt / 1000) }));
  const token = `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
  emu.state.iam.tokens.set(token, {
    identity: input.identity,
    roles: input.roles,
    workerSid: input.workerSid,
    expiresAt,
    realmUserId: input.identity,
    flexUserSid: newSid('FU'),
  });
  return { token, expiration: isoDate(expiresAt) };
}

export function registerIam(router: Router, emu: Emulator): void {
  router.add('iam', 'POST', '/v1/Accounts/:AccountSid/Tokens/validate', (req) => {
    if (req.params.AccountSid !== emu.config.accountSid) {
      throw new TwilioError(401, 20003, 'Authentication Error - invalid username');
    }
    const body = (req.json ?? {}) as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : req.form.get('token');
    if (!token) throw badRequest('Missing required parameter token');
    const record = emu.state.iam.tokens.get(token);
    if (!record) return { status: 200, body: { valid: false, code: 20101, message: 'Invalid Access Token' } };
    if (record.expiresAt <= emu.clock.now()) {
      return { status: 200, body: { valid: false, code: 20104, message: 'Access Token expired or expiration date invalid' } };
    }
    return {
      status: 200,
      body: {
        valid: true,
        code: 0,
        message: null,
        expiration: isoDate(record.expiresAt),
        realm_user_id: record.realmUserId,
        identity: record.identity,
        roles: record.roles,
        ...(record.workerSid ? { worker_sid: record.workerSid } : {}),
        flex_instance_sid: emu.state.iam.flexInstanceSid,
        flex_user_sid: record.flexUserSid,
      },
    };
  });
}
