/**
 * The Sync client endpoint: `ws://<emulator>/v3/wsconnect`, the URL a twilio-sync client reaches with
 * `new SyncClient(token, { twilsock: { uri } })` (default `wss://tsock.us1.twilio.com/v3/wsconnect`,
 * twilsock/dist/configuration.js). It shares the Sync store with the REST family: every change, whoever makes it,
 * reaches subscribed clients as a live event.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { SyncChange } from '../families/sync';
import type { Emulator } from '../server';
import { CdsRoutes, itemUrl } from './cds';
import { MapEvents } from './map-events';
import { SyncClientSession } from './session';

export const SYNC_CLIENT_PATH = '/v3/wsconnect';
/** Larger frames close the socket (1009); real SDK frames are a few KiB (16 KiB data limit plus headers). */
const MAX_FRAME_BYTES = 256 * 1024;

export class SyncClientEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly sessions = new Set<SyncClientSession>();
  private events = new MapEvents();
  private cds: CdsRoutes;

  constructor(private readonly emu: Emulator) {
    this.cds = new CdsRoutes(emu, this.events);
    emu.syncListeners.push((change) => this.onChange(change));
    emu.clock.listeners.push(() => this.onClockMoved());
  }

  /** For the http server's `upgrade` event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://emulator.invalid').pathname;
    if (path !== SYNC_CLIENT_PATH) {
      this.emu.stats.syncClient.rejectedUpgrades += 1;
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stats = () => this.emu.stats.syncClient;
      stats().connections += 1;
      const session = new SyncClientSession(ws, {
        emu: this.emu,
        cds: this.cds,
        events: this.events,
        stats,
        warningSeconds: () => this.emu.config.tokenWarningSeconds,
        onClosed: (s) => {
          this.sessions.delete(s);
          stats().open = this.sessions.size;
        },
      });
      this.sessions.add(session);
      stats().open = this.sessions.size;
    });
  }

  /** Closes every session (emulator reset or shutdown): their maps and tokens are gone. */
  dropAll(): void {
    for (const session of [...this.sessions]) session.drop('reset');
    this.events = new MapEvents();
    this.cds = new CdsRoutes(this.emu, this.events);
  }

  private onChange(change: SyncChange): void {
    const event =
      change.kind === 'map_removed'
        ? this.events.record('map_removed', change.map, undefined, undefined)
        : this.events.record(`map_${change.kind}`, change.map, change.item, itemUrl(change.map, change.item.key));
    for (const session of this.sessions) {
      if (session.identity?.serviceSid === change.service.sid) session.deliver(change.map, event);
    }
  }

  private onClockMoved(): void {
    for (const session of this.sessions) session.scheduleLifetime();
  }
}
