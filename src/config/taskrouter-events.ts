/** The /taskrouter-events function's settings, read from the Functions environment (see docs/realtime.md). */
import { boolean, integerInRange, optionalString, type Env } from './env';
import { ConfigError } from './errors';

export interface TaskRouterEventsConfig {
  /** The user name of the Basic credentials the sink URL (and, when required, the callback URL) carries. */
  username: string;
  /** Their password; undefined when not configured (Event Streams deliveries are then refused). */
  secret?: string;
  /** Also require the Basic credentials on workspace callbacks (for accounts whose callbacks arrive unsigned). */
  requireBasicForCallbacks: boolean;
  /** The delivery is answered within this many ms (Event Streams allows 5 s, TaskRouter callbacks 15 s). */
  budgetMs: number;
}

const USERNAME = /^[A-Za-z0-9._~-]{1,64}$/;
/** At least 128 bits in URL-safe characters: the secret travels in a URL's user info. */
const SECRET = /^[A-Za-z0-9._~-]{22,256}$/;

export function readTaskRouterEventsConfig(env: Env): TaskRouterEventsConfig {
  const username = optionalString(env, 'TASKROUTER_EVENTS_USERNAME', 'taskrouter');
  if (!USERNAME.test(username))
    throw new ConfigError('TASKROUTER_EVENTS_USERNAME', 'must be 1–64 URL-safe characters ([A-Za-z0-9._~-])');
  const secret = optionalString(env, 'TASKROUTER_EVENTS_SECRET', '') || undefined;
  if (secret !== undefined && !SECRET.test(secret)) {
    throw new ConfigError(
      'TASKROUTER_EVENTS_SECRET',
      'must be 22–256 URL-safe characters ([A-Za-z0-9._~-]); npm run setup generates one',
    );
  }
  const requireBasicForCallbacks = boolean(env, 'TASKROUTER_EVENTS_REQUIRE_BASIC', false);
  if (requireBasicForCallbacks && !secret)
    throw new ConfigError('TASKROUTER_EVENTS_SECRET', 'is not set, but TASKROUTER_EVENTS_REQUIRE_BASIC is true');
  return {
    username,
    secret,
    requireBasicForCallbacks,
    budgetMs: integerInRange(env, 'TASKROUTER_EVENTS_BUDGET_MS', 3500, 500, 4500),
  };
}
