import { collectBlob, pipeToWritable, type DownloadResponse, type ReadOptions } from './download.ts';

/** The slice of the File System Access API we use (not in TypeScript's DOM lib yet). */
interface SaveFilePickerHost {
  showSaveFilePicker?: (options: { suggestedName?: string }) => Promise<{
    createWritable(): Promise<WritableStream<Uint8Array>>;
  }>;
}

export type SaveOutcome = 'saved-to-disk' | 'saved-via-blob' | 'cancelled';

/**
 * Saves a download in the browser.
 *
 * Where the File System Access API exists (Chromium), the bytes stream straight to
 * the file the person picks, in constant memory. Elsewhere the file is collected
 * into a Blob and handed to the browser's own download manager through an object
 * URL: simple and universal, but it holds the whole file in memory (or the
 * browser's blob store) until the save completes, so very large files may fail
 * there. The picker needs a recent user gesture; when the browser refuses it we
 * fall back to the Blob path rather than failing the download.
 */
export async function saveDownload(download: DownloadResponse, options: ReadOptions = {}): Promise<SaveOutcome> {
  const host = globalThis as unknown as SaveFilePickerHost;
  if (typeof host.showSaveFilePicker === 'function') {
    let handle: Awaited<ReturnType<NonNullable<SaveFilePickerHost['showSaveFilePicker']>>> | null = null;
    try {
      handle = await host.showSaveFilePicker({ suggestedName: download.filename });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') {
        await download.body.cancel().catch(() => undefined);
        return 'cancelled';
      }
      handle = null; // No user activation left, or the API is blocked: use the Blob path.
    }
    if (handle) {
      await pipeToWritable(download, await handle.createWritable(), options);
      return 'saved-to-disk';
    }
  }
  const blob = await collectBlob(download, options);
  const url = URL.createObjectURL(blob);
  try {
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = download.filename;
    anchor.rel = 'noopener';
    anchor.style.display = 'none';
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  } finally {
    // Revoke after the click has been handled; revoking synchronously can cancel it.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
  return 'saved-via-blob';
}
