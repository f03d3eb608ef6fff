/**
 * What an agent's recent-calls map holds, for code that reads it in the browser. Map naming: see
 * `recentCallsMapName` (src/recent-calls/map-name.ts, re-exported by the client).
 */
export type { RecentCallItem as RecentCallData } from '../recent-calls/recent-call-item';
