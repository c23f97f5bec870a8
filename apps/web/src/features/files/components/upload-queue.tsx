import { isAbortError, type TransferProgress } from '@sfe/api-client';
import type { FileAlgorithm } from '@sfe/contract';
import { useId, useRef, useState, type DragEvent } from 'react';
import { ErrorAlert } from '../../../components/ui/error-alert.tsx';
import { ProgressBar } from '../../../components/ui/progress-bar.tsx';
import { formatBytes } from '../../../lib/format.ts';
import { useUploadFile } from '../api/files.ts';

type ItemStatus = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

interface QueueItem {
  key: string;
  file: File;
  status: ItemStatus;
  loaded: number;
  total: number | null;
  error: unknown;
}

const ALGORITHMS: { value: FileAlgorithm; label: string }[] = [
  { value: 'aes-256-gcm', label: 'AES-256-GCM (default)' },
  { value: 'chacha20-poly1305', label: 'ChaCha20-Poly1305' },
];

/** Two at a time: enough to fill the link without starving the server's encryption. */
const PARALLEL_UPLOADS = 2;

const STATUS_TEXT: Record<ItemStatus, string> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  done: 'Uploaded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function UploadQueue() {
  const upload = useUploadFile();
  const [items, setItems] = useState<QueueItem[]>([]);
  const [algorithm, setAlgorithm] = useState<FileAlgorithm>('aes-256-gcm');
  const [description, setDescription] = useState('');
  const [dragging, setDragging] = useState(false);
  const controllers = useRef(new Map<string, AbortController>());
  const cancelled = useRef(new Set<string>());
  const nextKey = useRef(0);
  const ids = { input: useId(), algorithm: useId(), description: useId() };

  const update = (key: string, patch: Partial<QueueItem>) =>
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...patch } : item)));

  function add(files: FileList | File[]) {
    const added = Array.from(files).map((file) => {
      nextKey.current += 1;
      return { key: `u${nextKey.current}`, file, status: 'queued' as const, loaded: 0, total: file.size, error: null };
    });
    setItems((list) => [...list, ...added]);
  }

  async function uploadOne(item: QueueItem) {
    if (cancelled.current.has(item.key)) return;
    const controller = new AbortController();
    controllers.current.set(item.key, controller);
    update(item.key, { status: 'uploading', loaded: 0 });
    try {
      await upload.mutateAsync({
        file: item.file,
        fields: { algorithm, ...(description.trim() ? { description: description.trim() } : {}) },
        options: {
          signal: controller.signal,
          onProgress: (p: TransferProgress) => update(item.key, { loaded: p.loaded, total: p.total ?? item.file.size }),
        },
      });
      update(item.key, { status: 'done', loaded: item.file.size, total: item.file.size });
    } catch (error) {
      update(item.key, isAbortError(error) ? { status: 'cancelled' } : { status: 'failed', error });
    } finally {
      controllers.current.delete(item.key);
    }
  }

  async function startAll() {
    const pending = items.filter((item) => item.status === 'queued');
    let index = 0;
    const worker = async () => {
      while (index < pending.length) {
        const item = pending[index++];
        if (item) await uploadOne(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, pending.length) }, worker));
  }

  function cancel(key: string) {
    cancelled.current.add(key);
    const controller = controllers.current.get(key);
    if (controller) controller.abort();
    else update(key, { status: 'cancelled' });
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    if (event.dataTransfer.files.length > 0) add(event.dataTransfer.files);
  }

  const queued = items.filter((i) => i.status === 'queued').length;
  const busy = items.some((i) => i.status === 'uploading');
  const finished = items.some((i) => i.status === 'done' || i.status === 'cancelled' || i.status === 'failed');

  return (
    <section className="card" aria-labelledby={`${ids.input}-title`}>
      <h2 id={`${ids.input}-title`}>Upload files</h2>
      <div
        className={`dropzone${dragging ? ' dropzone-active' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <p>Drag and drop files here, or choose them:</p>
        <label htmlFor={ids.input}>Files to upload</label>
        <input
          id={ids.input}
          type="file"
          multiple
          onChange={(e) => {
            if (e.target.files) add(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor={ids.algorithm}>Encryption algorithm</label>
          <select id={ids.algorithm} value={algorithm} onChange={(e) => setAlgorithm(ALGORITHMS.find((a) => a.value === e.target.value)?.value ?? 'aes-256-gcm')}>
            {ALGORITHMS.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor={ids.description}>Description (optional)</label>
          <input id={ids.description} value={description} maxLength={2000} onChange={(e) => setDescription(e.target.value)} />
        </div>
      </div>
      {items.length > 0 ? (
        <ul className="upload-list" aria-label="Upload queue">
          {items.map((item) => (
            <li key={item.key} className={`upload-item upload-${item.status}`}>
              <div className="upload-head">
                <span className="upload-name">{item.file.name}</span>
                <span className="muted">{formatBytes(item.file.size)}</span>
                <span className="upload-status">{STATUS_TEXT[item.status]}</span>
                {item.status === 'queued' || item.status === 'uploading' ? (
                  <button type="button" className="button-small" onClick={() => cancel(item.key)} aria-label={`Cancel ${item.file.name}`}>
                    Cancel
                  </button>
                ) : null}
              </div>
              {item.status === 'uploading' || item.status === 'done' ? (
                <ProgressBar label={`Upload progress for ${item.file.name}`} loaded={item.loaded} total={item.total} />
              ) : null}
              {item.status === 'failed' ? <ErrorAlert error={item.error} /> : null}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="row">
        <button type="button" className="button-primary" disabled={queued === 0} onClick={() => void startAll()}>
          Upload
        </button>
        {finished && !busy ? (
          <button type="button" onClick={() => setItems((list) => list.filter((i) => i.status === 'queued' || i.status === 'uploading'))}>
            Clear finished
          </button>
        ) : null}
      </div>
    </section>
  );
}
