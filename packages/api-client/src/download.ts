import type { TransferProgress } from './upload.ts';

/** A 2xx file answer whose body has not been read yet. */
export interface DownloadResponse {
  filename: string;
  contentType: string;
  /** From Content-Length; null when the server did not send one. */
  size: number | null;
  body: ReadableStream<Uint8Array>;
}

export interface ReadOptions {
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
}

/**
 * The file name from Content-Disposition, preferring RFC 8187 `filename*`. Path
 * separators and control characters are removed: the name is only a suggestion
 * for a save dialog and must never name a directory.
 */
export function parseContentDisposition(header: string | null): string | null {
  if (!header) return null;
  let name: string | null = null;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (extended?.[2]) {
    try {
      name = decodeURIComponent(extended[2].trim());
    } catch {
      name = null;
    }
  }
  if (name === null) {
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))/i.exec(header);
    name = plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2]?.trim() ?? null;
  }
  if (name === null) return null;
  // eslint-disable-next-line no-control-regex
  const safe = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  return safe === '' || safe === '.' || safe === '..' ? null : safe;
}

export function toDownloadResponse(response: Response, fallbackName: string): DownloadResponse {
  if (!response.body) throw new TypeError('The download answer has no body.');
  const length = response.headers.get('content-length');
  const size = length !== null && /^\d+$/.test(length) ? Number(length) : null;
  return {
    filename: parseContentDisposition(response.headers.get('content-disposition')) ?? fallbackName,
    contentType: response.headers.get('content-type') ?? 'application/octet-stream',
    size,
    body: response.body,
  };
}

/**
 * Reads the body chunk by chunk, handing each to `sink` and reporting progress.
 * Memory stays at one chunk plus whatever the sink keeps.
 */
export async function consume(
  download: DownloadResponse,
  sink: (chunk: Uint8Array) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<number> {
  const reader = download.body.getReader();
  const onAbort = () => {
    void reader.cancel(options.signal?.reason);
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (options.signal?.aborted) throw new DOMException('The download was cancelled.', 'AbortError');
      if (done) break;
      loaded += value.byteLength;
      await sink(value);
      options.onProgress?.({ loaded, total: download.size });
    }
  } catch (error) {
    await reader.cancel(error).catch(() => undefined);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
  if (download.size !== null && loaded !== download.size) {
    throw new Error(`The download ended early (${loaded} of ${download.size} bytes).`);
  }
  return loaded;
}

/**
 * Collects the whole file into a Blob. Costs memory proportional to the file
 * (browsers may page large Blobs to disk, but no guarantee); use `pipeToWritable`
 * where a writable destination exists.
 */
export async function collectBlob(download: DownloadResponse, options: ReadOptions = {}): Promise<Blob> {
  const parts: Uint8Array[] = [];
  await consume(download, (chunk) => void parts.push(chunk), options);
  return new Blob(parts as BlobPart[], { type: download.contentType });
}

/**
 * Streams into a WritableStream (a File System Access handle in the browser,
 * `Writable.toWeb(fs.createWriteStream(path))` in Node) in constant memory.
 * The writable is closed on success and aborted on failure.
 */
export async function pipeToWritable(
  download: DownloadResponse,
  writable: WritableStream<Uint8Array>,
  options: ReadOptions = {},
): Promise<number> {
  const writer = writable.getWriter();
  try {
    const loaded = await consume(download, (chunk) => writer.write(chunk), options);
    await writer.close();
    return loaded;
  } catch (error) {
    await writer.abort(error).catch(() => undefined);
    throw error;
  }
}
