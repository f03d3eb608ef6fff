import { randomBytes } from 'node:crypto';

/** A Twilio-shaped SID: two-letter prefix and 32 lowercase hex digits. */
export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

export function isSid(value: string, prefix: string): boolean {
  return new RegExp(`^${prefix}[0-9a-f]{32}$`).test(value);
}
