/**
 * The emulator's resource maps find a Sync map or document by SID or by unique name, and the name index follows
 * every change of the map: a property test against a plain scan over random sets, deletes and clears.
 */
import fc from 'fast-check';
import { NamedMap } from '../../emulator/core/named-map';

type Resource = { sid: string; uniqueName: string | null };

const scan = (all: Map<string, Resource>, id: string) =>
  all.get(id) ?? [...all.values()].find((r) => r.uniqueName === id);

const sid = fc.constantFrom('MP1', 'MP2', 'MP3', 'MP4');
const name = fc.option(fc.constantFrom('alice', 'bob', 'carol', 'MP2'), { nil: null });
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), sid, uniqueName: name }),
  fc.record({ kind: fc.constant('delete' as const), sid }),
  fc.record({ kind: fc.constant('clear' as const) }),
);

it('finds what a scan of its values finds, after any sets, deletes and clears', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const named = new NamedMap<Resource>();
      const plain = new Map<string, Resource>();
      for (const o of ops) {
        if (o.kind === 'set') {
          // Unique names are unique, as the emulator's create endpoints enforce (409 / 54301).
          const taken =
            o.uniqueName !== null && [...plain.values()].some((r) => r.uniqueName === o.uniqueName && r.sid !== o.sid);
          if (taken) continue;
          const resource = { sid: o.sid, uniqueName: o.uniqueName };
          named.set(o.sid, resource);
          plain.set(o.sid, resource);
        } else if (o.kind === 'delete') {
          expect(named.delete(o.sid)).toBe(plain.delete(o.sid));
        } else {
          named.clear();
          plain.clear();
        }
      }
      expect(named.size).toBe(plain.size);
      for (const id of ['MP1', 'MP2', 'MP3', 'MP4', 'alice', 'bob', 'carol', 'dave']) {
        expect(named.find(id)).toBe(scan(plain, id));
        const byName = [...plain.values()].find((r) => r.uniqueName === id);
        expect(named.byName(id)).toBe(byName);
      }
    }),
  );
});

it('refuses a second resource under a name another one holds (the create endpoints answer 409 first)', () => {
  const named = new NamedMap<Resource>();
  named.set('MP1', { sid: 'MP1', uniqueName: 'alice' });
  expect(() => named.set('MP2', { sid: 'MP2', uniqueName: 'alice' })).toThrow(/taken by MP1/);
  expect(named.find('alice')?.sid).toBe('MP1');
  named.set('MP1', { sid: 'MP1', uniqueName: 'alice' }); // the same resource again is no conflict
  expect(named.size).toBe(1);
});
