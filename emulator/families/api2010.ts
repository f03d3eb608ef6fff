/** API 2010: Calls list and fetch. (Being implemented.) */
import type { Router } from '../core/router';
import type { Emulator } from '../server';

export interface CallRecord {
  sid: string;
  from: string;
  to: string;
  direction: string;
  status: string;
  startTimeMs: number;
  endTimeMs: number;
  durationSeconds: number;
  parentCallSid: string | null;
}

export interface CallsState {
  calls: Map<string, CallRecord>;
}

export function createCallsState(_emu: Emulator): CallsState {
  return { calls: new Map() };
}

export function registerApi2010(_router: Router, _emu: Emulator): void {}
