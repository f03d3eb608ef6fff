/**
 * The Sync backend ("CDS") routes a twilio-sync client reaches through the socket's tunnelled requests, for maps:
 * what `twilio-sync/dist/client.js`, `syncmap.js` and `subscriptions.js` (4.0.1) send, answered from the same store as
 * the REST family. Permissions: with ACLs on, every operation checks the Map Permission of the token's identity
 * (read: open and list; write: put, update and remove items; manage: remove the map), per
 * https://www.twilio.com/docs/sync/api/sync-map-permission-resource; a refusal is 403 / 54007
 * (https://www.twilio.com/docs/api/errors/54007).
 */
import { isoDate } from '../core/clock';
import { TwilioError } from '../core/errors';
import { newSid } from '../core/sids';
import { notifySyncChange, type SyncMap, type SyncMapItem, type SyncService } from '../families/sync';
import type { Emulator } from '../server';
import type { MapEvents } from './map-events';

/** Every URL the endpoint prints starts here: the SDK's default `cdsUri` (twilio-sync/dist/configuration.js). */
export const CDS_BASE = 'https://cds.us1.twilio.com';

const MAX_DATA_BYTES = 16 * 1024;
const MAX_TTL_SECONDS = 31_536_000;
const MAX_KEY_LENGTH = 320;
/** "PageSize between 100 and 1000 returns at most 100 items" (twilio-sync/dist/syncmap.js, queryItems docs). */
const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

export interface CdsRequest {
  method: string;
  path: string;
  /** The query, decoded. */
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export interface CdsResponse {
  status: number;
  body?: unknown;
}

export interface ClientIdentity {
  identity: string;
  serviceSid: string;
}

export type Permission = 'read' | 'write' | 'manage';

const forbidden = () => new TwilioError(403, 54007, 'Access forbidden for identity');
const badRequest = (message: string, code = 54008) => new TwilioError(400, code, message);

export function mapUrl(map: SyncMap): string {
  return `${CDS_BASE}/v3/Maps/${map.sid}`;
}

export function itemUrl(map: SyncMap, key: string): string {
  return `${mapUrl(map)}/Items/${encodeURIComponent(key)}`;
}

/** Whether `who` may do `what` on `map` (ACLs off: everything). */
export function allowed(service: SyncService, map: SyncMap, who: ClientIdentity, what: Permission): boolean {
  if (!service.aclEnabled) return true;
  const permission = map.permissions.get(who.identity);
  return permission !== undefined && permission[what];
}

function ttlFrom(body: Record<string, unknown>): number | undefined {
  const ttl = body.ttl;
  if (ttl === undefined || ttl === null) return undefined;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
    throw new TwilioError(400, 54011, `Invalid ttl: must be an integer from 0 to ${MAX_TTL_SECONDS} seconds`);
  }
  return ttl;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('Body must be a JSON object', 20001);
  return body as Record<string, unknown>;
}

export class CdsRoutes {
  constructor(
    private readonly emu: Emulator,
    private readonly events: MapEvents,
  ) {}

  private now(): number {
    return this.emu.clock.now();
  }

  private service(who: ClientIdentity): SyncService {
    const service = this.emu.state.sync.services.get(who.serviceSid);
    if (!service) throw new TwilioError(404, 20404, `Service ${who.serviceSid} not found`);
    return service;
  }

  /** A map by SID or unique name, still there and not past its sweep (expired maps stay readable until swept, as REST). */
  findMap(service: SyncService, id: string): SyncMap | undefined {
    return service.maps.find(id);
  }

  private map(service: SyncService, id: string, who: ClientIdentity, what: Permission): SyncMap {
    const map = this.findMap(service, id);
    if (!map) throw new TwilioError(404, 54100, `Map ${id} not found`);
    if (!allowed(service, map, who, what)) throw forbidden();
    return map;
  }

  descriptor(map: SyncMap) {
    return {
      sid: map.sid,
      unique_name: map.uniqueName,
      url: mapUrl(map),
      links: { items: `${mapUrl(map)}/Items` },
      revision: String(map.revision),
      last_event_id: this.events.lastEventId(map),
      date_created: isoDate(map.dateCreated),
      date_updated: isoDate(map.dateUpdated),
      date_expires: map.dateExpires === null ? null : isoDate(map.dateExpires),
    };
  }

  private itemDescriptor(map: SyncMap, item: SyncMapItem, withData: boolean) {
    return {
      key: item.key,
      url: itemUrl(map, item.key),
      revision: String(item.revision),
      last_event_id: this.events.itemEventId(item),
      ...(withData ? { data: item.data } : {}),
      date_created: isoDate(item.dateCreated),
      date_updated: isoDate(item.dateUpdated),
      date_expires: item.dateExpires === null ? null : isoDate(item.dateExpires),
    };
  }

