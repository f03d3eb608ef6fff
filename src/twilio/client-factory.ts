/**
 * The one way this project makes a Twilio client. In production it is `context.getTwilioClient()` with our retrying
 * HTTP layer; only when TWILIO_EMULATOR_URL is set (local runs and tests) does every request go to the emulator.
 */
import type { Context } from '@twilio-labs/serverless-runtime-types/types';
import type { Twilio } from 'twilio';
import type { Env } from '../config/env';
import { ConfigError } from '../config/errors';
import { Deadline } from './deadline';
import { TwilioHttpClient } from './http-client';
import type { RetryPolicy } from './retry-policy';

/** The part of the runtime's context a client is made from (tools and tests may hand just that). */
export type ClientContext = Pick<Context, 'getTwilioClient'> & { TWILIO_EMULATOR_URL?: string };

export interface ProjectTwilioClient {
  client: Twilio;
  http: TwilioHttpClient;
}

const LOOPBACK_URL = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/;

/** The emulator URL, when one is configured; it must be a loopback http URL so that it can never leak to production. */
export function emulatorUrl(context: { TWILIO_EMULATOR_URL?: string }): string | undefined {
  const url = context.TWILIO_EMULATOR_URL?.trim();
  if (!url) return undefined;
  if (!LOOPBACK_URL.test(url)) {
    throw new ConfigError(
      'TWILIO_EMULATOR_URL',
      'must be a loopback URL such as http://127.0.0.1:3001 (local runs only)',
    );
  }
  return url;
}

export function createTwilioClient(
  context: ClientContext,
  options: { deadline?: Deadline; policy?: RetryPolicy; maxSockets?: number; pool?: string } = {},
): ProjectTwilioClient {
  const http = new TwilioHttpClient({ ...options, emulatorUrl: emulatorUrl(context) });
  const client = context.getTwilioClient({ httpClient: http });
  if (client.httpClient !== http) {
    // A runtime that ignores getTwilioClient's options would bypass retries and routing: fail loudly, not silently.
    throw new ConfigError(
      'getTwilioClient',
      'the runtime ignored the httpClient option; upgrade @twilio/runtime-handler',
    );
  }
  return { client, http };
}

/** Twilio's current time as this warm instance estimates it (Date headers seen so far; the local clock before any). */
export function twilioNow(context: Env): number {
  return new TwilioHttpClient({ emulatorUrl: emulatorUrl(context) }).serverNow();
}
