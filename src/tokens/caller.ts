/**
 * Who is asking for a Sync token, from a verified source only:
 * 1. a `Token` parameter: a Flex user's token, verified with Twilio IAM; its identity is IAM's (bounded like a signed
 *    one before it goes into a token), and any `Identity` parameter next to it is ignored;
 * 2. otherwise an X-Twilio-Signature: a server-side signer holding the auth token, which names the `Identity` (and
 *    optionally `Ttl` and `SignedAt`; any other parameter, an empty `Token` included, is refused);
 * 3. otherwise nothing: CredentialsMissing.
 */
import { CredentialsMissing } from '../auth/errors';
import { hasSignature, verifySignature } from '../auth/signature';
import { verifyFlexToken } from '../auth/flex-token';
import type { CacheSource } from '../auth/flex-token-cache';
import type { SyncTokenConfig } from '../config/sync-token';
import type { FunctionRequest } from '../http/function';
import { createTwilioClient, twilioNow } from '../twilio/client-factory';
import { InvalidParameter } from '../params/errors';
import { validateFlexIdentity, validateIdentity } from './identity';

/** Time allowed for IAM (retries included), carved from the request's deadline. */
export const IAM_BUDGET_MS = 8000;

/** What a signed /sync-token request may name (besides SignedAt). */
export const SIGNED_TOKEN_PARAMS = ['Identity', 'Ttl'] as const;

export type VerifiedCaller =
  { via: 'flex'; identity: string; roles: string[]; validation: CacheSource } | { via: 'signature'; identity: string };

export async function identifyCaller(request: FunctionRequest, config: SyncTokenConfig): Promise<VerifiedCaller> {
  const token = request.params.Token;
  if (token !== undefined && token !== null && token !== '') {
    if (typeof token !== 'string') throw new InvalidParameter('Token', 'Token must be a string');
    request.addSecret(token);
    const deadline = request.deadline.child(IAM_BUDGET_MS);
    const { user, source } = await verifyFlexToken(token, {
      accountSid: config.accountSid,
      cacheSeconds: config.validationCacheSeconds,
      policy: { allowGuests: config.allowGuests, allowedRoles: config.allowedRoles },
      twilioClient: () => createTwilioClient(request.context, { deadline }),
    });
    return { via: 'flex', identity: validateFlexIdentity(user.identity), roles: user.roles, validation: source };
  }
  if (hasSignature(request.headers)) {
    verifySignature(request, config.authToken, { allowed: SIGNED_TOKEN_PARAMS, now: () => twilioNow(request.context) });
    return { via: 'signature', identity: validateIdentity(request.params.Identity) };
  }
  throw new CredentialsMissing('Send the Flex token as Token, or sign the request');
}
