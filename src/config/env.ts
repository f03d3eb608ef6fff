/** Typed readers for Functions environment variables (context), each failing with a ConfigError that names the variable. */
import type { EnvironmentVariables } from '@twilio-labs/serverless-runtime-types/types';
import { ConfigError } from './errors';

/** The Functions environment as the runtime hands it (context): each variable a string, or unset. */
export type Env = EnvironmentVariables;

function raw(env: Env, name: string): string | undefined {
  // Typed as strings; anything else (a caller's number) is read as its text, never trusted to have .trim().
  const value: unknown = env[name];
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text;
}

export function requiredString(env: Env, name: string, pattern?: RegExp, shape?: string): string {
  const value = raw(env, name);
  if (value === undefined) throw new ConfigError(name, 'is not set');
  if (pattern && !pattern.test(value)) throw new ConfigError(name, `must be ${shape ?? `like ${pattern}`}`);
  return value;
}

export function optionalString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function integerInRange(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `must be from ${min} to ${max}, got ${n}`);
  return n;
}

export function list(env: Env, name: string, fallback: string[]): string[] {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new ConfigError(name, `must be true or false, got "${value}"`);
}

export const SID_PATTERNS = {
  account: /^AC[0-9a-fA-F]{32}$/,
  apiKey: /^SK[0-9a-fA-F]{32}$/,
  syncService: /^IS[0-9a-fA-F]{32}$/,
  workspace: /^WS[0-9a-fA-F]{32}$/,
  worker: /^WK[0-9a-fA-F]{32}$/,
};
