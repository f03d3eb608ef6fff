/**
 * The workspace's EventCallbackUrl: `POST /v1/Workspaces/{Sid}` sets `EventCallbackUrl` / `EventsFilter` (official
 * spec: UpdateWorkspaceRequest), and every event that happens live is then POSTed there, one form request per event.
 *
 * Form fields (TaskRouter docs "TaskRouter Events reference", Event Callbacks): `EventType, AccountSid, WorkspaceSid,
 * WorkspaceName, EventDescription, ResourceType, ResourceSid, Timestamp`, then the event's data in PascalCase
 * (`task_sid` → `TaskSid`, `task_attributes` → `TaskAttributes` as a JSON string, `worker_sid` → `WorkerSid`, …), with
 * the values the Events log holds. Unconfirmed: `Timestamp` in epoch seconds; `ResourceType` in lower case (as the
 * Events resource prints it).
 * The callback must answer within 15 s (same page); TaskRouter does not retry a failed callback (retries exist only
 * through connection overrides on the URL, not modelled), so a failed delivery is only recorded.
 */
import { badRequest, notFound } from '../core/errors';
import type { Router } from '../core/router';
import type { EventRecord } from '../families/taskrouter';
import type { Emulator } from '../server';
import { deliver } from './deliver';

export const CALLBACK_TIMEOUT_MS = 15_000;

const pascal = (snake: string) =>
  snake
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/** The form TaskRouter POSTs to the EventCallbackUrl for one event. */
export function callbackForm(emu: Emulator, event: EventRecord): Record<string, string> {
  const ws = emu.state.taskrouter.workspace;
  const form: Record<string, string> = {
    EventType: event.eventType,
    AccountSid: emu.config.accountSid,
    WorkspaceSid: ws.sid,
    WorkspaceName: ws.friendlyName,
    EventDescription: event.description,
    ResourceType: event.resourceType,
    ResourceSid: event.resourceSid,
    Timestamp: String(Math.floor(event.eventDateMs / 1000)),
  };
  for (const [key, value] of Object.entries(event.eventData)) {
    if (value === undefined || value === null) continue;
    const name = pascal(key);
    if (!(name in form)) form[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return form;
}

/** Whether the workspace's EventsFilter lets this event type through (no filter: every event). */
export function passesFilter(filter: string | null, eventType: string): boolean {
  if (!filter) return true;
  return filter
    .split(',')
    .map((t) => t.trim())
    .includes(eventType);
}

function validCallbackUrl(value: string): boolean {
  if (value === '') return true; // clears the callback
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * POST /v1/Workspaces/{Sid}: the workspace update the spec documents (callback, filter and the other settings). It
 * answers what the workspace fetch answers, so it is registered after the TaskRouter family and reuses that route.
 */
export function registerWorkspaceUpdate(router: Router, emu: Emulator): void {
  const fetchRoute = router.routes.find((r) => r.method === 'GET' && r.pattern === '/v1/Workspaces/:WorkspaceSid');
  if (!fetchRoute) throw new Error('register the TaskRouter family before the workspace update');
  router.add('taskrouter', 'POST', '/v1/Workspaces/:WorkspaceSid', (req) => {
    const ws = emu.state.taskrouter.workspace;
    if (req.params.WorkspaceSid !== ws.sid) throw notFound(20404, `The requested resource ${req.path} was not found`);
    const form = req.form;
    const url = form.get('EventCallbackUrl');
    if (url !== null) {
      if (!validCallbackUrl(url)) throw badRequest(`EventCallbackUrl is not a valid URL: ${url.slice(0, 200)}`, 20001);
      ws.eventCallbackUrl = url;
    }
    const filter = form.get('EventsFilter');
    if (filter !== null) ws.eventsFilter = filter === '' ? null : filter;
    const name = form.get('FriendlyName');
    if (name !== null && name !== '') ws.friendlyName = name;
    const multi = form.get('MultiTaskEnabled');
    if (multi !== null) ws.multiTaskEnabled = /^true$/i.test(multi);
    const order = form.get('PrioritizeQueueOrder');
    if (order === 'FIFO' || order === 'LIFO') ws.prioritizeQueueOrder = order;
    ws.dateUpdated = emu.clock.now();
    return fetchRoute.handler(req);
  });
}

export interface CallbackDelivery {
  eventSid: string;
  eventType: string;
  status: number;
  ok: boolean;
  ms: number;
  error?: string;
}

/** Sends one event to the workspace's EventCallbackUrl when one is set and the filter lets it through. */
export async function sendToCallback(emu: Emulator, event: EventRecord): Promise<CallbackDelivery | undefined> {
  const ws = emu.state.taskrouter.workspace;
  if (!ws.eventCallbackUrl || !passesFilter(ws.eventsFilter, event.eventType)) return undefined;
  const outcome = await deliver({
    url: ws.eventCallbackUrl,
    authToken: emu.config.authToken,
    form: callbackForm(emu, event),
    timeoutMs: CALLBACK_TIMEOUT_MS,
  });
  return { eventSid: event.sid, eventType: event.eventType, ...outcome };
}
