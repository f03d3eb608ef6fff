/**
 * The data of one item in an agent's recent-calls map (key: the task's creation second and SID, see
 * src/recent-calls/item-key.ts), shared by the job that writes it, the reader and the browser client. No imports, so
 * browser code can use the type without server-side modules.
 */
export interface RecentCallItem {
  /** The customer leg; null for an outbound (dialpad) call whose leg could not be told apart in the Calls list. */
  callSid: string | null;
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
