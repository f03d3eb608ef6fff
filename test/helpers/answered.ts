/**
 * How the edge would answer what a domain function throws: its status, code, message and headers through the one
 * table (src/http/error-response.ts), plus the error itself. For unit tests of the domain, whose functions throw
 * their own error types and never pick a status.
 */
import { describeError } from '../../src/http/error-response';

export type Answered = ReturnType<typeof describeError> & { error: unknown };

/** The answer to what `fn` throws; fails the test when it throws nothing. */
export function answered(fn: () => unknown): Answered {
  try {
    fn();
  } catch (error) {
    return { ...describeError(error), error };
  }
  throw new Error('expected a refusal, but nothing was thrown');
}

/** The answer to what `promise` rejects with; fails the test when it resolves. */
export async function answeredAsync(promise: Promise<unknown>): Promise<Answered> {
  try {
    await promise;
  } catch (error) {
    return { ...describeError(error), error };
  }
  throw new Error('expected a refusal, but the promise resolved');
}
