/** The emulator's answer serializer: JSON.stringify's text, with a big page's items serialized between yields. */
import fc from 'fast-check';
import { serializeBody } from '../../emulator/core/serialize';

describe('serializeBody', () => {
  it('writes exactly what JSON.stringify writes, for pages of any length and any JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Long enough to be chunked (more than 100 items) as often as not.
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 450, size: 'max' }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
        fc.constantFrom('events', 'calls', 'items'),
        async (items, extra, key) => {
          const body = { ...extra, [key]: items, meta: { key, next_page_url: null } };
          expect(await serializeBody(body)).toBe(JSON.stringify(body));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps JSON.stringify’s null for undefined items, and serializes scalars and bare arrays as it does', async () => {
    const sparse = { items: Array.from({ length: 250 }, (_, i) => (i % 7 === 0 ? undefined : { i })) };
    expect(await serializeBody(sparse)).toBe(JSON.stringify(sparse));
    for (const value of [null, 3, 'x', [1, 2], Array.from({ length: 300 }, (_, i) => i)]) {
      expect(await serializeBody(value)).toBe(JSON.stringify(value));
    }
  });

  it('lets other work run while a 1,000-item page is serialized', async () => {
    const page = { events: Array.from({ length: 1000 }, (_, i) => ({ sid: `EV${i}`, data: 'x'.repeat(200) })) };
    let ranMeanwhile = false;
    setImmediate(() => {
      ranMeanwhile = true;
    });
    let doneFirst = false;
    const serialized = serializeBody(page).then((text) => {
      doneFirst = !ranMeanwhile;
      return text;
    });
    expect(JSON.parse(await serialized)).toEqual(page);
    expect(ranMeanwhile).toBe(true);
    expect(doneFirst).toBe(false);
  });
});
