/**
 * Which part of the emulator answers a Twilio host. Twilio serves each product on its own host
 * (https://www.twilio.com/docs/usage/requests-to-twilio: sync.twilio.com, serverless.twilio.com, ...), and two of them
 * share paths: Sync and Serverless both own /v1/Services/…, so a request is routed by its host first.
 *
 * Requests reach a host two ways: through the proxy (HTTPS, the Host header is the Twilio host), or directly on the
 * emulator's loopback port with the host as the first path segment, e.g. http://127.0.0.1:3001/serverless.twilio.com/v1/Services.
 * A loopback path without a host (http://127.0.0.1:3001/v1/Services) keeps its historical meaning: every family except
 * the host-only ones below (so /v1/Services is Sync's).
 */

/** The family that answers each API host (the first label; edge and region labels are ignored). */
const API_HOSTS: Record<string, string> = {
  sync: 'sync',
  taskrouter: 'taskrouter',
  api: 'api',
  iam: 'iam',
  events: 'events',
  serverless: 'serverless',
  'serverless-upload': 'serverless-upload',
};

/** Families that are reached only with their host: their paths collide with older families'. */
export const HOST_ONLY_FAMILIES: ReadonlySet<string> = new Set(['serverless', 'serverless-upload']);

export type HostTarget =
  /** A REST API host: only this family's routes answer. */
  | { kind: 'api'; host: string; family: string }
  /** The Sync client's WebSocket host (tsock.*.twilio.com). */
  | { kind: 'socket'; host: string }
  /** A deployed Functions domain (<service>-<digits>[-<suffix>].twil.io). */
  | { kind: 'domain'; host: string };

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** What a host is, or undefined for anything the emulator does not serve (the proxy refuses those). */
export function classifyHost(rawHost: string): HostTarget | undefined {
  const host = rawHost.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const labels = host.split('.');
  if (!labels.every((label) => LABEL.test(label))) return undefined;
  if (host.endsWith('.twil.io') && labels.length === 3) return { kind: 'domain', host };
  if (!host.endsWith('.twilio.com') || labels.length < 3) return undefined;
  if (labels[0] === 'tsock') return { kind: 'socket', host };
  const family = API_HOSTS[labels[0]];
  return family ? { kind: 'api', host, family } : undefined;
}

/** Splits a loopback path that carries its host: /sync.twilio.com/v1/Services → sync.twilio.com + /v1/Services. */
export function hostFromPath(path: string): { target: HostTarget; path: string } | undefined {
  const match = /^\/([^/]+\.(?:twilio\.com|twil\.io))(\/.*)?$/i.exec(path);
  if (!match) return undefined;
  const target = classifyHost(match[1]);
  return target ? { target, path: match[2] ?? '/' } : undefined;
}
