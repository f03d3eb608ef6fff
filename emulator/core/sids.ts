import { randomBytes } from 'node:crypto';

/** A Twilio-shaped SID: two-letter prefix and 32 lowercase hex digits. */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}
