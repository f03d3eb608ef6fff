/**
 * The real twilio SDK sending every call to the emulator's loopback port with the Twilio host kept as the first path
 * segment (https://serverless.twilio.com/v1/Services → http://127.0.0.1:<port>/serverless.twilio.com/v1/Services),
 * so the emulator routes by host as it does through the proxy. Needed for Serverless, whose paths Sync shares.
 */
import twilio, { type Twilio } from 'twilio';
import type { Emulator } from '../../emulator/server';

type RequestOptions<T> = import('twilio/lib/base/RequestClient').RequestOptions<T>;

class HostCarryingClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super();
  }

  override request<T>(opts: RequestOptions<T>) {
    const uri = String(opts.uri).replace(/^https:\/\/([a-z0-9.-]+\.twilio\.com)(?::443)?/i, `${this.base}/$1`);
    return super.request<T>({ ...opts, uri });
  }
}

export function hostRoutedClient(emulator: Emulator): Twilio {
  const { accountSid, authToken } = emulator.config;
  return twilio(accountSid, authToken, { httpClient: new HostCarryingClient(emulator.url), accountSid });
}
