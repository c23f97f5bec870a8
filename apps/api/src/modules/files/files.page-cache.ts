import type { ListFilesQuery } from '@sfe/contract';
import type { Actor } from '../../lib/actor.ts';

/**
 * Serialized pages of organizations' own file lists, kept with the list version they were
 * read at and served only when the request's own authentication check has just read that
 * same version from the database.
 *
 * Why this never serves a stale page: `file_list_versions` holds, per owner, a random value
 * that triggers on `encrypted_files` replace in the same transaction as any insert, delete
 * or change of a listed column, whoever writes (another replica, the CLI). A page is read
 * in one statement together with the version, and the session check reads the version
 * again on every request, so equal versions mean the rows are the rows the page was built
 * from. Random rather than counted, so a database restored to an earlier state cannot
 * show a version that a different state had. Nothing about the account is kept: the
 * session check (disabled, logged out, password changed) still runs first, every time.
 *
 * What a page depends on besides the rows is in its key: the owner, the owner's name (the
 * items' ownerName), the page size and the name filter. Pages after a cursor are not kept
 * (their first row depends on the cursor's file, which may be another owner's), nor are
 * consultants' (their access state changes with time) or admins' (every owner's files).
 */

/** Bytes of serialized pages kept per process, least recently used dropped first. */
export const LIST_PAGE_CACHE_BYTES = 8 * 1024 * 1024;
/** A page larger than this is served but not kept (one page must not evict all others). */
const MAX_PAGE_SHARE = 8;

interface KeptPage {
  version: string;
  body: Buffer;
}

export class ListPageCache {
  readonly #pages = new Map<string, KeptPage>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes = LIST_PAGE_CACHE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Which kept page a request would use, or null if its page is never kept. */
  static keyOf(actor: Actor, query: ListFilesQuery): string | null {
    if (actor.role !== 'organization' || query.cursor !== undefined) return null;
    return JSON.stringify([actor.id, actor.username, query.limit ?? null, query.q ?? null]);
  }

  /** The page kept under `key` if it was read at `version` (the version read this request). */
  get(key: string, version: string | null): Buffer | undefined {
    if (version === null) return undefined;
    const page = this.#pages.get(key);
    if (page === undefined) return undefined;
    if (page.version !== version) {
      this.#drop(key, page);
      return undefined;
    }
    // Most recently used last.
    this.#pages.delete(key);
    this.#pages.set(key, page);
    return page.body;
  }

  set(key: string, version: string, body: Buffer): void {
    const old = this.#pages.get(key);
    if (old !== undefined) this.#drop(key, old);
    if (body.length > this.#maxBytes / MAX_PAGE_SHARE) return;
    this.#pages.set(key, { version, body });
    this.#bytes += body.length;
    for (const [oldest, page] of this.#pages) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#drop(oldest, page);
    }
  }

  get size(): number {
    return this.#pages.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #drop(key: string, page: KeptPage): void {
    this.#pages.delete(key);
    this.#bytes -= page.body.length;
  }
}
