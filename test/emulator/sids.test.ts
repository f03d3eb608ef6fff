/** The emulator's SIDs: Twilio's shape, and no two alike across the random pool's refills. */
import { newSid } from '../../emulator/core/sids';

it('makes distinct SIDs of a prefix and 32 lowercase hex digits, across refills of its random pool', () => {
  const sids = Array.from({ length: 1000 }, () => newSid('CA'));
  for (const sid of sids) expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
  expect(new Set(sids).size).toBe(sids.length);
});
