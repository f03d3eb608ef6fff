/** Counts of the Sync client endpoint, part of GET /__admin/stats (`syncClient`). */
export interface SyncClientStats {
  /** Sockets accepted, ever, and open now. */
  connections: number;
  open: number;
  /** Sessions whose `init` was accepted. */
  initialized: number;
  messagesIn: number;
  messagesOut: number;
  /** Tunnelled requests, and by method and path shape. */
  requests: number;
  byRequest: Record<string, number>;
  /** Operations refused by map permissions (403 / 54007), requests or subscriptions. */
  denials: number;
  /** Tokens refused at `init` or `update`. */
  refusals: number;
  tokenUpdates: number;
  expiryWarnings: number;
  /** Sessions closed with 410 at their token's `exp`. */
  expired: number;
  eventsDelivered: number;
  /** Frames that could not be read, or named an unknown method. */
  badFrames: number;
  /** Upgrade requests refused (wrong path) and sockets closed for never sending `init`. */
  rejectedUpgrades: number;
}

export function emptySyncClientStats(): SyncClientStats {
  return {
    connections: 0,
    open: 0,
    initialized: 0,
    messagesIn: 0,
    messagesOut: 0,
    requests: 0,
    byRequest: {},
    denials: 0,
    refusals: 0,
    tokenUpdates: 0,
    expiryWarnings: 0,
    expired: 0,
    eventsDelivered: 0,
    badFrames: 0,
    rejectedUpgrades: 0,
  };
}
