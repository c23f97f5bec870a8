import type { ReactNode } from 'react';
import { ErrorAlert } from './error-alert.tsx';
import { Spinner } from './spinner.tsx';

/** What every list shows besides its rows: loading, a readable error, or that it is empty. */
export function ListStatus({
  query,
  loading,
  empty,
}: {
  query: { isPending: boolean; error: unknown };
  /** Accessible label of the spinner. */
  loading: string;
  /** Shown once loaded with no rows; null while rows exist or nothing has loaded. */
  empty: ReactNode;
}) {
  return (
    <>
      {query.isPending ? <Spinner label={loading} /> : null}
      <ErrorAlert error={query.error} />
      {empty ? <p>{empty}</p> : null}
    </>
  );
}
