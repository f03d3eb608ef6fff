/**
 * The data of one item in an agent's recent-calls map (key: the call SID), shared by the job that writes it, the
 * reader and the browser client. No imports, so browser code can use the type without server-side modules.
 */
export interface RecentCallItem {
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
