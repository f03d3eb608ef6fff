/** TaskRouter v1: Workspaces, Workers, Events. (Being implemented.) */
import type { Router } from '../core/router';
import type { Emulator } from '../server';

export interface WorkerRecord {
  sid: string;
  friendlyName: string;
  /** Parsed worker attributes; rendered as a JSON string like the real API. */
  attributes: Record<string, unknown>;
  activityName: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface EventRecord {
  sid: string;
  eventType: string;
  eventDateMs: number;
  resourceSid: string;
  resourceType: string;
  description: string;
  /** snake_case keys; numbers as strings; task_attributes / worker_attributes as JSON strings. */
  eventData: Record<string, unknown>;
  actorSid: string;
  actorType: string;
}

export interface TaskRouterState {
  workspace: { sid: string; friendlyName: string; dateCreated: number; dateUpdated: number };
  workers: Map<string, WorkerRecord>;
  events: EventRecord[];
}

export function createTaskRouterState(emu: Emulator): TaskRouterState {
  const now = emu.clock.now();
  return {
    workspace: { sid: emu.config.workspaceSid, friendlyName: 'Flex Task Assignment', dateCreated: now, dateUpdated: now },
    workers: new Map(),
    events: [],
  };
}

export function registerTaskRouter(_router: Router, _emu: Emulator): void {}
