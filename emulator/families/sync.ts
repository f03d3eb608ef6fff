/**
 * Sync v1: Services, Documents, Maps, Map Items and Map Permissions, with TTLs (eventual removal by a sweeper),
 * revisions and If-Match, the 16 KiB data limit and the per-object write rate limit.
 */
import { isoDate } from '../core/clock';
import { badRequest, notFound, TwilioError } from '../core/errors';
import { metaPage } from '../core/paging';
import type { EmuRequest, EmuResponse, Router } from '../core/router';
import { NamedMap } from '../core/named-map';
import { newSid } from '../core/sids';
import type { Emulator } from '../server';

const MAX_DATA_BYTES = 16 * 1024;
const SLOW_OBJECT_BYTES = 10 * 1024;
const MAX_TTL_SECONDS = 31_536_000;
/**
 * Item keys: the spec allows 320 characters, the 54209 error page says 1–256. The stricter one is modelled, so that a
 * key too long for either is caught here.
 */
const MAX_KEY_LENGTH = 256;
/** Unique names: 1–256 characters (error 54302). */
const MAX_UNIQUE_NAME_LENGTH = 256;
const SWEEP_EVERY_MS = 200;

interface Timestamps {
  dateCreated: number;
  dateUpdated: number;
  dateExpires: number | null;
  revision: number;
}

export interface SyncService {
  sid: string;
  uniqueName: string | null;
  friendlyName: string | null;
  aclEnabled: boolean;
  webhookUrl: string | null;
  webhooksFromRestEnabled: boolean;
  reachabilityWebhooksEnabled: boolean;
  reachabilityDebouncingEnabled: boolean;
  reachabilityDebouncingWindow: number;
  dateCreated: number;
  dateUpdated: number;
  documents: NamedMap<SyncDocument>;
  maps: NamedMap<SyncMap>;
}

export interface SyncDocument extends Timestamps {
  sid: string;
  uniqueName: string | null;
  data: Record<string, unknown>;
}

export interface SyncMapItem extends Timestamps {
  key: string;
  data: Record<string, unknown>;
}

export interface SyncPermission {
  identity: string;
  read: boolean;
  write: boolean;
  manage: boolean;
}

export interface SyncMap extends Timestamps {
  sid: string;
  uniqueName: string | null;
  items: Map<string, SyncMapItem>;
  permissions: Map<string, SyncPermission>;
}

/**
 * A change to a map or its items, told to every listener in `emu.syncListeners` whoever made it (REST, the Sync
 * client endpoint, the sweeper): the Sync client endpoint turns them into live events for subscribed clients.
 */
export type SyncChange =
  | { kind: 'item_added' | 'item_updated' | 'item_removed'; service: SyncService; map: SyncMap; item: SyncMapItem }
  | { kind: 'map_removed'; service: SyncService; map: SyncMap };

export function notifySyncChange(emu: Emulator, change: SyncChange): void {
  for (const listener of emu.syncListeners) listener(change);
}

export interface SyncState {
  services: Map<string, SyncService>;
  lastSweep: { realMs: number; clockMs: number };
}

export function createSyncState(emu: Emulator): SyncState {
  const state: SyncState = { services: new Map(), lastSweep: { realMs: 0, clockMs: 0 } };
  // The configured service starts as `npm run setup` leaves a real one: with ACLs enabled.
  const service = newService(emu, emu.config.syncServiceSid, {
    friendlyName: 'Flex Sync (emulator)',
    aclEnabled: true,
  });
  state.services.set(service.sid, service);
  return state;
}

