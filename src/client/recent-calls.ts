/**
 * What an agent's recent-calls map holds, for code that reads it in the browser. Map naming: see
 * `recentCallsMapName` (src/recent-calls/map-name.ts, re-exported by the client).
 *
 * This mirrors `RecentCallItem` (src/recent-calls/call-record.ts) instead of importing it, so the client's types need
 * nothing from the server side (that file's imports reach the `twilio` package); a type test keeps the two equal.
 */
export interface RecentCallData {
  callSid: string;
  taskSid: string;
  direction: string;
  from: string;
  to: string;
  queue: string;
  /** ISO 8601 UTC. */
  startedAt: string;
  /** ISO 8601 UTC. */
  endedAt: string;
  durationSeconds: number;
}
