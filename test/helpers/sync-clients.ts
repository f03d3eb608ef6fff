/**
 * Real twilio-sync clients for tests, connected to the emulator's /v3/wsconnect endpoint. Each client gets a fresh
 * options object (the SDK stores its socket in the one it is given) and is shut down by `closeAll()`.
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SyncClient } from 'twilio-sync';
import type { Emulator } from '../../emulator/server';

export function syncClientUri(emulatorUrl: string): string {
  return `${emulatorUrl.replace(/^http/, 'ws')}/v3/wsconnect`;
}

export interface TokenInput {
  identity: string;
  ttl?: number;
  serviceSid?: string;
  apiKey?: string;
  apiSecret?: string;
  accountSid?: string;
}

/**
 * An Access Token with a Sync grant in the SDK's AccessToken layout (header `cty: twilio-fpa;v=1`, `jti`, `grants`),
 * signed by the emulator's API key unless told otherwise. `iat`/`exp` come from the emulator's clock, which tests
 * move: the twilio SDK's AccessToken reads the host clock and cannot be told another time.
 */
export function mintToken(emulator: Emulator, input: TokenInput): string {
  const c = emulator.config;
  const apiKey = input.apiKey ?? c.apiKey;
  const iat = Math.floor(emulator.clock.now() / 1000);
  const claims = {
    jti: `${apiKey}-${iat}-${randomBytes(4).toString('hex')}`,
    grants: { identity: input.identity, data_sync: { service_sid: input.serviceSid ?? c.syncServiceSid } },
    iat,
    exp: iat + (input.ttl ?? 3600),
    iss: apiKey,
    sub: input.accountSid ?? c.accountSid,
  };
  return jwt.sign(claims, input.apiSecret ?? c.apiSecret, {
    algorithm: 'HS256',
    header: { alg: 'HS256', cty: 'twilio-fpa;v=1', typ: 'JWT' },
  });
}

const open: SyncClient[] = [];

export function connect(emulatorUrl: string, token: string): SyncClient {
  const client = new SyncClient(token, { twilsock: { uri: syncClientUri(emulatorUrl) }, logLevel: 'silent' } as never);
  open.push(client);
  return client;
}

export async function closeAll(): Promise<void> {
  const clients = open.splice(0);
  await Promise.all(clients.map((c) => c.shutdown().catch(() => undefined)));
}

/** Resolves with the arguments of the first `event` the emitter fires (the test's timeout bounds the wait). */
export function nextEvent<T = unknown>(emitter: object, event: string): Promise<T> {
  const target = emitter as { once(event: string, listener: (arg: T) => void): unknown };
  return new Promise((resolve) => target.once(event, resolve));
}

/** Resolves when the client reaches `state` (at once if it is there already). */
export function reachState(client: SyncClient, state: string): Promise<void> {
  if (client.connectionState === state) return Promise.resolve();
  return new Promise((resolve) => {
    const listener = (s: string) => {
      if (s !== state) return;
      client.removeListener('connectionStateChanged', listener);
      resolve();
    };
    client.on('connectionStateChanged', listener);
  });
}

/** The SyncError a call fails with; fails the test if it succeeds. */
export async function syncError(promise: Promise<unknown>): Promise<{ status: number; code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { status: number; code: number; message: string };
  }
  throw new Error('expected the Sync call to fail');
}
