import type { AdminUser } from '@sfe/contract';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { useDeletePrivateKey, useDisableUser, useEnableUser, useIncidentResponse, useResetMfa, useRevokeGrants } from '../api/users.ts';
import { ConfirmAction } from './confirm-action.tsx';
import { EraseUser } from './erase-user.tsx';

export type ConfirmedAction = 'disable' | 'revokeGrants' | 'deletePrivateKey' | 'resetMfa' | 'incident' | 'erase';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The row's buttons. Destructive ones only open a confirmation (held by the screen, so a refetch cannot close it). */
export function UserActions({ user, onOpen }: { user: AdminUser; onOpen: (action: ConfirmedAction) => void }) {
  const enable = useEnableUser();
  const name = user.username;
  if (user.status === 'erased') return <span className="muted">Erased: nothing left to do</span>;
  return (
    <>
      <div className="button-row">
        {user.status === 'disabled' ? (
          <button type="button" className="button-small" disabled={enable.isPending} onClick={() => enable.mutate(user.id)} aria-label={`Enable ${name}`}>
            Enable
          </button>
        ) : (
          <button type="button" className="button-small" onClick={() => onOpen('disable')} aria-label={`Disable ${name}`}>
            Disable
          </button>
        )}
        <button type="button" className="button-small" onClick={() => onOpen('revokeGrants')} aria-label={`Revoke all grants of ${name}`}>
          Revoke all grants
        </button>
        <button
          type="button"
          className="button-small"
          onClick={() => onOpen('deletePrivateKey')}
          disabled={!user.hasPrivateKey}
          aria-label={`Delete private key of ${name}`}
        >
          Delete private key
        </button>
        <button type="button" className="button-small" onClick={() => onOpen('resetMfa')} aria-label={`Reset the second factors of ${name}`}>
          Reset second factors
        </button>
        <button type="button" className="button-small button-danger" onClick={() => onOpen('incident')} aria-label={`Incident response for ${name}`}>
          Incident response
        </button>
        <button type="button" className="button-small button-danger" onClick={() => onOpen('erase')} aria-label={`Erase ${name}`}>
          Erase
        </button>
      </div>
      <ErrorAlert error={enable.error} title="Not enabled." />
    </>
  );
}

/** The confirmation, then the summary, of one destructive action on `user` (as it was when opened). */
export function UserActionDialog({ action, user, onClose }: { action: ConfirmedAction; user: AdminUser; onClose: () => void }) {
  const disable = useDisableUser();
  const revokeGrants = useRevokeGrants();
  const deleteKey = useDeletePrivateKey();
  const resetMfa = useResetMfa();
  const incident = useIncidentResponse();
  const name = user.username;
  const common = { userId: user.id, onClose };
  switch (action) {
    case 'erase':
      return <EraseUser user={user} onClose={onClose} />;
    case 'disable':
      return (
        <ConfirmAction {...common} title={`Disable ${name}`} confirmLabel="Disable" mutation={disable} summary={() => `${name} is disabled: every session ended, sign-in refused until enabled again.`}>
          <p>
            {name} is signed out everywhere (every session ends on its next request) and cannot sign in until an admin enables the account
            again. Grants and keys are kept.
          </p>
        </ConfirmAction>
      );
    case 'revokeGrants':
      return (
        <ConfirmAction {...common} title={`Revoke all grants of ${name}`} confirmLabel="Revoke all grants" mutation={revokeGrants} summary={(r) => `${plural(r.grantsRevoked, 'grant')} revoked.`}>
          <p>
            Every pending, approved or suspended request {user.role === 'organization' ? `on the files of ${name}` : `${name} holds`} becomes
            revoked and loses its wrapped key ({plural(user.activeGrants, 'active grant')} now). This cannot be undone; new requests can be made.
          </p>
        </ConfirmAction>
      );
    case 'deletePrivateKey':
      return (
        <ConfirmAction {...common} title={`Delete the private key of ${name}`} confirmLabel="Delete private key" mutation={deleteKey} summary={() => `The private key of ${name} is deleted; its grants were revoked first.`}>
          <p>
            The grants of {name} are revoked first (once the key is gone they could never open), then the private key is deleted from the key
            store. {name} can no longer download or rotate keys. This cannot be undone.
          </p>
        </ConfirmAction>
      );
    case 'resetMfa':
      return (
        <ConfirmAction
          {...common}
          title={`Reset the second factors of ${name}`}
          confirmLabel="Reset second factors"
          mutation={resetMfa}
          summary={(r) => (
            <>
              <strong>Second factors of {name} reset:</strong>
              <ul>
                <li>{r.totpRemoved ? 'Authenticator app removed' : 'No authenticator app was set up'}</li>
                <li>{plural(r.passkeysRemoved, 'passkey')} removed</li>
                <li>{plural(r.recoveryCodesRemoved, 'recovery code')} removed</li>
                <li>Every session ended</li>
              </ul>
            </>
          )}
        >
          <p>
            For a lost phone or security key. The authenticator app, every passkey and every recovery code of {name} are removed, and {name} is
            signed out everywhere. {name} then signs in with the password alone and sets up a second factor again (at once, if the role must use
            one). Make sure the request really comes from {name}: until then, the password is the only thing protecting the account.
          </p>
        </ConfirmAction>
      );
    case 'incident':
      return (
        <ConfirmAction
          {...common}
          title={`Incident response for ${name}`}
          confirmLabel="Run incident response"
          mutation={incident}
          summary={(r) => (
            <>
              <strong>Done for {name}:</strong>
              <ul>
                <li>{r.disabled ? 'Account disabled' : 'Account was already disabled'}</li>
                <li>{plural(r.sessionsEnded, 'session')} ended</li>
                <li>{plural(r.grantsRevoked, 'grant')} revoked</li>
                <li>{r.privateKeyDeleted ? 'Private key deleted' : 'No private key to delete'}</li>
              </ul>
            </>
          )}
        >
          <p>For a compromised account. This will, in one step:</p>
          <ol>
            <li>disable {name}: sign-in is refused until an admin enables the account;</li>
            <li>end every session of {name}: open tabs are sent to the sign-in page on their next action;</li>
            <li>revoke every grant ({plural(user.activeGrants, 'active grant')} now), deleting their wrapped keys;</li>
            <li>{user.hasPrivateKey ? `delete the private key of ${name} from the key store.` : 'delete the private key (there is none now).'}</li>
          </ol>
          <p>The revoked grants and the deleted key cannot be restored.</p>
        </ConfirmAction>
      );
  }
}
