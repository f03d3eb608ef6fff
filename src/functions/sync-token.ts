/**
 * POST /sync-token (public: browsers cannot sign requests, so every check is made here).
 * A Flex user (Token = the Flex token) or a signed server request (X-Twilio-Signature, naming Identity) gets a
 * Twilio Access Token with a Sync grant: `{token, identity, ttl, expiresAt, serviceSid}`, Cache-Control no-store.
 * Errors and their codes: docs/endpoints.md "Sync token endpoint" (src/http/error-codes.ts).
 */
import { readSyncTokenConfig } from '../config/sync-token';
import { defineFunction } from '../http/function';
import { mintSyncToken } from '../tokens/access-token';
import { identifyCaller } from '../tokens/caller';
import { resolveLifetime } from '../tokens/lifetime';
import { requireServiceAcl } from '../tokens/service-acl';
import { createTwilioClient, emulatorUrl } from '../twilio/client-factory';
import { estimatedServerNow } from '../twilio/http-client';

/**
 * The service's ACL setting is looked up at most every few minutes; this bounds that lookup, retries included. Like
 * IAM's budget it is carved from the request's deadline, so the two together cannot outlast the invocation.
 */
const SERVICE_CHECK_BUDGET_MS = 1500;

export const handler = defineFunction({
  name: 'sync-token',
  methods: ['POST'],
  cors: true,
  async handle(request) {
    const config = readSyncTokenConfig(request.context);
    const ttl = resolveLifetime(request.params.Ttl, config.ttlSeconds);
    const caller = await identifyCaller(request, config);
    await requireServiceAcl(
      () => createTwilioClient(request.context, { deadline: request.deadline.child(SERVICE_CHECK_BUDGET_MS) }).client,
      config.syncServiceSid,
      config.allowAclDisabled,
    );
    // iat/exp by Twilio's clock (the Date headers of its answers), the clock that will judge the token.
    const issued = mintSyncToken(
      config,
      caller.identity,
      ttl,
      estimatedServerNow(emulatorUrl({ TWILIO_EMULATOR_URL: request.context.TWILIO_EMULATOR_URL })),
    );
    request.log.info('sync token issued', {
      identity: caller.identity,
      via: caller.via,
      validation: caller.via === 'flex' ? caller.validation : undefined,
      ttl,
    });
    return { body: issued };
  },
});
