/**
 * A sane Access Token identity: printable ASCII (space to ~), no leading or trailing blanks, 1 to 121 characters.
 * It bounds the identity a signed server request names (`Identity`: the signer holds the auth token, so it may choose
 * it) and, as defence in depth, the identity Twilio IAM returns for a Flex token before it goes into a token.
 */
import { InvalidParameter } from '../params/errors';
import { FlexIdentityRejected } from './errors';

export const MAX_IDENTITY_LENGTH = 121;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** What is wrong with `value` as an identity ("must be …"), or undefined when it is fine. */
export function identityProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'is required';
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > MAX_IDENTITY_LENGTH) return `must be at most ${MAX_IDENTITY_LENGTH} characters`;
  if (!PRINTABLE_ASCII.test(value)) return 'must be printable ASCII';
  if (value.trim() !== value) return 'must not start or end with a space';
  return undefined;
}

/** The `Identity` of a signed request, or InvalidParameter (400 IDENTITY_INVALID). */
export function validateIdentity(value: unknown): string {
  const problem = identityProblem(value);
  if (problem === undefined) return value as string;
  throw new InvalidParameter(
    'Identity',
    `Identity ${problem === 'is required' ? 'is required in a signed request' : problem}`,
  );
}

/** The identity IAM named for a Flex user, or FlexIdentityRejected (403: the user cannot fix it by retrying). */
export function validateFlexIdentity(value: string): string {
  const problem = identityProblem(value);
  if (problem === undefined) return value;
  throw new FlexIdentityRejected(
    problem,
    `The identity Twilio IAM gave for this Flex user ${problem}, so it cannot go into a Sync token`,
  );
}
