/**
 * Structured JSON log lines, one per call, each with the request id. Values that look like credentials are
 * redacted by key and by known secret value, so no auth token, API secret or Flex token reaches a log line.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const SECRET_KEYS = /token|secret|password|authorization|signature|auth/i;
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  fields?: Record<string, unknown>;
  /** Exact values that must never be printed (auth token, API secret, the caller's Flex token). */
  secrets?: readonly string[];
  level?: LogLevel;
  write?: (line: string) => void;
}

export function redact(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (const secret of secrets) if (secret && secret.length >= 8) text = text.split(secret).join('[REDACTED]');
    return text;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth > 5) return '[TRUNCATED]'; // never print what was not inspected
  if (value instanceof Error) return { name: value.name, message: redact(value.message, secrets) };
  if (Array.isArray(value)) return value.map((item) => redact(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.test(key) && typeof item === 'string' ? '[REDACTED]' : redact(item, secrets, depth + 1);
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const minLevel = LEVELS[options.level ?? 'info'];
  const secrets = options.secrets ?? [];
  const write = options.write ?? ((line: string) => console.log(line));
  const base = options.fields ?? {};
  const log = (level: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < minLevel) return;
    const entry = redact({ level, time: new Date().toISOString(), msg: message, ...base, ...fields }, secrets);
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}
