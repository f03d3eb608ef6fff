/**
 * The Flex plugin sample of docs/flex-plugin.md, as a file a test imports and runs against the emulator
 * (test/integration/client/sync-client.test.ts): an agent's newest recent calls through twilio-sync, live, with the token
 * kept fresh by attach(). A plugin passes Flex's manager; `syncClientOptions` is for local runs only (the emulator's
 * `twilsock.uri`): deployed plugins leave it out and the SDK uses Twilio's endpoint.
 */
import { SyncClient, type SyncMapItem } from 'twilio-sync';
import { createSyncTokenProvider, newestItems, recentCallsMapName, type RecentCallItem } from '..';

export interface FlexManagerLike {
  user: { token: string };
  workerClient?: { sid: string } | null;
}

export interface RecentCallsOptions {
  manager: FlexManagerLike;
  /** `https://<your-service>.twil.io/sync-token` */
  endpoint: string;
  /** Called with the newest calls (newest first) at start and after every change. */
  onCalls: (calls: RecentCallItem[]) => void;
  /** Told what keeps the view from updating: a token refused for good, or Sync refusing the session. */
  onProblem?: (message: string) => void;
  limit?: number;
  /** A map not there yet (no call synced) or not readable yet (403) is looked for again this often (ms). Default 60000. */
  mapRetryMs?: number;
  /** Local runs only: `{ twilsock: { uri: 'ws://127.0.0.1:3001/v3/wsconnect' } }`. */
  syncClientOptions?: Record<string, unknown>;
}

const byKeyDesc = (a: SyncMapItem, b: SyncMapItem) => (a.key < b.key ? 1 : -1);

/** Starts the live view; resolves with the function that stops it (on logout / unmount). */
export async function startRecentCalls(options: RecentCallsOptions): Promise<() => Promise<void>> {
  const { manager, endpoint, onCalls, limit = 20, mapRetryMs = 60_000 } = options;
  const onProblem = options.onProblem ?? (() => undefined);
  const workerSid = manager.workerClient?.sid;
  if (!workerSid) throw new Error('this Flex user has no TaskRouter worker');
  const tokens = createSyncTokenProvider({
    endpoint,
    getFlexToken: () => manager.user.token,
    // The failures that will not be retried are the ones to show; the others recover on their own.
    onError: (error, { willRetry }) => {
      if (!willRetry) onProblem(`Sync token: ${error.message} (${error.code})`);
    },
  });
  const { token } = await tokens.getToken();
  // A fresh options object per client: twilio-sync stores its socket in the one it is given.
  const client = new SyncClient(token, { ...(options.syncClientOptions ?? {}) });
  const detach = tokens.attach(client); // tokenAboutToExpire / tokenExpired -> fresh token -> updateToken
  client.on('connectionStateChanged', (state: string) => {
    if (state === 'denied' || state === 'error') onProblem(`Sync connection ${state}`);
  });
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const stop = async () => {
    stopped = true;
    clearTimeout(retry);
    detach();
    tokens.clear();
    await client.shutdown();
  };

  let items: SyncMapItem[] = [];
  const publish = () => onCalls(items.map((item) => item.data as RecentCallItem));
  const keep = (more: SyncMapItem[]) => {
    const byKey = new Map([...items, ...more].map((item) => [item.key, item]));
    items = [...byKey.values()].sort(byKeyDesc).slice(0, limit);
  };
  /**
   * Opens the agent's map, looking again later while it is not there (an agent with no call synced yet: its first
   * call creates it) or not readable yet (403: a run cut by its budget may leave a new map's grant to the next run).
   */
  const open = async (): Promise<void> => {
    let map;
    try {
      map = await client.map({ id: recentCallsMapName(workerSid), mode: 'open_existing' });
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status !== 404 && status !== 403) throw error;
      if (stopped) return;
      if (status === 403) onProblem('Sync map not readable yet (403): looking again');
      else publish(); // no calls yet
      retry = setTimeout(
        () => void open().catch((e: unknown) => stopped || onProblem(`Sync map: ${String(e)}`)),
        mapRetryMs,
      );
      return;
    }
    if (stopped) return;
    // Listening before the first read: a call synced while it is read is not lost.
    map.on('itemAdded', ({ item }: { item: SyncMapItem }) => {
      keep([item]);
      publish();
    });
    // Keys sort by time, so the newest calls are the first page in descending order: no whole-map read, no sort.
    // Expiry is judged by the browser's clock here; a page that knows the server's time passes that instead.
    keep(await newestItems(map, limit, Date.now()));
    publish();
  };
  try {
    await open();
  } catch (error) {
    await stop(); // nothing is left connected when the view cannot start
    throw error;
  }
  return stop;
}
