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
  limit?: number;
  /** Local runs only: `{ twilsock: { uri: 'ws://127.0.0.1:3001/v3/wsconnect' } }`. */
  syncClientOptions?: Record<string, unknown>;
}

/** Starts the live view; resolves with the function that stops it (on logout / unmount). */
export async function startRecentCalls(options: RecentCallsOptions): Promise<() => Promise<void>> {
  const { manager, endpoint, onCalls, limit = 20 } = options;
  const tokens = createSyncTokenProvider({ endpoint, getFlexToken: () => manager.user.token });
  const { token } = await tokens.getToken();
  // A fresh options object per client: twilio-sync stores its socket in the one it is given.
  const client = new SyncClient(token, { ...(options.syncClientOptions ?? {}) });
  const detach = tokens.attach(client); // tokenAboutToExpire / tokenExpired -> fresh token -> updateToken

  const workerSid = manager.workerClient?.sid;
  if (!workerSid) throw new Error('this Flex user has no TaskRouter worker');
  const map = await client.map({ id: recentCallsMapName(workerSid), mode: 'open_existing' });
  // Keys sort by time, so the newest calls are the first page in descending order: no whole-map read, no sort.
  // Expiry is judged by the browser's clock here; a page that knows the server's time passes that instead.
  let items: SyncMapItem[] = await newestItems(map, limit, Date.now());
  const publish = () => onCalls(items.map((item) => item.data as RecentCallItem));
  map.on('itemAdded', ({ item }: { item: SyncMapItem }) => {
    items = [item, ...items.filter((i) => i.key !== item.key)].sort((a, b) => (a.key < b.key ? 1 : -1)).slice(0, limit);
    publish();
  });
  publish();

  return async () => {
    detach();
    tokens.clear();
    await client.shutdown();
  };
}