  handle(req: CdsRequest, who: ClientIdentity): CdsResponse {
    const segments = req.path
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
    const [version, collection, id, sub, key, extra] = segments;
    if (version === 'v4' && collection === 'Subscriptions' && segments.length === 2) {
      throw new TwilioError(500, 20500, 'subscriptions are handled by the session');
    }
    if (version !== 'v3' || collection !== 'Maps' || extra !== undefined || (sub !== undefined && sub !== 'Items')) {
      // Documents, lists and streams are not emulated (unconfirmed: the live service's answer is a real one).
      throw new TwilioError(404, 20404, `The requested resource ${req.path} was not found`);
    }
    const service = this.service(who);
    const m = req.method;
    if (id === undefined) {
      if (m === 'POST') return this.createMap(service, objectBody(req.body), who);
    } else if (sub === undefined) {
      if (m === 'GET') return { status: 200, body: this.descriptor(this.map(service, id, who, 'read')) };
      if (m === 'POST') return this.setMapTtl(service, id, objectBody(req.body), who);
      if (m === 'DELETE') return this.removeMap(service, id, who);
    } else if (key === undefined) {
      if (m === 'GET') return this.listItems(service, id, req.query, who);
    } else {
      if (m === 'PUT') return this.putItem(service, id, key, objectBody(req.body), req.headers, who);
      if (m === 'POST') return this.setItemTtl(service, id, key, objectBody(req.body), who);
      if (m === 'DELETE') return this.removeItem(service, id, key, req.headers, who);
    }
    throw new TwilioError(405, 20004, `Method ${m} not allowed`);
  }

  private createMap(service: SyncService, body: Record<string, unknown>, who: ClientIdentity): CdsResponse {
    // With ACLs on, a client cannot create maps here: the job creates them and grants access (unconfirmed for the
    // live service, which documents no create permission).
    if (service.aclEnabled) throw forbidden();
    const uniqueName = body.unique_name === undefined || body.unique_name === null ? null : body.unique_name;
    if (
      uniqueName !== null &&
      (typeof uniqueName !== 'string' || uniqueName.length > 320 || /^[A-Z]{2}[0-9a-f]{32}$/.test(uniqueName))
    ) {
      throw new TwilioError(400, 54302, 'Invalid unique name');
    }
    if (uniqueName !== null && this.findMap(service, uniqueName)) {
      throw new TwilioError(409, 54301, `Unique name already exists: ${uniqueName}`);
    }
    const ttl = ttlFrom(body);
    const now = this.now();
    const map: SyncMap = {
      sid: newSid('MP'),
      uniqueName,
      revision: 0,
      dateCreated: now,
      dateUpdated: now,
      dateExpires: ttl ? now + ttl * 1000 : null,
      items: new Map(),
      permissions: new Map(),
    };
    service.maps.set(map.sid, map);
    void who;
    return { status: 201, body: this.descriptor(map) };
  }

  private setMapTtl(service: SyncService, id: string, body: Record<string, unknown>, who: ClientIdentity): CdsResponse {
    const map = this.map(service, id, who, 'write');
    const ttl = ttlFrom(body);
    const now = this.now();
    if (ttl !== undefined) map.dateExpires = ttl === 0 ? null : now + ttl * 1000;
    map.revision += 1;
    map.dateUpdated = now;
    return { status: 200, body: this.descriptor(map) };
  }

  private removeMap(service: SyncService, id: string, who: ClientIdentity): CdsResponse {
    const map = this.map(service, id, who, 'manage');
    service.maps.delete(map.sid);
    this.emu.limiter.forget(`map:${map.sid}`);
    notifySyncChange(this.emu, { kind: 'map_removed', service, map });
    return { status: 204 };
  }

  /** `GET …/Items?HideExpired&Key|PageToken|From&PageSize&Order`, in key order, `meta.{previous,next}_token`. */
  private listItems(service: SyncService, id: string, query: URLSearchParams, who: ClientIdentity): CdsResponse {
    const map = this.map(service, id, who, 'read');
    const hideExpired = /^true$/i.test(query.get('HideExpired') ?? '');
    const now = this.now();
    const visible = (i: SyncMapItem) => !hideExpired || i.dateExpires === null || i.dateExpires > now;
    const key = query.get('Key');
    if (key !== null) {
      const item = map.items.get(key);
      const items = item && visible(item) ? [this.itemDescriptor(map, item, true)] : [];
      return { status: 200, body: { items, meta: { previous_token: null, next_token: null } } };
    }
    let order = query.get('Order') ?? 'asc';
    let from = query.get('From');
    const token = query.get('PageToken');
    if (token !== null) {
      const decoded = decodePageToken(token);
      order = decoded.order;
      from = decoded.from;
    }
    if (order !== 'asc' && order !== 'desc') throw badRequest('Invalid Order: must be asc or desc', 20001);
    const rawSize = query.get('PageSize');
    const pageSize = rawSize === null ? DEFAULT_PAGE_SIZE : Number(rawSize);
    if (!Number.isInteger(pageSize) || pageSize < 1) throw badRequest(`Invalid PageSize: ${rawSize}`, 20001);
    const size = Math.min(pageSize, MAX_PAGE_SIZE);

    const sorted = [...map.items.values()].filter(visible).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (order === 'desc') sorted.reverse();
    // From is inclusive (the SDK skips the repeated key itself when it pages on).
    const start = from === null ? 0 : sorted.findIndex((i) => (order === 'asc' ? i.key >= from! : i.key <= from!));
    const first = start < 0 ? sorted.length : start;
    const page = sorted.slice(first, first + size);
    const last = page[page.length - 1];
    const hasNext = first + size < sorted.length;
    const hasPrevious = first > 0;
    return {
      status: 200,
      body: {
        items: page.map((i) => this.itemDescriptor(map, i, true)),
        meta: {
          previous_token: hasPrevious
            ? encodePageToken({ order: order === 'asc' ? 'desc' : 'asc', from: sorted[first - 1].key })
            : null,
          next_token: hasNext && last ? encodePageToken({ order, from: sorted[first + size].key }) : null,
        },
      },
    };
  }

