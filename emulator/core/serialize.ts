/**
 * Serializes an answer's JSON body. A list page's items go in chunks, yielding to the event loop between chunks:
 * Twilio serves a 1,000-item page (3 MB of events) and the requests in flight beside it in parallel, and the emulator
 * must not hold every other answer up for the tens of milliseconds one big page takes to serialize.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Items serialized between two yields. */
const CHUNK_ITEMS = 100;

/** The own array property holding a page's items, when it is long enough to be worth chunking. */
function itemsKey(body: object): string | undefined {
  if (Array.isArray(body)) return undefined;
  return Object.keys(body).find((key) => {
    const value = (body as Record<string, unknown>)[key];
    return Array.isArray(value) && value.length > CHUNK_ITEMS;
  });
}

/** The same text as JSON.stringify(body). */
export async function serializeBody(body: unknown): Promise<string> {
  if (body === null || typeof body !== 'object') return JSON.stringify(body);
  const key = itemsKey(body);
  if (key === undefined) return JSON.stringify(body);
  const items = (body as Record<string, unknown[]>)[key];
  const chunks: string[] = [];
  for (let i = 0; i < items.length; i += CHUNK_ITEMS) {
    // JSON.stringify of an array writes null for undefined items (and for functions): keep that.
    chunks.push(JSON.stringify(items.slice(i, i + CHUNK_ITEMS)).slice(1, -1));
    await yieldToEventLoop();
  }
  // The frame with a marker no value can hold in the items' place (a fresh UUID each time).
  const marker = JSON.stringify(`items-${randomUUID()}`);
  const frame = JSON.stringify({ ...body, [key]: JSON.parse(marker) });
  return frame.replace(marker, () => `[${chunks.filter((c) => c !== '').join(',')}]`);
}
