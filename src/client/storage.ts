/**
 * Where the provider keeps its token: the Web Storage subset it needs, sessionStorage by default (per tab, gone when
 * the tab closes: the lifetime Twilio's best practices suggest), an in-memory stand-in where Web Storage is missing
 * or refused (sandboxed iframes, storage disabled, Safari private mode quotas, Node).
 */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A private in-memory storage (one per call). */
export function memoryStorage(): KeyValueStorage {
  const values = new Map<string, string>();
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => void values.set(key, String(value)),
    removeItem: (key) => void values.delete(key),
  };
}

const PROBE_KEY = '__flex_sync_client_probe__';

/** `sessionStorage` if it exists and accepts a write, else a fresh in-memory storage. */
export function defaultStorage(): KeyValueStorage {
  try {
    const candidate = (globalThis as { sessionStorage?: KeyValueStorage }).sessionStorage;
    if (candidate) {
      candidate.setItem(PROBE_KEY, '1');
      candidate.removeItem(PROBE_KEY);
      return candidate;
    }
  } catch {
    // Access or writes refused (SecurityError, QuotaExceededError): fall back to memory.
  }
  return memoryStorage();
}

/** Storage calls that never throw: a refused read is a miss, a refused write just leaves nothing cached. */
export function safeStorage(storage: KeyValueStorage): KeyValueStorage {
  return {
    getItem(key) {
      try {
        const value = storage.getItem(key);
        return typeof value === 'string' ? value : null;
      } catch {
        return null;
      }
    },
    setItem(key, value) {
      try {
        storage.setItem(key, value);
      } catch {
        // quota or security error: the next getToken() fetches again
      }
    },
    removeItem(key) {
      try {
        storage.removeItem(key);
      } catch {
        // nothing more we can do
      }
    },
  };
}
