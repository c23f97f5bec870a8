import { useCallback, useState } from 'react';

type Stack = (string | undefined)[];
interface PagesState {
  key: string;
  stack: Stack;
}

const FIRST_PAGE: Stack = [undefined];

function stackFor(state: PagesState, key: string): Stack {
  return state.key === key ? state.stack : FIRST_PAGE;
}

/**
 * Keeps the cursors of visited pages so "Previous" works with next-only cursors.
 * A new `resetKey` (say, a new search) starts again at page 1 in the same render,
 * so a cursor from another query is never sent.
 */
export type CursorPages = ReturnType<typeof useCursorPages>;

export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<PagesState>({ key: resetKey, stack: FIRST_PAGE });
  const stack = stackFor(state, resetKey);
  const next = useCallback(
    (cursor: string) => setState((s) => ({ key: resetKey, stack: [...stackFor(s, resetKey), cursor] })),
    [resetKey],
  );
  const previous = useCallback(
    () =>
      setState((s) => {
        const current = stackFor(s, resetKey);
        return { key: resetKey, stack: current.length > 1 ? current.slice(0, -1) : current };
      }),
    [resetKey],
  );
  return { cursor: stack[stack.length - 1], page: stack.length, hasPrevious: stack.length > 1, next, previous };
}
