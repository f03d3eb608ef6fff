/**
 * The live agent view on the real twilio-sync SDK: a Sync token from /sync-token (the agent's Flex token), the agent's
 * recent-calls map opened through the SDK, the newest non-expired calls shown newest first, a new call added the
 * moment it is synced, calls dropped as their `date_expires` passes by the Twilio server's clock (the `iat` of the
 * latest token, which Twilio's clock stamped), and token refreshes through attach().
 *
 * Locally (page on localhost / 127.0.0.1) `?emulator=<loopback URL>` points the SDK at the emulator's
 * /v3/wsconnect (`twilsock.uri`: local only) and the page mints a demo Flex token for `?agent=<identity>` (default:
 * the first demo agent); `?worker=WK…` opens that worker's map instead of the agent's own. Elsewhere it asks for a
 * Flex token and a worker SID, and the SDK uses its default (Twilio's) endpoint.
 */
import {
  createSyncTokenProvider,
  isExpired,
  memoryStorage,
  newestItems,
  recentCallsMapName,
} from './js/flex-sync-client.js';

const LIMIT = 20;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const LOOPBACK_URL = /^http:\/\/(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?\/?$/;

const $ = (id) => document.getElementById(id);
const el = {
  panel: $('panel'),
  status: $('status'),
  error: $('error'),
  tableWrap: $('table-wrap'),
  body: $('calls-body'),
};
const params = new URLSearchParams(window.location.search);
const isLocal = LOOPBACK_HOSTS.has(window.location.hostname);

const view = {
  items: new Map(),
  serverOffsetMs: 0,
  connection: 'connecting',
  refreshedAt: null,
  problem: null,
  problemKind: null,
};

const serverNow = () => Date.now() + view.serverOffsetMs;

/** Twilio's clock stamped the token's `iat`: it tells this page the server's time. */
function learnServerTime(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (typeof payload.iat === 'number') view.serverOffsetMs = payload.iat * 1000 - Date.now();
  } catch {
    // keep the previous estimate
  }
}

function setStatus() {
  const parts = [view.connection === 'connecting' ? 'reconnecting' : view.connection];
  if (view.refreshedAt) parts.push(`token refreshed at ${new Date(view.refreshedAt).toISOString().slice(11, 19)} UTC`);
  el.status.textContent = parts.join(' · ');
  el.panel.dataset.connection = view.connection;
  if (view.refreshedAt) el.panel.dataset.refreshed = 'true';
}

/** `kind` 'token': a refresh that failed for good, cleared by the next refresh that works. */
function showProblem(message, kind = 'other') {
  view.problem = message;
  view.problemKind = kind;
  el.error.hidden = false;
  el.error.textContent = message;
  el.panel.dataset.state = 'error';
}

function clearTokenProblem() {
  if (view.problemKind !== 'token') return;
  view.problem = null;
  view.problemKind = null;
  el.error.hidden = true;
  el.error.textContent = '';
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render() {
  const now = serverNow();
  const visible = [...view.items.values()]
    .filter((item) => !isExpired(item, now))
    .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0)) // keys sort by time
    .slice(0, LIMIT);
  el.body.replaceChildren(
    ...visible.map((item) => {
      const data = item.data ?? {};
      const tr = document.createElement('tr');
      tr.dataset.key = item.key;
      const inbound = data.direction === 'inbound';
      tr.append(
        cell(inbound ? 'Inbound' : 'Outbound'),
        cell(String((inbound ? data.from : data.to) ?? '')),
        cell(data.startedAt ? new Date(data.startedAt).toISOString().replace('T', ' ').slice(0, 16) : ''),
        cell(typeof data.durationSeconds === 'number' ? `${data.durationSeconds} s` : '', 'numeric'),
        cell(item.dateExpires ? String(item.dateExpires).slice(0, 10) : ''),
      );
      return tr;
    }),
  );
  el.tableWrap.hidden = visible.length === 0;
  if (!view.problem) el.panel.dataset.state = visible.length ? 'loaded' : 'empty';
  el.panel.dataset.count = String(visible.length);
}

async function connect(getFlexToken, workerSid, twilsockUri) {
  const provider = createSyncTokenProvider({
    endpoint: new URL('sync-token', window.location.href).toString(),
    getFlexToken,
    storage: memoryStorage(),
    onError: (error, context) => {
      if (!context.willRetry) showProblem(`Token refresh failed: ${error.code} (${error.message})`, 'token');
    },
  });
  const { token } = await provider.getToken();
  learnServerTime(token);
  const SyncClient = window.Twilio.Sync.SyncClient ?? window.Twilio.Sync.Client;
  const client = new SyncClient(token, twilsockUri ? { twilsock: { uri: twilsockUri } } : {});
  const update = client.updateToken.bind(client);
  client.updateToken = async (fresh) => {
    await update(fresh);
    learnServerTime(fresh);
    clearTokenProblem();
    view.refreshedAt = serverNow();
    setStatus();
    render();
  };
  client.on('connectionStateChanged', (state) => {
    view.connection = state;
    setStatus();
  });
  provider.attach(client);
  view.connection = client.connectionState;
  setStatus();

  let map;
  try {
    map = await client.map({ id: recentCallsMapName(workerSid), mode: 'open_existing' });
  } catch (error) {
    const status = error && error.status;
    showProblem(
      status === 403 ? 'Not allowed to read these calls (403)' : `Could not open the calls: ${error.message}`,
    );
    return;
  }
  const put = ({ item }) => {
    view.items.set(item.key, item);
    render();
  };
  map.on('itemAdded', put);
  map.on('itemUpdated', put);
  map.on('itemRemoved', ({ key }) => {
    view.items.delete(key);
    render();
  });
  for (const item of await newestItems(map, LIMIT, serverNow())) view.items.set(item.key, item);
  render();
  setInterval(render, 1000);
}

async function startLocal() {
  const emulator = params.get('emulator') ?? 'http://127.0.0.1:3001';
  if (!LOOPBACK_URL.test(emulator)) return showProblem('?emulator= must be a loopback http URL');
  const base = emulator.replace(/\/+$/, '');
  const { agents } = await (await fetch(`${base}/__admin/agents`)).json();
  const agent = agents.find((a) => a.identity === params.get('agent')) ?? agents[0];
  if (!agent) return showProblem('The emulator has no demo agents (npm start seeds them)');
  const minted = await fetch(`${base}/__admin/flex-tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ identity: agent.identity, ttlSeconds: 86400 }),
  });
  const { token: flexToken } = await minted.json();
  const workerSid = params.get('worker') ?? agent.workerSid;
  await connect(() => flexToken, workerSid, `${base.replace(/^http/, 'ws')}/v3/wsconnect`);
}

function startDeployed() {
  const form = $('token-form');
  form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const flexToken = $('flex-token').value.trim();
    form.hidden = true;
    void connect(() => flexToken, $('worker-sid').value.trim()).catch((error) => showProblem(error.message));
  });
}

if (isLocal) startLocal().catch((error) => showProblem(error.message ?? String(error)));
else startDeployed();
