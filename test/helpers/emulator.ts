/**
 * One emulator per test file, reset before each test: `const t = useEmulator();` then `t.emulator`, `t.client`
 * (the real SDK routed to it) and `t.admin` inside tests.
 */
import type { Twilio } from 'twilio';
import { EmulatorAdmin } from '../../emulator/admin-client';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/server';
import { emulatorClient } from './system';

export interface EmulatorFixture {
  emulator: Emulator;
  client: Twilio;
  admin: EmulatorAdmin;
}

export function useEmulator(options: EmulatorOptions = {}): EmulatorFixture {
  const fixture = {} as EmulatorFixture;
  beforeAll(async () => {
    fixture.emulator = await startEmulator(options);
    fixture.client = emulatorClient(fixture.emulator);
    fixture.admin = new EmulatorAdmin(fixture.emulator.url);
  });
  afterAll(() => fixture.emulator?.close());
  beforeEach(() => fixture.admin.reset());
  return fixture;
}

/** The Twilio error a call fails with (the SDK's RestException: status, code, message); fails if it succeeds. */
export async function rejection(promise: Promise<unknown>): Promise<{ status: number; code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { status: number; code: number; message: string };
  }
  throw new Error('expected the call to fail');
}