  private item(map: SyncMap, key: string): SyncMapItem {
    const item = map.items.get(key);
    if (!item) throw new TwilioError(404, 54201, 'Item not found');
    return item;
  }

  private limitWrite(map: SyncMap): void {
    if (!this.emu.limiter.take(`map:${map.sid}`)) throw new TwilioError(429, 54009, 'Rate limit exceeded');
  }

  private putItem(
    service: SyncService,
    id: string,
    key: string,
    body: Record<string, unknown>,
    headers: Record<string, string>,
    who: ClientIdentity,
  ): CdsResponse {
    const map = this.map(service, id, who, 'write');
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f]/.test(key)) {
      throw new TwilioError(400, 54209, 'Invalid item key');
    }
    const data = body.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw badRequest('Invalid data: must be a JSON object');
    if (Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) {
      throw new TwilioError(413, 54006, 'Maximum Sync data size exceeded: data must be at most 16 KiB');
    }
    const ttl = ttlFrom(body);
    const existing = map.items.get(key);
    const ifMatch = headers['If-Match'] ?? headers['if-match'];
    // If-Match "-1" is "only if it does not exist" (twilio-sync/dist/syncmap.js _putItemWithIfMatch).
    if (ifMatch !== undefined && ifMatch !== '*') {
      const expected = existing ? String(existing.revision) : '-1';
      if (String(ifMatch) !== expected) {
        throw new TwilioError(412, 54205, 'The revision of the object does not match the If-Match header');
      }
    }
    this.limitWrite(map);
    const now = this.now();
    let item: SyncMapItem;
    if (existing) {
      item = existing;
      item.data = data as Record<string, unknown>;
      item.revision += 1;
      item.dateUpdated = now;
      if (ttl !== undefined) item.dateExpires = ttl === 0 ? null : now + ttl * 1000;
    } else {
      item = {
        key,
        data: data as Record<string, unknown>,
        revision: 0,
        dateCreated: now,
        dateUpdated: now,
        dateExpires: ttl ? now + ttl * 1000 : null,
      };
      map.items.set(key, item);
    }
    notifySyncChange(this.emu, { kind: existing ? 'item_updated' : 'item_added', service, map, item });
    // The answer carries no data (the SDK puts its own copy back: syncmap.js _putItemToServer).
    return { status: existing ? 200 : 201, body: this.itemDescriptor(map, item, false) };
  }

  private setItemTtl(
    service: SyncService,
    id: string,
    key: string,
    body: Record<string, unknown>,
    who: ClientIdentity,
  ): CdsResponse {
    const map = this.map(service, id, who, 'write');
    const item = this.item(map, key);
    const ttl = ttlFrom(body);
    this.limitWrite(map);
    const now = this.now();
    if (ttl !== undefined) item.dateExpires = ttl === 0 ? null : now + ttl * 1000;
    item.revision += 1;
    item.dateUpdated = now;
    notifySyncChange(this.emu, { kind: 'item_updated', service, map, item });
    return { status: 200, body: this.itemDescriptor(map, item, false) };
  }

  private removeItem(
    service: SyncService,
    id: string,
    key: string,
    headers: Record<string, string>,
    who: ClientIdentity,
  ): CdsResponse {
    const map = this.map(service, id, who, 'write');
    const item = this.item(map, key);
    const ifMatch = headers['If-Match'] ?? headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== '*' && String(ifMatch) !== String(item.revision)) {
      throw new TwilioError(412, 54205, 'The revision of the object does not match the If-Match header');
    }
    this.limitWrite(map);
    map.items.delete(key);
    notifySyncChange(this.emu, { kind: 'item_removed', service, map, item });
    // The SDK reads last_event_id and date_updated from this answer (syncmap.js remove).
    return {
      status: 200,
      body: { key, last_event_id: this.events.lastEventId(map), date_updated: isoDate(this.now()) },
    };
  }
}

interface PageToken {
  order: 'asc' | 'desc';
  from: string;
}

function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodePageToken(raw: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageToken;
    if ((token.order === 'asc' || token.order === 'desc') && typeof token.from === 'string') return token;
  } catch {
    // fall through
  }
  throw new TwilioError(400, 20001, 'Invalid PageToken');
}
