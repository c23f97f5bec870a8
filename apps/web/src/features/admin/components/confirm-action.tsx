import type { UseMutationResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Dialog } from '../../../components/ui/dialog.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';

interface ConfirmActionProps<T> {
  title: string;
  /** What will happen, said before anything is done. */
  children: ReactNode;
  confirmLabel: string;
  mutation: UseMutationResult<T, Error, string>;
  userId: string;
  /** What was done, from the API's answer. */
  summary: (result: T) => ReactNode;
  onClose: () => void;
  /** Extra condition for the confirm button (e.g. the username typed again). */
  ready?: boolean;
}

/**
 * A destructive account action: the dialog says what will happen, runs only on the
 * confirm button, then says what was done (from the answer, not from the plan).
 */
export function ConfirmAction<T>({ title, children, confirmLabel, mutation, userId, summary, onClose, ready = true }: ConfirmActionProps<T>) {
  const done = mutation.isSuccess && mutation.variables === userId;
  return (
    <Dialog title={title} onClose={onClose} busy={mutation.isPending}>
      {done ? (
        <>
          <div className="alert alert-success" role="status">
            {summary(mutation.data)}
          </div>
          <div className="button-row">
            <button type="button" data-autofocus onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : (
        <>
          {children}
          <ErrorAlert error={mutation.error} title="Nothing was changed." />
          <div className="button-row">
            <button type="button" className="button-danger" disabled={!ready || mutation.isPending} onClick={() => mutation.mutate(userId)}>
              {mutation.isPending ? 'Working…' : confirmLabel}
            </button>
            <button type="button" data-autofocus onClick={onClose} disabled={mutation.isPending}>
              Cancel
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