function newService(emu: Emulator, sid: string, fields: Partial<SyncService> = {}): SyncService {
  const now = emu.clock.now();
  return {
    sid,
    uniqueName: null,
    friendlyName: null,
    aclEnabled: false,
    webhookUrl: null,
    webhooksFromRestEnabled: false,
    reachabilityWebhooksEnabled: false,
    reachabilityDebouncingEnabled: false,
    reachabilityDebouncingWindow: 5000,
    dateCreated: now,
    dateUpdated: now,
    documents: new NamedMap(),
    maps: new NamedMap(),
    ...fields,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Parameter parsing

function parseTtl(raw: string | null, name: string): number | undefined {
  if (raw === null || raw === '') return undefined;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
    // 54011 is documented; its HTTP status (400 here) is unconfirmed.
    throw new TwilioError(400, 54011, `Invalid ${name}: must be an integer from 0 to ${MAX_TTL_SECONDS} seconds`);
  }
  return ttl;
}

function parseData(raw: string | null, required: boolean): Record<string, unknown> | undefined {
  if (raw === null) {
    if (required) throw badRequest('Missing required parameter Data in the post body');
    return undefined;
  }
  if (Buffer.byteLength(raw, 'utf8') > MAX_DATA_BYTES) {
    // 54006 is documented; its HTTP status (413 here) is unconfirmed.
    throw new TwilioError(413, 54006, 'Maximum Sync data size exceeded: data must be at most 16 KiB');
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw badRequest('Invalid Data: must be a JSON object', 54008);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw badRequest('Invalid Data: must be a JSON object', 54008);
  }
  return data as Record<string, unknown>;
}

function parseBool(raw: string | null, name: string): boolean | undefined {
  if (raw === null) return undefined;
  if (/^true$/i.test(raw)) return true;
  if (/^false$/i.test(raw)) return false;
  throw badRequest(`Invalid ${name}: must be true or false`);
}

function parseUniqueName(raw: string | null): string | null {
  if (raw === null || raw === '') return null;
  // A SID-shaped name is refused (it would be ambiguous in URLs): unconfirmed, as is 54008 for data that is no object.
  if (raw.length > MAX_UNIQUE_NAME_LENGTH || /^(?:[A-Z]{2})[0-9a-f]{32}$/.test(raw)) {
    throw new TwilioError(400, 54302, 'Invalid unique name');
  }
  return raw;
}

function expiresAt(now: number, ttl: number | undefined, current: number | null): number | null {
  if (ttl === undefined) return current;
  return ttl === 0 ? null : now + ttl * 1000;
}

function checkIfMatch(req: EmuRequest, revision: number, code: number): void {
  const ifMatch = req.headers['if-match'];
  if (ifMatch === undefined || ifMatch === '*') return;
  if (String(ifMatch).replace(/"/g, '') !== String(revision)) {
    throw new TwilioError(412, code, 'The revision of the object does not match the If-Match header');
  }
}

function dataCost(data: Record<string, unknown> | undefined): number {
  return data && Buffer.byteLength(JSON.stringify(data)) > SLOW_OBJECT_BYTES ? 10 : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering (the JSON the real service answers)

function render(emu: Emulator) {
  const base = (req: EmuRequest) => `${req.baseUrl}/v1/Services`;
  return {
    service: (req: EmuRequest, s: SyncService) => {
      const url = `${base(req)}/${s.sid}`;
      return {
        sid: s.sid,
        unique_name: s.uniqueName,
        account_sid: emu.config.accountSid,
        friendly_name: s.friendlyName,
        date_created: isoDate(s.dateCreated),
        date_updated: isoDate(s.dateUpdated),
        url,
        webhook_url: s.webhookUrl,
        webhooks_from_rest_enabled: s.webhooksFromRestEnabled,
        reachability_webhooks_enabled: s.reachabilityWebhooksEnabled,
        acl_enabled: s.aclEnabled,
        reachability_debouncing_enabled: s.reachabilityDebouncingEnabled,
        reachability_debouncing_window: s.reachabilityDebouncingWindow,
        links: {
          documents: `${url}/Documents`,
          lists: `${url}/Lists`,
          maps: `${url}/Maps`,
          streams: `${url}/Streams`,
        },
      };
    },
    document: (req: EmuRequest, s: SyncService, d: SyncDocument) => {
      const url = `${base(req)}/${s.sid}/Documents/${d.sid}`;
      return {
        sid: d.sid,
        unique_name: d.uniqueName,
        account_sid: emu.config.accountSid,
        service_sid: s.sid,
        url,
        links: { permissions: `${url}/Permissions` },
        revision: String(d.revision),
        data: d.data,
        date_expires: d.dateExpires === null ? null : isoDate(d.dateExpires),
        date_created: isoDate(d.dateCreated),
        date_updated: isoDate(d.dateUpdated),
        created_by: 'system',
      };
    },
    map: (req: EmuRequest, s: SyncService, m: SyncMap) => {
      const url = `${base(req)}/${s.sid}/Maps/${m.sid}`;
      return {
        sid: m.sid,
        unique_name: m.uniqueName,
        account_sid: emu.config.accountSid,
        service_sid: s.sid,
        url,
        links: { items: `${url}/Items`, permissions: `${url}/Permissions` },
        revision: String(m.revision),
        date_expires: m.dateExpires === null ? null : isoDate(m.dateExpires),
        date_created: isoDate(m.dateCreated),
        date_updated: isoDate(m.dateUpdated),
        created_by: 'system',
      };
    },
    item: (req: EmuRequest, s: SyncService, m: SyncMap, i: SyncMapItem) => ({
      key: i.key,
      account_sid: emu.config.accountSid,
      service_sid: s.sid,
      map_sid: m.sid,
      url: `${base(req)}/${s.sid}/Maps/${m.sid}/Items/${encodeURIComponent(i.key)}`,
      revision: String(i.revision),
      data: i.data,
      date_expires: i.dateExpires === null ? null : isoDate(i.dateExpires),
      date_created: isoDate(i.dateCreated),
      date_updated: isoDate(i.dateUpdated),
      created_by: 'system',
    }),
    permission: (req: EmuRequest, s: SyncService, m: SyncMap, p: SyncPermission) => ({
      account_sid: emu.config.accountSid,
      service_sid: s.sid,
      map_sid: m.sid,
      identity: p.identity,
      read: p.read,
      write: p.write,
      manage: p.manage,
      url: `${base(req)}/${s.sid}/Maps/${m.sid}/Permissions/${encodeURIComponent(p.identity)}`,
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// TTL sweeper: removes objects some time after they expired, as the real service does eventually.

function sweep(emu: Emulator): void {
  const state = emu.state.sync;
  const realNow = performance.now();
  const clockNow = emu.clock.now();
  const clockJumped = Math.abs(clockNow - realNow - (state.lastSweep.clockMs - state.lastSweep.realMs)) > 1000;
  if (!clockJumped && realNow - state.lastSweep.realMs < SWEEP_EVERY_MS) return;
  state.lastSweep = { realMs: realNow, clockMs: clockNow };
  const cutoff = clockNow - emu.config.sweepLagSeconds * 1000;
  const gone = (t: Timestamps) => t.dateExpires !== null && t.dateExpires <= cutoff;
  for (const service of state.services.values()) {
    for (const [sid, doc] of service.documents) if (gone(doc)) service.documents.delete(sid);
    for (const [sid, map] of service.maps) {
      if (gone(map)) {
        service.maps.delete(sid);
        emu.limiter.forget(`map:${sid}`);
        notifySyncChange(emu, { kind: 'map_removed', service, map });
        continue;
      }
      for (const [key, item] of map.items) {
        if (!gone(item)) continue;
        map.items.delete(key);
        // Removal by TTL reaches subscribers as a removal (unconfirmed: the live service's event for it).
        notifySyncChange(emu, { kind: 'item_removed', service, map, item });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Routes

/** Official spec (twilio_sync_v1.json): every Sync list's PageSize has `maximum: 100`; more is refused. */
export const SYNC_MAX_PAGE_SIZE = 100;

function syncPage<T, R>(
  req: EmuRequest,
  key: string,
  all: readonly T[],
  render: (item: T) => R,
  filters: Record<string, string | undefined> = {},
) {
  const raw = req.query.get('PageSize');
  if (raw !== null && Number(raw) > SYNC_MAX_PAGE_SIZE) {
    throw badRequest(`Invalid PageSize: ${raw}, must be at most ${SYNC_MAX_PAGE_SIZE}`);
  }
  return metaPage(req, key, all, render, filters);
}

/** The revision as the ETag header (docs: If-Match takes the object's ETag); unconfirmed: unquoted, as revision. */
const etag = (revision: number) => ({ ETag: String(revision) });

export function registerSync(router: Router, emu: Emulator): void {
  const r = render(emu);
  const add = (method: string, pattern: string, handler: (req: EmuRequest) => EmuResponse) =>
    router.add('sync', method, pattern, handler);
  emu.beforeRequest.push(() => sweep(emu));

  const service = (req: EmuRequest): SyncService => {
    const sid = req.params.ServiceSid;
    const found =
      emu.state.sync.services.get(sid) ?? [...emu.state.sync.services.values()].find((s) => s.uniqueName === sid);
    if (!found) throw notFound(20404, `Service ${sid} not found`);
    return found;
  };
  const map = (req: EmuRequest, s: SyncService): SyncMap => {
    const found = s.maps.find(req.params.MapSid);
    if (!found) throw notFound(20404, `Map ${req.params.MapSid} not found`);
    return found;
  };
  const document = (req: EmuRequest, s: SyncService): SyncDocument => {
    const found = s.documents.find(req.params.DocumentSid);
    if (!found) throw notFound(20404, `Document ${req.params.DocumentSid} not found`);
    return found;
  };
  // Whether Sync's 429 carries Retry-After is unconfirmed: none is sent here (the project's clients back off anyway).
  const limitWrite = (objectSid: string, cost = 1) => {
    if (!emu.limiter.take(`map:${objectSid}`, cost)) throw new TwilioError(429, 54009, 'Rate limit exceeded');
  };
  const limitRead = (objectSid: string) => {
    if (!emu.readLimiter.take(`read:${objectSid}`)) throw new TwilioError(429, 54009, 'Rate limit exceeded');
  };
  const limitPermission = (mapSid: string) => {
    if (!emu.permissionLimiter.take(`permission:${mapSid}`)) throw new TwilioError(429, 54009, 'Rate limit exceeded');
  };
  const ensureUniqueName = (all: NamedMap<{ uniqueName: string | null }>, name: string | null) => {
    if (name !== null && all.byName(name) !== undefined) {
      throw new TwilioError(409, 54301, `Unique name already exists: ${name}`);
    }
  };

  // Services
  add('POST', '/v1/Services', (req) => {
    const f = req.form;
    const s = newService(emu, newSid('IS'), {
      friendlyName: f.get('FriendlyName'),
      uniqueName: parseUniqueName(f.get('UniqueName')),
      aclEnabled: parseBool(f.get('AclEnabled'), 'AclEnabled') ?? false,
      webhookUrl: f.get('WebhookUrl'),
    });
    emu.state.sync.services.set(s.sid, s);
    return { status: 201, body: r.service(req, s) };
  });
  add('GET', '/v1/Services', (req) => ({
    status: 200,
    body: syncPage(req, 'services', [...emu.state.sync.services.values()], (s) => r.service(req, s)),
  }));
  add('GET', '/v1/Services/:ServiceSid', (req) => ({ status: 200, body: r.service(req, service(req)) }));
  add('POST', '/v1/Services/:ServiceSid', (req) => {
    const s = service(req);
    const f = req.form;
    if (f.has('FriendlyName')) s.friendlyName = f.get('FriendlyName');
    if (f.has('WebhookUrl')) s.webhookUrl = f.get('WebhookUrl') || null;
    s.aclEnabled = parseBool(f.get('AclEnabled'), 'AclEnabled') ?? s.aclEnabled;
    s.reachabilityWebhooksEnabled =
      parseBool(f.get('ReachabilityWebhooksEnabled'), 'ReachabilityWebhooksEnabled') ?? s.reachabilityWebhooksEnabled;
    s.webhooksFromRestEnabled =
      parseBool(f.get('WebhooksFromRestEnabled'), 'WebhooksFromRestEnabled') ?? s.webhooksFromRestEnabled;
    s.dateUpdated = emu.clock.now();
    return { status: 200, body: r.service(req, s) };
  });
  add('DELETE', '/v1/Services/:ServiceSid', (req) => {
    emu.state.sync.services.delete(service(req).sid);
    return { status: 204 };
  });

  // Documents
  add('POST', '/v1/Services/:ServiceSid/Documents', (req) => {
    const s = service(req);
    const uniqueName = parseUniqueName(req.form.get('UniqueName'));
    const data = parseData(req.form.get('Data'), false) ?? {};
    const ttl = parseTtl(req.form.get('Ttl'), 'Ttl');
    ensureUniqueName(s.documents, uniqueName);
    const now = emu.clock.now();
    const d: SyncDocument = {
      sid: newSid('ET'),
      uniqueName,
      data,
      revision: 0,
      dateCreated: now,
      dateUpdated: now,
      dateExpires: expiresAt(now, ttl, null),
    };
    limitWrite(d.sid, dataCost(data));
    s.documents.set(d.sid, d);
    return { status: 201, body: r.document(req, s, d), headers: etag(d.revision) };
  });
  add('GET', '/v1/Services/:ServiceSid/Documents', (req) => {
    const s = service(req);
    return { status: 200, body: syncPage(req, 'documents', [...s.documents.values()], (d) => r.document(req, s, d)) };
  });
  add('GET', '/v1/Services/:ServiceSid/Documents/:DocumentSid', (req) => {
    const s = service(req);
    const d = document(req, s);
    limitRead(d.sid);
    return { status: 200, body: r.document(req, s, d), headers: etag(d.revision) };
  });
  add('POST', '/v1/Services/:ServiceSid/Documents/:DocumentSid', (req) => {
    const s = service(req);
    const d = document(req, s);
    const data = parseData(req.form.get('Data'), false);
    const ttl = parseTtl(req.form.get('Ttl'), 'Ttl');
    checkIfMatch(req, d.revision, 54103);
    limitWrite(d.sid, dataCost(data ?? d.data));
    const now = emu.clock.now();
    if (data) d.data = data;
    d.dateExpires = expiresAt(now, ttl, d.dateExpires);
    d.revision += 1;
    d.dateUpdated = now;
    return { status: 200, body: r.document(req, s, d), headers: etag(d.revision) };
  });
  add('DELETE', '/v1/Services/:ServiceSid/Documents/:DocumentSid', (req) => {
    const s = service(req);
    const d = document(req, s);
    checkIfMatch(req, d.revision, 54103);
    s.documents.delete(d.sid);
    return { status: 204 };
  });

  // Maps
  /** Docs (Sync "objects-ttl"): when both are sent, CollectionTtl wins and Ttl is ignored. */
  const mapTtl = (req: EmuRequest) => {
    const ttl = parseTtl(req.form.get('Ttl'), 'Ttl');
    return parseTtl(req.form.get('CollectionTtl'), 'CollectionTtl') ?? ttl;
  };
  add('POST', '/v1/Services/:ServiceSid/Maps', (req) => {
    const s = service(req);
    const uniqueName = parseUniqueName(req.form.get('UniqueName'));
    const ttl = mapTtl(req);
    ensureUniqueName(s.maps, uniqueName);
    const now = emu.clock.now();
    const m: SyncMap = {
      sid: newSid('MP'),
      uniqueName,
      revision: 0,
      dateCreated: now,
      dateUpdated: now,
      dateExpires: expiresAt(now, ttl, null),
      items: new Map(),
      permissions: new Map(),
    };
    limitWrite(m.sid);
    s.maps.set(m.sid, m);
    return { status: 201, body: r.map(req, s, m), headers: etag(m.revision) };
  });
  add('GET', '/v1/Services/:ServiceSid/Maps', (req) => {
    const s = service(req);
    return { status: 200, body: syncPage(req, 'maps', [...s.maps.values()], (m) => r.map(req, s, m)) };
  });
  add('GET', '/v1/Services/:ServiceSid/Maps/:MapSid', (req) => {
    const s = service(req);
    const m = map(req, s);
    limitRead(m.sid);
    return { status: 200, body: r.map(req, s, m), headers: etag(m.revision) };
  });
  add('POST', '/v1/Services/:ServiceSid/Maps/:MapSid', (req) => {
    const s = service(req);
    const m = map(req, s);
    const ttl = mapTtl(req);
    limitWrite(m.sid);
    const now = emu.clock.now();
    m.dateExpires = expiresAt(now, ttl, m.dateExpires);
    m.revision += 1;
    m.dateUpdated = now;
    return { status: 200, body: r.map(req, s, m), headers: etag(m.revision) };
  });
  add('DELETE', '/v1/Services/:ServiceSid/Maps/:MapSid', (req) => {
    const s = service(req);
    const m = map(req, s);
    s.maps.delete(m.sid);
    emu.limiter.forget(`map:${m.sid}`);
    notifySyncChange(emu, { kind: 'map_removed', service: s, map: m });
    return { status: 204 };
  });

  // Map items
  const applyCollectionTtl = (req: EmuRequest, m: SyncMap, now: number) => {
    const collectionTtl = parseTtl(req.form.get('CollectionTtl'), 'CollectionTtl');
    if (collectionTtl !== undefined) m.dateExpires = expiresAt(now, collectionTtl, m.dateExpires);
  };
  const item = (req: EmuRequest, m: SyncMap): SyncMapItem => {
    const found = m.items.get(req.params.Key);
    if (!found) throw new TwilioError(404, 54201, 'Item not found');
    return found;
  };

  add('POST', '/v1/Services/:ServiceSid/Maps/:MapSid/Items', (req) => {
    const s = service(req);
    const m = map(req, s);
    const key = req.form.get('Key');
    if (key === null) throw badRequest('Missing required parameter Key in the post body');
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f]/.test(key)) {
      throw new TwilioError(400, 54209, 'Invalid item key');
    }
    const data = parseData(req.form.get('Data'), true)!;
    const ttl = parseTtl(req.form.get('ItemTtl'), 'ItemTtl') ?? parseTtl(req.form.get('Ttl'), 'Ttl');
    parseTtl(req.form.get('CollectionTtl'), 'CollectionTtl');
    limitWrite(m.sid, dataCost(data));
    if (m.items.has(key)) throw new TwilioError(409, 54208, 'Item already exists');
    const now = emu.clock.now();
    const i: SyncMapItem = {
      key,
      data,
      revision: 0,
      dateCreated: now,
      dateUpdated: now,
      dateExpires: expiresAt(now, ttl, null),
    };
    m.items.set(key, i);
    applyCollectionTtl(req, m, now);
    notifySyncChange(emu, { kind: 'item_added', service: s, map: m, item: i });
    return { status: 201, body: r.item(req, s, m, i), headers: etag(i.revision) };
  });
  add('GET', '/v1/Services/:ServiceSid/Maps/:MapSid/Items', (req) => {
    const s = service(req);
    const m = map(req, s);
    const order = req.query.get('Order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw badRequest('Invalid Order: must be asc or desc');
    const bounds = req.query.get('Bounds') ?? 'inclusive';
    if (bounds !== 'inclusive' && bounds !== 'exclusive')
      throw badRequest('Invalid Bounds: must be inclusive or exclusive');
    const from = req.query.get('From');
    limitRead(m.sid);
    let items = [...m.items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (order === 'desc') items.reverse();
    if (from !== null) {
      items = items.filter((i) => {
        if (i.key === from) return bounds === 'inclusive';
        return order === 'asc' ? i.key > from : i.key < from;
      });
    }
    const filters = {
      Order: req.query.get('Order') ?? undefined,
      From: from ?? undefined,
      Bounds: req.query.get('Bounds') ?? undefined,
    };
    return { status: 200, body: syncPage(req, 'items', items, (i) => r.item(req, s, m, i), filters) };
  });
  add('GET', '/v1/Services/:ServiceSid/Maps/:MapSid/Items/:Key', (req) => {
    const s = service(req);
    const m = map(req, s);
    limitRead(m.sid);
    const i = item(req, m);
    return { status: 200, body: r.item(req, s, m, i), headers: etag(i.revision) };
  });
  add('POST', '/v1/Services/:ServiceSid/Maps/:MapSid/Items/:Key', (req) => {
    const s = service(req);
    const m = map(req, s);
    const i = item(req, m);
    const data = parseData(req.form.get('Data'), false);
    const ttl = parseTtl(req.form.get('ItemTtl'), 'ItemTtl') ?? parseTtl(req.form.get('Ttl'), 'Ttl');
    parseTtl(req.form.get('CollectionTtl'), 'CollectionTtl');
    checkIfMatch(req, i.revision, 54205);
    limitWrite(m.sid, dataCost(data ?? i.data));
    const now = emu.clock.now();
    if (data) i.data = data;
    i.dateExpires = expiresAt(now, ttl, i.dateExpires);
    i.revision += 1;
    i.dateUpdated = now;
    // Docs (Sync "objects-ttl"): on an item update, CollectionTtl applies only when the item's Data or TTL changes
    // in the same request.
    if (data || ttl !== undefined) applyCollectionTtl(req, m, now);
    notifySyncChange(emu, { kind: 'item_updated', service: s, map: m, item: i });
    return { status: 200, body: r.item(req, s, m, i), headers: etag(i.revision) };
  });
  add('DELETE', '/v1/Services/:ServiceSid/Maps/:MapSid/Items/:Key', (req) => {
    const s = service(req);
    const m = map(req, s);
    const i = item(req, m);
    checkIfMatch(req, i.revision, 54205);
    limitWrite(m.sid);
    m.items.delete(i.key);
    notifySyncChange(emu, { kind: 'item_removed', service: s, map: m, item: i });
    return { status: 204 };
  });

  // Map permissions
  const permission = (req: EmuRequest, m: SyncMap): SyncPermission => {
    const found = m.permissions.get(req.params.Identity);
    if (!found) throw notFound(20404, `Permission for ${req.params.Identity} not found`);
    return found;
  };
  add('GET', '/v1/Services/:ServiceSid/Maps/:MapSid/Permissions', (req) => {
    const s = service(req);
    const m = map(req, s);
    limitPermission(m.sid);
    return {
      status: 200,
      body: syncPage(req, 'permissions', [...m.permissions.values()], (p) => r.permission(req, s, m, p)),
    };
  });
  add('GET', '/v1/Services/:ServiceSid/Maps/:MapSid/Permissions/:Identity', (req) => {
    const s = service(req);
    const m = map(req, s);
    limitPermission(m.sid);
    return { status: 200, body: r.permission(req, s, m, permission(req, m)) };
  });
  add('POST', '/v1/Services/:ServiceSid/Maps/:MapSid/Permissions/:Identity', (req) => {
    const s = service(req);
    const m = map(req, s);
    limitPermission(m.sid);
    const flag = (name: string) => {
      const value = parseBool(req.form.get(name), name);
      if (value === undefined) throw badRequest(`Missing required parameter ${name} in the post body`);
      return value;
    };
    // An identity a token could not carry (control characters, over 256 characters) is refused (exact rule unconfirmed).
    if (req.params.Identity.length > 256 || /[\u0000-\u001f\u007f]/.test(req.params.Identity)) {
      throw badRequest(`Invalid Identity: ${JSON.stringify(req.params.Identity.slice(0, 40))}`);
    }
    const p: SyncPermission = {
      identity: req.params.Identity,
      read: flag('Read'),
      write: flag('Write'),
      manage: flag('Manage'),
    };
    m.permissions.set(p.identity, p);
    return { status: 200, body: r.permission(req, s, m, p) };
  });
  add('DELETE', '/v1/Services/:ServiceSid/Maps/:MapSid/Permissions/:Identity', (req) => {
    const s = service(req);
    const m = map(req, s);
    limitPermission(m.sid);
    m.permissions.delete(permission(req, m).identity);
    return { status: 204 };
  });
}
