/** Builds the runtime's Response object (`Twilio.Response`, a global in Functions and twilio-run). */

export interface FunctionResponse {
  setStatusCode(code: number): void;
  setBody(body: unknown): void;
  appendHeader(name: string, value: string): void;
}

declare const Twilio: { Response: new () => FunctionResponse };

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): FunctionResponse {
  const response = new Twilio.Response();
  response.setStatusCode(status);
  response.appendHeader('Content-Type', 'application/json; charset=utf-8');
  for (const [name, value] of Object.entries(headers)) response.appendHeader(name, value);
  response.setBody(body);
  return response;
}
