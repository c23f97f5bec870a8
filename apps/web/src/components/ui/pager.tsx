import type { CursorPages } from '../../lib/use-cursor-pages.ts';

/** Cursor pagination: the API gives only "next", so `pages` keeps a stack for "previous". */
export function Pager({ pages, nextCursor }: { pages: CursorPages; nextCursor: string | null | undefined }) {
  if (!pages.hasPrevious && !nextCursor) return null;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" onClick={pages.previous} disabled={!pages.hasPrevious}>
        Previous
      </button>
      <span>Page {pages.page}</span>
      <button type="button" onClick={() => nextCursor && pages.next(nextCursor)} disabled={!nextCursor}>
        Next
      </button>
    </nav>
  );
}
