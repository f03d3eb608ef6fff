import { randomBytes } from 'node:crypto';

/** Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 SIDs, not one per SID. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/** A Twilio-shaped SID: two-letter prefix and 32 lowercase hex digits. */
export function newSid(prefix: string): string {
  if (offset + 16 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  offset += 16;
  return prefix + pool.toString('hex', offset - 16, offset);
}
