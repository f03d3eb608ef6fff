/**
 * The recent-calls panel: what an agent sees of its own calls, from /recent-calls (newest first, expired ones left out
 * by the server and, while the page stays open, by withoutExpired against the Twilio server's clock).
 *
 * Locally (page on localhost / 127.0.0.1) it offers the emulator's demo agents: the emulator URL comes from
 * `?emulator=` (default http://127.0.0.1:3001, loopback only), GET /__admin/agents lists them and
 * POST /__admin/flex-tokens mints a Flex token for the one picked. Elsewhere it asks for a Flex token, which stays in
 * this page's memory. Nothing secret is part of the page.
 */
import { withoutExpired } from './js/flex-sync-client.js';

const ENDPOINT = new URL('recent-calls', window.location.href).toString();
const DEFAULT_EMULATOR = 'http://127.0.0.1:3001';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const LOOPBACK_URL = /^http:\/\/(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?\/?$/;
const PAGE_SIZE = 25;
const REQUEST_TIMEOUT_MS = 15000;
const RECHECK_EXPIRY_MS = 30000;
/** Errors after which a demo token is minted again (e.g. the emulator clock moved past its expiry). */
const REMINT_CODES = new Set(['FLEX_TOKEN_EXPIRED', 'FLEX_TOKEN_INVALID']);

const $ = (id) => document.getElementById(id);
const el = {
  panel: $('panel'),
  subtitle: $('panel-subtitle'),
  refresh: $('refresh'),
  demoForm: $('demo-form'),
  agent: $('agent'),
  emulatorUrl: $('emulator-url'),
  tokenForm: $('token-form'),
  flexToken: $('flex-token'),
  workerSid: $('worker-sid'),
  status: $('status'),
  error: $('error'),
  tableWrap: $('table-wrap'),
  body: $('calls-body'),
  more: $('more'),
};

const params = new URLSearchParams(window.location.search);
const isLocal = LOOPBACK_HOSTS.has(window.location.hostname);

const view = {
  /** idle | loading | loaded | empty | error */
  state: 'idle',
  calls: [],
  nextPageToken: null,
  workerSid: null,
  /** Twilio server time minus this browser's clock, from the last answer's serverTime. */
  serverOffsetMs: 0,
  error: null,
  /** A request in flight is abandoned when a newer one starts. */
  generation: 0,
};

// ---------------------------------------------------------------------------------------------------------------
// Credentials: a demo agent's minted token (local), or the pasted Flex token.

const demo = { emulator: null, agents: [], tokens: new Map() };

function selectedAgent() {
  const index = el.agent.value === '' ? -1 : Number(el.agent.value);
  return demo.agents[index];
}

async function mintDemoToken(agent) {
  const response = await fetchWithTimeout(`${demo.emulator}/__admin/flex-tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      identity: agent.identity,
      roles: agent.roles,
      workerSid: agent.workerSid,
      ttlSeconds: 3600,
    }),
  });
  const body = await readJson(response);
  if (!response.ok || typeof body.token !== 'string') {
    throw problem('EMULATOR_ERROR', `The emulator did not mint a Flex token (HTTP ${response.status})`);
  }
  demo.tokens.set(agent.identity, body.token);
  return body.token;
}

/** The Flex token to send; `fresh` mints a new demo token instead of reusing the last one. */
async function currentToken(fresh) {
  if (!isLocal) {
    const token = el.flexToken.value.trim();
    if (!token) throw problem('TOKEN_REQUIRED', 'Paste a Flex token first');
    return token;
  }
  const agent = selectedAgent();
  if (!agent) throw problem('AGENT_REQUIRED', 'Choose a demo agent first');
  if (!fresh && demo.tokens.has(agent.identity)) return demo.tokens.get(agent.identity);
  return mintDemoToken(agent);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

function problem(code, message, requestId, status) {
  const error = new Error(message);
  error.code = code;
  error.requestId = requestId || null;
  error.status = status || null;
  return error;
}

async function fetchWithTimeout(url, init) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    return await fetch(url, { ...init, signal: controller.signal, cache: 'no-store' });
  } catch (error) {
    const timedOut = error && error.name === 'AbortError';
    throw problem(
      timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
      timedOut ? 'The request timed out' : `Could not reach ${new URL(url).host}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

/** One page of /recent-calls (bearer token: it keeps the Flex token out of URLs and logs). */
async function fetchPage(token, pageToken) {
  const query = new URLSearchParams({ PageSize: String(PAGE_SIZE) });
  if (pageToken) query.set('PageToken', pageToken);
  const workerSid = !isLocal ? el.workerSid.value.trim() : '';
  if (workerSid) query.set('WorkerSid', workerSid);
  const response = await fetchWithTimeout(`${ENDPOINT}?${query}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  });
  const body = await readJson(response);
  if (!response.ok) {
    throw problem(
      typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
      typeof body.message === 'string' ? body.message : `The server answered HTTP ${response.status}`,
      body.requestId || response.headers.get('X-Request-Id'),
      response.status,
    );
  }
  if (!Array.isArray(body.calls)) throw problem('BAD_RESPONSE', 'The server answered something unexpected');
  return body;
}

async function fetchPageWithToken(pageToken) {
  try {
    return await fetchPage(await currentToken(false), pageToken);
  } catch (error) {
    // Demo tokens are cheap: after the emulator clock moved past one's expiry, mint another and try once more.
    if (isLocal && REMINT_CODES.has(error.code)) return fetchPage(await currentToken(true), pageToken);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

async function load({ append = false } = {}) {
  const generation = ++view.generation;
  const pageToken = append ? view.nextPageToken : null;
  setState(append ? view.state : 'loading');
  if (append) el.more.disabled = true;
  try {
    const page = await fetchPageWithToken(pageToken);
    if (generation !== view.generation) return;
    view.serverOffsetMs = Date.parse(page.serverTime) - Date.now() || 0;
    view.calls = append ? view.calls.concat(page.calls) : page.calls;
    view.nextPageToken = page.nextPageToken;
    view.workerSid = page.workerSid;
    view.error = null;
    setState('loaded');
  } catch (error) {
    if (generation !== view.generation) return;
    view.error = error;
    if (!append) view.calls = [];
    setState('error');
  } finally {
    el.more.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

const serverNow = () => Date.now() + view.serverOffsetMs;
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function visibleCalls() {
  const tagged = view.calls.map((call) => ({ call, date_expires: call.expiresAt }));
  return withoutExpired(tagged, serverNow()).map((t) => t.call);
}

function setState(state) {
  view.state = state;
  render();
}

function render() {
  const calls = view.state === 'loaded' || view.state === 'empty' ? visibleCalls() : [];
  const state = view.state === 'loaded' && calls.length === 0 ? 'empty' : view.state;
  el.panel.dataset.state = state;
  el.panel.setAttribute('aria-busy', String(state === 'loading'));
  el.refresh.disabled = state === 'loading' || !canLoad();

  el.error.hidden = state !== 'error';
  el.error.replaceChildren();
  if (state === 'error') el.error.append(...errorContent(view.error));

  el.tableWrap.hidden = calls.length === 0;
  el.body.replaceChildren(...calls.map(row));
  el.more.hidden = !(state === 'loaded' && view.nextPageToken);

  if (state === 'loading') el.status.textContent = 'Loading recent calls…';
  else if (state === 'empty') el.status.textContent = 'No calls in the last 30 days.';
  else if (state === 'loaded') {
    const n = calls.length;
    el.status.textContent = `${n} call${n === 1 ? '' : 's'}${view.nextPageToken ? ' shown, older ones available' : ''}, as of ${dateTime.format(new Date(serverNow()))}.`;
  } else if (state === 'error') el.status.textContent = '';
  else
    el.status.textContent = isLocal
      ? 'Choose a demo agent to see their recent calls.'
      : 'Paste a Flex token to see your recent calls.';
}

function errorContent(error) {
  const title = document.createElement('p');
  title.className = 'error-title';
  title.textContent = "Couldn't load recent calls";
  const message = document.createElement('p');
  message.textContent = error.message;
  const details = document.createElement('p');
  details.className = 'error-details';
  details.append('Code ', code(error.code || 'UNKNOWN'));
  if (error.requestId) details.append(' · Request id ', code(error.requestId));
  return [title, message, details];
}

function code(text) {
  const node = document.createElement('code');
  node.textContent = text;
  return node;
}

function cell(...children) {
  const td = document.createElement('td');
  td.append(...children);
  return td;
}

function timeNode(iso, text, title) {
  const node = document.createElement('time');
  node.dateTime = iso;
  node.textContent = text;
  if (title) node.title = title;
  return node;
}

function row(call) {
  const tr = document.createElement('tr');
  tr.dataset.key = call.key;
  if (call.callSid) tr.dataset.callSid = call.callSid;
  const outbound = typeof call.direction === 'string' && call.direction.startsWith('outbound');

  const direction = document.createElement('span');
  direction.className = `direction ${outbound ? 'direction-out' : 'direction-in'}`;
  const icon = document.createElement('span');
  icon.className = 'direction-icon';
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = outbound ? '↗' : '↙';
  direction.append(icon, outbound ? 'Outbound' : 'Inbound');

  const number = document.createElement('span');
  number.className = 'number';
  number.textContent = (outbound ? call.to : call.from) || 'Unknown';

  const started = Date.parse(call.startedAt);
  const startedNode = timeNode(call.startedAt, dateTime.format(new Date(started)));
  const duration = call.durationSeconds === null ? '—' : formatDuration(call.durationSeconds);
  const durationNode = call.durationSeconds === null ? duration : timeNode(`PT${call.durationSeconds}S`, duration);
  const expires =
    call.expiresAt === null
      ? 'Never'
      : timeNode(call.expiresAt, relativeTo(Date.parse(call.expiresAt)), dateTime.format(new Date(call.expiresAt)));

  const durationCell = cell(durationNode);
  durationCell.className = 'numeric';
  tr.append(cell(direction), cell(number), cell(startedNode), durationCell, cell(expires));
  return tr;
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function relativeTo(ms) {
  const diff = ms - serverNow();
  const abs = Math.abs(diff);
  if (abs >= 86_400_000) return relative.format(Math.round(diff / 86_400_000), 'day');
  if (abs >= 3_600_000) return relative.format(Math.round(diff / 3_600_000), 'hour');
  return relative.format(Math.round(diff / 60_000), 'minute');
}

// ---------------------------------------------------------------------------------------------------------------
// Setup

function canLoad() {
  return isLocal ? Boolean(selectedAgent()) : el.flexToken.value.trim() !== '';
}

function emulatorBase() {
  const raw = (params.get('emulator') || DEFAULT_EMULATOR).trim();
  if (!LOOPBACK_URL.test(raw)) return null;
  return raw.replace(/\/+$/, '');
}

async function setupDemo() {
  el.demoForm.hidden = false;
  el.subtitle.textContent = 'Demo agents from the local Twilio emulator, last 30 days';
  demo.emulator = emulatorBase();
  el.emulatorUrl.textContent = demo.emulator || '(invalid)';
  if (!demo.emulator) {
    el.agent.replaceChildren(new Option('No emulator', ''));
    view.error = problem(
      'EMULATOR_URL_INVALID',
      'The emulator parameter must be a loopback http URL, e.g. http://127.0.0.1:3001',
    );
    setState('error');
    return;
  }
  try {
    const response = await fetchWithTimeout(`${demo.emulator}/__admin/agents`, {
      headers: { Accept: 'application/json' },
    });
    const body = await readJson(response);
    if (!response.ok || !Array.isArray(body.agents))
      throw problem('EMULATOR_ERROR', `The emulator answered HTTP ${response.status}`);
    demo.agents = body.agents.filter((a) => a && typeof a.identity === 'string' && a.identity !== '');
  } catch (error) {
    el.agent.replaceChildren(new Option('Emulator not reachable', ''));
    view.error = error.code ? error : problem('EMULATOR_ERROR', String(error.message || error));
    setState('error');
    return;
  }
  const options = demo.agents.map(
    (a, i) => new Option(`${a.fullName || a.friendlyName || a.identity} (${a.identity})`, String(i)),
  );
  el.agent.replaceChildren(new Option(demo.agents.length ? 'Choose an agent…' : 'No agents seeded', ''), ...options);
  el.agent.addEventListener('change', () => {
    const agent = selectedAgent();
    const url = new URL(window.location.href);
    if (agent) url.searchParams.set('agent', agent.identity);
    else url.searchParams.delete('agent');
    window.history.replaceState(null, '', url);
    view.calls = [];
    view.nextPageToken = null;
    if (agent) void load();
    else setState('idle');
  });
  const wanted = params.get('agent');
  const index = demo.agents.findIndex((a) => a.identity === wanted);
  if (index >= 0) {
    el.agent.value = String(index);
    void load();
  } else setState('idle');
}

function setupToken() {
  el.tokenForm.hidden = false;
  el.tokenForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (el.tokenForm.reportValidity()) void load();
  });
  el.flexToken.addEventListener('input', render);
  setState('idle');
}

el.refresh.addEventListener('click', () => void load());
el.more.addEventListener('click', () => void load({ append: true }));
el.demoForm.addEventListener('submit', (event) => event.preventDefault());
// Hide calls that expire while the page stays open (the server filters only at the time it answers).
setInterval(() => {
  if (view.state === 'loaded') render();
}, RECHECK_EXPIRY_MS);

if (isLocal) void setupDemo();
else setupToken();
