/** A small method + path router. Patterns use `:Name` segments; values arrive URL-decoded. */
import type { IncomingHttpHeaders } from 'node:http';

export interface EmuRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Form-encoded body (empty when the body was JSON or absent). */
  form: URLSearchParams;
  /** Parsed JSON body, when the content type was JSON. */
  json: unknown;
  headers: IncomingHttpHeaders;
  /** Scheme, host and port the client used: every URL the emulator prints starts with it. */
  baseUrl: string;
  /** The body's bytes as they arrived (multipart uploads need them). */
  bytes?: Buffer;
  /** Which credential authenticated the request: the account itself or an API key. */
  principal?: { kind: 'account' | 'apiKey'; sid: string };
}

export interface EmuResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: EmuRequest) => EmuResponse | Promise<EmuResponse>;

export interface Route {
  method: string;
  pattern: string;
  family: string;
  /** Admin routes skip Twilio auth and fault injection. */
  admin: boolean;
  handler: Handler;
  regex: RegExp;
  names: string[];
}

export class Router {
  readonly routes: Route[] = [];

  add(family: string, method: string, pattern: string, handler: Handler, admin = false): void {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((segment) => {
        const match = /^:(\w+)(\.json)?$/.exec(segment);
        if (!match) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(match[1]);
        return match[2] ? '([^/]+)\\.json' : '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, pattern, family, admin, handler, names, regex: new RegExp(`^${source}$`) });
  }

  /**
   * The route for this method and path, or why there is none (404 for the path, 405 for the method). `families`
   * limits the search to the families that answer the request's host (Sync and Serverless share paths).
   */
  match(
    method: string,
    path: string,
    families?: (family: string) => boolean,
  ): { route: Route; params: Record<string, string> } | 'not-found' | 'method' {
    let pathMatched = false;
    for (const route of this.routes) {
      if (families && !families(route.family)) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
      return { route, params };
    }
    return pathMatched ? 'method' : 'not-found';
  }
}
