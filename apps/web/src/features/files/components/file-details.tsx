import type { FileMetadata } from '@sfe/contract';
import { CopyButton } from '../../../components/ui/copy-button.tsx';
import { formatBytes, formatDateTime } from '../../../lib/format.ts';

export function FileDetails({ file }: { file: FileMetadata }) {
  return (
    <dl className="details">
      <dt>Size</dt>
      <dd>{formatBytes(file.size)}</dd>
      <dt>Type</dt>
      <dd>{file.contentType}</dd>
      <dt>Uploaded</dt>
      <dd>{formatDateTime(file.createdAt)}</dd>
      <dt>Encryption</dt>
      <dd>{file.algorithm}</dd>
      <dt>SHA-256</dt>
      <dd>
        <code className="wrap">{file.sha256}</code> <CopyButton value={file.sha256} label="Copy SHA-256" />
      </dd>
      {file.description ? (
        <>
          <dt>Description</dt>
          <dd>{file.description}</dd>
        </>
      ) : null}
    </dl>
  );
}
