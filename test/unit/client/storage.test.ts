/** Storage fallbacks for the token cache. */
import { defaultStorage, memoryStorage, safeStorage } from '../../../src/client/storage';
import { FakeStorage } from './fakes';

describe('storage', () => {
  it('memoryStorage keeps values per instance', () => {
    const a = memoryStorage();
    const b = memoryStorage();
    a.setItem('k', 'v');
    expect(a.getItem('k')).toBe('v');
    expect(b.getItem('k')).toBeNull();
    a.removeItem('k');
    expect(a.getItem('k')).toBeNull();
  });

  it('defaultStorage uses sessionStorage when it accepts writes, else memory', () => {
    const g = globalThis as { sessionStorage?: unknown };
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'sessionStorage');
    try {
      const session = new FakeStorage();
      Object.defineProperty(globalThis, 'sessionStorage', { value: session, configurable: true });
      expect(defaultStorage()).toBe(session);
      expect(session.values.size).toBe(0); // the probe is removed

      session.refuseWrites = true;
      const fallback = defaultStorage();
      expect(fallback).not.toBe(session);
      fallback.setItem('k', 'v');
      expect(fallback.getItem('k')).toBe('v');

      Object.defineProperty(globalThis, 'sessionStorage', {
        get() {
          throw new Error('SecurityError');
        },
        configurable: true,
      });
      expect(defaultStorage().getItem('anything')).toBeNull();
    } finally {
      if (saved) Object.defineProperty(globalThis, 'sessionStorage', saved);
      else delete g.sessionStorage;
    }
  });

  it('safeStorage turns refusals into misses', () => {
    const inner = new FakeStorage();
    inner.refuseReads = true;
    inner.refuseWrites = true;
    const safe = safeStorage(inner);
    expect(() => safe.setItem('k', 'v')).not.toThrow();
    expect(safe.getItem('k')).toBeNull();
    expect(() => safe.removeItem('k')).not.toThrow();
  });
});
