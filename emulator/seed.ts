/** Demo and test data: Flex workers, their voice calls and the TaskRouter events that record them. (Being implemented.) */
import type { Emulator } from './server';

export interface SeedRequest {
  agents: number;
  callsPerAgent: number;
  days: number;
}

export interface SeededAgent {
  workerSid: string;
  identity: string;
  friendlyName: string;
  roles: string[];
}

export interface SeedResult {
  agents: SeededAgent[];
  calls: number;
  events: number;
}

export function seed(_emu: Emulator, _request: SeedRequest): SeedResult {
  return { agents: [], calls: 0, events: 0 };
}
