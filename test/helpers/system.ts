/**
 * The whole system for an integration test: the emulator (in this process, on a free port) and the built functions
 * under twilio-run (a child process, on another free port), wired together as `npm start` wires them.
 */
import twilio, { type Twilio } from 'twilio';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/server';
import { startFunctionsServer, type FunctionsServer } from '../../scripts/lib/functions-server';
import { syncUntilDone, type SyncUntilDoneResult } from '../../scripts/sync-calls';
import { localFunctionEnv } from '../../scripts/lib/local-env';
import { TwilioHttpClient } from '../../src/twilio/http-client';
import { freePort } from './ports';

export interface System {
  emulator: Emulator;
  admin: EmulatorAdmin;
  functions: FunctionsServer;
  /** The real twilio SDK, authenticated like the functions and routed to the emulator. */
  twilio: Twilio;
  stop(): Promise<void>;
}

export interface SystemOptions {
  emulator?: EmulatorOptions;
  /** Extra or overriding function environment variables. */
  env?: Record<string, string>;
}

/** An SDK client routed to the emulator (no retries: tests see the emulator's answers as they are). */
export function emulatorClient(emulator: Emulator, credentials?: { username: string; password: string }): Twilio {
  const http = new TwilioHttpClient({
    emulatorUrl: emulator.url,
    policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  });
  const username = credentials?.username ?? emulator.config.accountSid;
  const password = credentials?.password ?? emulator.config.authToken;
  return twilio(username, password, { httpClient: http, accountSid: emulator.config.accountSid });
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const emulator = await startEmulator(options.emulator);
  let functions: FunctionsServer;
  try {
    functions = await startFunctionsServer({
      port: await freePort(),
      env: localFunctionEnv(emulator.config, emulator.url, options.env),
    });
  } catch (error) {
    await emulator.close();
    throw error;
  }
  return {
    emulator,
    admin: new EmulatorAdmin(emulator.url),
    functions,
    twilio: emulatorClient(emulator),
    async stop() {
      await functions.stop();
      await emulator.close();
    },
  };
}

/** The job's URL as signers sign it under twilio-run (the function rebuilds `localhost`, not 127.0.0.1). */
export function jobUrl(system: System): string {
  return `http://localhost:${system.functions.port}/sync-recent-calls`;
}

/** Calls /sync-recent-calls, signed as the scheduler does, until it answers done (or `maxInvocations` pass). */
export function syncRecentCalls(system: System, maxInvocations = 20): Promise<SyncUntilDoneResult> {
  return syncUntilDone({
    url: jobUrl(system),
    authToken: system.emulator.config.authToken,
    maxInvocations,
    log: () => {},
  });
}
