/**
 * The wrapper every function goes through (after flex-project-template's): method check, CORS, request id,
 * structured logger, and one place that turns any failure into the project's JSON error shape.
 *
 * Twilio Functions do not expose the HTTP method, and the runtime answers OPTIONS preflights itself. A request with
 * a body (a Content-Type) is taken as a POST; one without is a GET.
 */
import { randomUUID } from 'node:crypto';
import type {
  Context,
  EnvironmentVariables,
  ServerlessEventObject,
  ServerlessFunctionSignature,
} from '@twilio-labs/serverless-runtime-types/types';
import { list } from '../config/env';
import { createLogger, type Logger } from '../observability/logger';
import { Deadline } from '../twilio/deadline';
import { corsHeaders, DEFAULT_ALLOWED_ORIGINS, isAllowedOrigin, originOf } from './cors';
import { toErrorResponse } from './error-response';
import { HttpError } from './errors';
import { checkParamsShape } from './params-shape';
import { jsonResponse } from './response';

/** What the runtime hands a function: its context (the environment's variables and getTwilioClient) and event. */
export type FunctionContext = Context<EnvironmentVariables>;
export type FunctionEvent = ServerlessEventObject<Record<string, unknown>, Record<string, unknown>>;

export interface FunctionRequest {
  context: FunctionContext;
  /** The parameters (query and body merged by the runtime), without the runtime's `request` entry. */
  params: Record<string, unknown>;
  headers: Record<string, string>;
  method: 'GET' | 'POST';
  requestId: string;
  /**
   * This invocation's time budget: the platform's limit minus a margin, from the moment the request arrived. Every
   * step that waits on Twilio takes a child of it (`deadline.child(ms)`), so the steps together cannot outlast it.
   */
  deadline: Deadline;
  log: Logger;
  /** Secrets of this request (e.g. the caller's Flex token) that the logger must redact from now on. */
  addSecret(value: string): void;
}

export interface FunctionResult {
  status?: number;
  /** Sent as JSON. */
  body: object;
  headers?: Record<string, string>;
}

export interface FunctionSpec {
  name: string;
  methods: ReadonlyArray<'GET' | 'POST'>;
  /** Browser callers allowed: responses carry CORS grants for ALLOWED_ORIGINS; other origins are refused. */
  cors: boolean;
  handle(request: FunctionRequest): Promise<FunctionResult>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function normaliseHeaders(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    out[name.toLowerCase()] = Array.isArray(value)
      ? value.filter((v) => typeof v === 'string').join(', ')
      : typeof value === 'string'
        ? value
        : '';
  }
  return out;
}

export function defineFunction(spec: FunctionSpec): ServerlessFunctionSignature<EnvironmentVariables, FunctionEvent> {
  return async function handler(context, event, callback) {
    const deadline = Deadline.forInvocation();
    const { request, ...params } = event ?? {};
    const headers = normaliseHeaders(request?.headers);
    // Our own id, always: a client's X-Request-Id is logged next to it as the client's, so it cannot pose as ours.
    const requestId = randomUUID();
    const clientRequestId = REQUEST_ID.test(headers['x-request-id'] ?? '') ? headers['x-request-id'] : undefined;
    const fields = { fn: spec.name, requestId, ...(clientRequestId === undefined ? {} : { clientRequestId }) };
    const secrets = [context.AUTH_TOKEN, context.API_SECRET].filter((s): s is string => typeof s === 'string');
    const log = createLogger({ fields, secrets });
    const origin = originOf(headers);
    let cors: Record<string, string> = {};
    const started = performance.now();

    const answer = (status: number, body: object, extra: Record<string, string> = {}) => {
      callback(
        null,
        jsonResponse(status, body, { ...cors, 'Cache-Control': 'no-store', 'X-Request-Id': requestId, ...extra }),
      );
    };

    try {
      if (spec.cors) {
        const allowed = list(context, 'ALLOWED_ORIGINS', DEFAULT_ALLOWED_ORIGINS);
        cors = corsHeaders(origin, allowed, spec.methods);
        if (origin && !isAllowedOrigin(origin, allowed)) {
          throw new HttpError('ORIGIN_NOT_ALLOWED', `Origin ${origin.slice(0, 200)} is not allowed`);
        }
      }
      const method = headers['content-type'] ? 'POST' : 'GET';
      if (!spec.methods.includes(method)) {
        throw new HttpError('METHOD_NOT_ALLOWED', `Use ${spec.methods.join(' or ')} with a form or JSON body`, {
          Allow: [...spec.methods, 'OPTIONS'].join(', '),
        });
      }
      checkParamsShape(params);
      const result = await spec.handle({
        context,
        params,
        headers,
        method,
        requestId,
        deadline,
        log,
        addSecret(value: string) {
          secrets.push(value); // every logger of this request, taken before or after, redacts from this one array
        },
      });
      log.info('request done', { status: result.status ?? 200, ms: Math.round(performance.now() - started) });
      answer(result.status ?? 200, result.body, result.headers);
    } catch (error) {
      const { status, body, extraHeaders } = toErrorResponse(error, requestId);
      const fields = { status, code: body.code, ms: Math.round(performance.now() - started) };
      if (status >= 500) log.error('request failed', { ...fields, error });
      else log.info('request refused', fields);
      answer(status, body, extraHeaders);
    }
  };
}
