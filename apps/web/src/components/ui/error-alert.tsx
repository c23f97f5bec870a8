import { describeError } from '../../lib/errors.ts';

/** A readable message, with the problem code kept visible for support requests. */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const { message, code } = describeError(error);
  return (
    <div className="alert alert-error" role="alert">
      {title ? <strong>{title} </strong> : null}
      <span>{message}</span>
      {code ? <span className="error-code"> (code: {code})</span> : null}
    </div>
  );
}
