/** What the emulator's Serverless API holds: services and everything under them, as the real resources do. */

export type Visibility = 'public' | 'protected' | 'private';
export type BuildStatus = 'building' | 'completed' | 'failed';

export interface Dependency {
  name: string;
  version: string;
}

export interface ServerlessService {
  sid: string;
  uniqueName: string;
  friendlyName: string;
  includeCredentials: boolean;
  uiEditable: boolean;
  domainBase: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface ServerlessEnvironment {
  sid: string;
  serviceSid: string;
  uniqueName: string;
  domainSuffix: string | null;
  domainName: string;
  buildSid: string | null;
  dateCreated: number;
  dateUpdated: number;
}

export interface ServerlessVariable {
  sid: string;
  serviceSid: string;
  environmentSid: string;
  key: string;
  value: string;
  dateCreated: number;
  dateUpdated: number;
}

/** A Function or an Asset: a named container of uploaded versions. */
export interface ServerlessResource {
  kind: 'function' | 'asset';
  sid: string;
  serviceSid: string;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface ServerlessVersion {
  kind: 'function' | 'asset';
  sid: string;
  serviceSid: string;
  /** The Function's (ZH) or Asset's (ZH) SID. */
  resourceSid: string;
  path: string;
  visibility: Visibility;
  content: Buffer;
  contentType: string;
  dateCreated: number;
}

export interface ServerlessBuild {
  sid: string;
  serviceSid: string;
  status: BuildStatus;
  functionVersions: string[];
  assetVersions: string[];
  dependencies: Dependency[];
  runtime: string;
  /** Why the build failed (the real API shows only `failed`; the emulator's admin record says why). */
  failure: string | null;
  /** Where the build's files were laid out, once completed. */
  directory: string | null;
  dateCreated: number;
  dateUpdated: number;
}

export interface ServerlessDeployment {
  sid: string;
  serviceSid: string;
  environmentSid: string;
  buildSid: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface ServerlessLog {
  sid: string;
  serviceSid: string;
  environmentSid: string;
  buildSid: string;
  deploymentSid: string;
  functionSid: string | null;
  requestSid: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  dateCreated: number;
}

export interface ServerlessState {
  services: Map<string, ServerlessService>;
  environments: Map<string, ServerlessEnvironment>;
  variables: Map<string, ServerlessVariable>;
  resources: Map<string, ServerlessResource>;
  versions: Map<string, ServerlessVersion>;
  builds: Map<string, ServerlessBuild>;
  deployments: Map<string, ServerlessDeployment>;
  logs: ServerlessLog[];
}

export function createServerlessState(): ServerlessState {
  return {
    services: new Map(),
    environments: new Map(),
    variables: new Map(),
    resources: new Map(),
    versions: new Map(),
    builds: new Map(),
    deployments: new Map(),
    logs: [],
  };
}
