import { CopyButton } from '../../../components/ui/copy-button.tsx';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { Fingerprint } from '../../../components/ui/fingerprint.tsx';
import { Spinner } from '../../../components/ui/spinner.tsx';
import { formatAge, formatDateTime } from '../../../lib/format.ts';
import { useMyKeys } from '../api/profile.ts';

function downloadPem(pem: string, username: string) {
  const url = URL.createObjectURL(new Blob([pem], { type: 'application/x-pem-file' }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = `${username}-public-key.pem`;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function KeyCard({ username }: { username: string }) {
  const keys = useMyKeys();
  if (keys.isPending) return <Spinner label="Loading your keys…" />;
  if (keys.error) return <ErrorAlert error={keys.error} />;
  const k = keys.data;
  return (
    <section className="card" aria-labelledby="keys-title">
      <h2 id="keys-title">Your key pair</h2>
      <dl className="details">
        <dt>Algorithm</dt>
        <dd>{k.algorithm}</dd>
        <dt>Fingerprint</dt>
        <dd>
          <Fingerprint value={k.fingerprint} />{' '}
          <CopyButton value={k.fingerprint} label="Copy fingerprint" />
        </dd>
        <dt>Key age</dt>
        <dd>
          {formatAge(k.keyGeneratedAt)} (created {formatDateTime(k.keyGeneratedAt)})
        </dd>
        <dt>Private key last used</dt>
        <dd>{k.privateKey ? formatDateTime(k.privateKey.lastAccessed) : 'Private key deleted by an administrator'}</dd>
        <dt>Private key uses</dt>
        <dd>{k.privateKey ? k.privateKey.accessCount : '—'}</dd>
        {k.privateKey ? (
          <>
            <dt>Protected with</dt>
            <dd>
              {k.privateKey.kdf}, {k.privateKey.iterations.toLocaleString()} iterations
            </dd>
          </>
        ) : null}
      </dl>
      <h3>Public key (PEM)</h3>
      <pre className="pem" tabIndex={0} aria-label="Public key in PEM format">
        {k.publicKeyPem}
      </pre>
      <div className="row">
        <CopyButton value={k.publicKeyPem} label="Copy public key" />
        <button type="button" className="button-small" onClick={() => downloadPem(k.publicKeyPem, username)}>
          Download PEM
        </button>
      </div>
    </section>
  );
}
