import { fingerprintGroups } from '../../lib/format.ts';

/** A key fingerprint in short groups, for reading aloud; announced as one phrase. */
export function Fingerprint({ value }: { value: string }) {
  const groups = fingerprintGroups(value);
  return (
    <span className="fingerprint" aria-label={`Fingerprint: ${groups.join(' ')}`}>
      {groups.map((g, i) => (
        <span key={i} className="fp-group">
          {g}
        </span>
      ))}
    </span>
  );
}
