/**
 * The cursors of every checkpoint document of the job (the main one and the shards'), read with one Documents list
 * (100 a page, a few pages at most) at the start of a run, for the handover rules (shard-handover.ts).
 *
 * Each document is judged as the job judges its own: only a state whose seal verifies with the job's key counts,
 * and only a cursor that is not ahead of Twilio's clock. Anything else counts as "no cursor", which can only make a
 * set incomplete (a run then starts further back: more reads, never a skipped call).
 */
import type { Twilio } from 'twilio';
import type { DocumentInstance } from 'twilio/lib/rest/sync/v1/service/document';
import { EMPTY_STATE, readState } from './checkpoint-state';
import { trustedCursor } from './cursor';
import { canonicalJson, sealMatches } from './checkpoint-seal';
import { hasNextPage, type PageLike } from './paging';
import { shardOfDocument } from './shard';
import type { CheckpointCursor } from './shard-handover';

/** Sync's largest page. */
const PAGE_SIZE = 100;
/** Documents pages read at most (other applications may keep documents in the same service). */
const MAX_PAGES = 5;

export interface CheckpointCursorsRead {
  cursors: CheckpointCursor[];
  /** Checkpoint documents whose state failed its seal check (left out). */
  unsealed: number;
  pages: number;
}

/** The trusted cursor of one listed document, or undefined when it is not one of the job's checkpoints. */
export function checkpointCursorOf(
  document: { uniqueName?: string | null; data?: unknown },
  options: { key: Buffer; serviceSid: string; serverNowMs: number },
): { cursor: CheckpointCursor; sealed: boolean } | undefined {
  const name = document.uniqueName ?? '';
  const shard = shardOfDocument(name);
  if (!shard) return undefined;
  const state = readState(document.data);
  const seal =
    document.data && typeof document.data === 'object' ? (document.data as { seal?: unknown }).seal : undefined;
  if (!sealMatches(options.key, `${options.serviceSid}/${name}`, state, seal)) {
    // An unsealed empty state (as `npm run setup` creates the main one) is no forgery: it just has no cursor.
    const empty = seal === undefined && canonicalJson(state) === canonicalJson(EMPTY_STATE);
    return { cursor: { shard, cursorMs: undefined }, sealed: empty };
  }
  return { cursor: { shard, cursorMs: trustedCursor(state.cursor, options.serverNowMs).cursorMs }, sealed: true };
}

export async function readCheckpointCursors(
  client: Twilio,
  options: { serviceSid: string; key: Buffer; serverNow: () => number },
): Promise<CheckpointCursorsRead> {
  const documents = client.sync.v1.services(options.serviceSid).documents;
  let page: PageLike<DocumentInstance> = await documents.page({ pageSize: PAGE_SIZE });
  const read: CheckpointCursorsRead = { cursors: [], unsealed: 0, pages: 1 };
  for (;;) {
    const serverNowMs = options.serverNow();
    for (const document of page.instances) {
      const found = checkpointCursorOf(document, { key: options.key, serviceSid: options.serviceSid, serverNowMs });
      if (!found) continue;
      read.cursors.push(found.cursor);
      if (!found.sealed) read.unsealed += 1;
    }
    if (!hasNextPage(page) || read.pages >= MAX_PAGES) return read;
    const next = await page.nextPage();
    if (!next || next.instances.length === 0) return read;
    page = next;
    read.pages += 1;
  }
}
