import type { FileMetadata, UploadFields } from '@sfe/contract';
import type { Attempt, Transport } from './http.ts';

export interface TransferProgress {
  loaded: number;
  /** Null when the total is unknown (no Content-Length). */
  total: number | null;
}

export interface UploadOptions {
  /** Upload progress; only the XMLHttpRequest transport can report it. */
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
  /**
   * `xhr` (browser: the only web API with upload progress events) or `fetch`
   * (Node and other runtimes without XMLHttpRequest; no progress). Default: xhr
   * when XMLHttpRequest exists.
   */
  transport?: 'xhr' | 'fetch';
  /** File name sent in the part; defaults to `file.name` for a File. */
  filename?: string;
}

/** Statuses whose Response must be built without a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function buildUploadForm(file: Blob, fields: UploadFields, filename?: string): FormData {
  const form = new FormData();
  // Text fields go BEFORE the file part: the server streams the file as it arrives
  // and must know the algorithm before the first byte of it.
  if (fields.algorithm !== undefined) form.append('algorithm', fields.algorithm);
  if (fields.description !== undefined && fields.description !== '') form.append('description', fields.description);
  const name = filename ?? (typeof File !== 'undefined' && file instanceof File ? file.name : 'upload.bin');
  form.append('file', file, name);
  return form;
}

function parseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.trim().split(/[\r\n]+/)) {
    const index = line.indexOf(':');
    if (index > 0) headers.append(line.slice(0, index).trim(), line.slice(index + 1).trim());
  }
  return headers;
}

function xhrAttempt(url: string, form: FormData, options: UploadOptions): Attempt {
  return (headers) =>
    new Promise<Response>((resolve, reject) => {
      const abortError = () => new DOMException('The upload was cancelled.', 'AbortError');
      if (options.signal?.aborted) {
        reject(abortError());
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      headers.forEach((value, key) => xhr.setRequestHeader(key, value));
      xhr.upload.onprogress = (event) => {
        options.onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : null });
      };
      const onAbort = () => xhr.abort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => options.signal?.removeEventListener('abort', onAbort);
      xhr.onload = () => {
        done();
        const body = NULL_BODY.has(xhr.status) ? null : xhr.responseText;
        resolve(new Response(body, { status: xhr.status, headers: parseHeaders(xhr.getAllResponseHeaders()) }));
      };
      xhr.onerror = () => {
        done();
        reject(new TypeError('Network error during upload'));
      };
      xhr.onabort = () => {
        done();
        reject(abortError());
      };
      xhr.send(form);
    });
}

function fetchAttempt(url: string, form: FormData, options: UploadOptions, fetchImpl: typeof fetch): Attempt {
  return (headers) => fetchImpl(url, { method: 'POST', headers, body: form, signal: options.signal ?? null });
}

/**
 * `POST /files` as multipart. In Node pass a file-backed Blob (`fs.openAsBlob`), so
 * the file streams from disk instead of being read into memory first.
 */
export async function uploadFile(
  transport: Transport,
  file: Blob,
  fields: UploadFields = {},
  options: UploadOptions = {},
): Promise<FileMetadata> {
  const url = transport.url('/files');
  const form = buildUploadForm(file, fields, options.filename);
  const useXhr = (options.transport ?? (typeof XMLHttpRequest === 'function' ? 'xhr' : 'fetch')) === 'xhr';
  const fetchImpl = transport.options.fetch ?? globalThis.fetch.bind(globalThis);
  const attempt = useXhr ? xhrAttempt(url, form, options) : fetchAttempt(url, form, options, fetchImpl);
  const response = await transport.execute(attempt);
  const created = (await response.json()) as FileMetadata;
  if (!useXhr) options.onProgress?.({ loaded: file.size, total: file.size });
  return created;
}
