/**
 * The identity a signed server request names (`Identity`). The signer holds the auth token, so it may choose the
 * identity, but the value still has to be a sane Access Token identity: printable ASCII (space to ~), no leading or
 * trailing blanks, 1 to 121 characters.
 */
import { HttpError } from '../http/errors';
import { SYNC_TOKEN_ERRORS } from './errors';

export const MAX_IDENTITY_LENGTH = 121;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

export function validateIdentity(value: unknown): string {
  const refuse = (why: string) => new HttpError(400, SYNC_TOKEN_ERRORS.IDENTITY_INVALID, `Identity ${why}`);
  if (value === undefined || value === null || value === '') throw refuse('is required in a signed request');
  if (typeof value !== 'string') throw refuse('must be a string');
  if (value.length > MAX_IDENTITY_LENGTH) throw refuse(`must be at most ${MAX_IDENTITY_LENGTH} characters`);
  if (!PRINTABLE_ASCII.test(value)) throw refuse('must be printable ASCII');
  if (value.trim() !== value) throw refuse('must not start or end with a space');
  return value;
}
