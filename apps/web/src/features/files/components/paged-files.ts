import { useState } from 'react';
import { useCursorPages } from '../../../lib/use-cursor-pages.ts';
import { useFiles } from '../api/files.ts';

const PAGE_SIZE = 20;

/** Search + cursor pagination over GET /files, shared by the owner list and the catalog. */
export function usePagedFiles() {
  const [q, setQ] = useState('');
  const pages = useCursorPages(q);
  const query = useFiles({ limit: PAGE_SIZE, ...(q ? { q } : {}), ...(pages.cursor ? { cursor: pages.cursor } : {}) });
  return { query, pages, onSearch: setQ };
}
