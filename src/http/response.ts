/// <reference types="@twilio-labs/serverless-runtime-types" />
/** Builds the runtime's Response object (`Twilio.Response`, a global in Functions and twilio-run). */
import type { TwilioResponse } from '@twilio-labs/serverless-runtime-types/types';

export function jsonResponse(status: number, body: object, headers: Record<string, string> = {}): TwilioResponse {
  const response = new Twilio.Response();
  response.setStatusCode(status);
  response.appendHeader('Content-Type', 'application/json; charset=utf-8');
  for (const [name, value] of Object.entries(headers)) response.appendHeader(name, value);
  response.setBody(body);
  return response;
}
