/**
 * GET or POST /recent-calls (public: browsers call it with the agent's Flex token).
 * The caller's own recent calls (or, for supervisors, the named worker's) from its Sync map, newest first, without
 * the items whose date_expires has passed by Twilio's clock, paged:
 * `{calls, workerSid, nextPageToken, serverTime}`, Cache-Control no-store. Parameters and error codes: docs/endpoints.md
 * "Reading recent calls" (src/recent-calls/read-request.ts; its errors in read-errors.ts, answered as
 * src/http/error-response.ts maps them).
 */
import { readRecentCallsConfig } from '../config/recent-calls';
import { defineFunction } from '../http/function';
import { readQuery } from '../recent-calls/read-request';
import { readOrEmpty, readRecentCallsPage, syncItemLister } from '../recent-calls/reader';
import { createTwilioClient, type ProjectTwilioClient } from '../twilio/client-factory';

/** Time allowed for IAM and the Sync reads together (retries included), carved from the request's deadline. */
const BUDGET_MS = 8000;

export const handler = defineFunction({
  name: 'recent-calls',
  methods: ['GET', 'POST'],
  cors: true,
  async handle(request) {
    const config = readRecentCallsConfig(request.context);
    const deadline = request.deadline.child(BUDGET_MS);
    let twilio: ProjectTwilioClient | undefined;
    const twilioClient = () => (twilio ??= createTwilioClient(request.context, { deadline }));

    const query = await readQuery(request, config, twilioClient);
    const { client, http } = twilioClient();
    const page = await readOrEmpty(
      client,
      config.syncServiceSid,
      () =>
        readRecentCallsPage(syncItemLister(client, config.syncServiceSid, query.workerSid), {
          workerSid: query.workerSid,
          nowMs: () => http.serverNow(),
          pageSize: query.pageSize,
          after: query.after,
          deadline,
        }),
      { calls: [], nextPageToken: null, stats: { requests: 1, itemsRead: 0 } },
    );
    const nowMs = http.serverNow();
    request.log.info('recent calls read', {
      identity: query.caller.identity,
      workerSid: query.workerSid,
      own: query.workerSid === query.caller.workerSid,
      syncRequests: page.stats.requests,
      itemsRead: page.stats.itemsRead,
      returned: page.calls.length,
      more: page.nextPageToken !== null,
    });
    return {
      body: {
        calls: page.calls,
        workerSid: query.workerSid,
        nextPageToken: page.nextPageToken,
        serverTime: new Date(nowMs).toISOString(),
      },
    };
  },
});
