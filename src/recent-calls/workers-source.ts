/**
 * Agent identities in bulk, for the workers whose reservation events did not carry `worker_attributes`: one Workers
 * list (1000 a page), read at most once per run and only when a permission has to be granted.
 */
import type { Twilio } from 'twilio';
import type { WorkerInstance } from 'twilio/lib/rest/taskrouter/v1/workspace/worker';
import type { PageLike } from './paging';
import { identityFromContactUri, parseAttributes } from './events-source';

export async function readWorkerIdentities(
  client: Twilio,
  options: { workspaceSid: string; maxWorkers: number },
): Promise<Map<string, string>> {
  const identities = new Map<string, string>();
  let page: PageLike<WorkerInstance> = await client.taskrouter.v1
    .workspaces(options.workspaceSid)
    .workers.page({ pageSize: 1000 });
  let seen = 0;
  for (;;) {
    for (const worker of page.instances) {
      seen += 1;
      const identity = identityFromContactUri(parseAttributes(worker.attributes).contact_uri);
      if (identity) identities.set(worker.sid, identity);
    }
    const next = page.nextPage();
    if (!next || seen >= options.maxWorkers) break;
    page = await next;
    if (page.instances.length === 0) break;
  }
  return identities;
}
