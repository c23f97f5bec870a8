import { ApiError, type UploadOptions } from '@sfe/api-client';
import type { FileMetadata, UploadFields } from '@sfe/contract';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderWithApp, unreachableClient } from '../../../testing/render.tsx';
import { UploadQueue } from './upload-queue.tsx';

interface Call {
  file: Blob;
  fields: UploadFields;
  options: UploadOptions;
  resolve: (f: FileMetadata) => void;
  reject: (e: unknown) => void;
}

/** Upload transport under the test's control: each call waits until the test settles it. */
function controlledUploads() {
  const calls: Call[] = [];
  const client = unreachableClient();
  client.files.upload = (file, fields = {}, options = {}) =>
    new Promise<FileMetadata>((resolve, reject) => {
      options.signal?.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')));
      calls.push({ file, fields, options, resolve, reject });
    });
  client.files.list = async () => ({ items: [], nextCursor: null });
  return { client, calls };
}

function metadata(name: string): FileMetadata {
  return {
    id: name,
    filename: name,
    contentType: 'text/plain',
    size: 3,
    sha256: 'a'.repeat(64),
    algorithm: 'aes-256-gcm',
    description: null,
    ownerId: 'o',
    ownerName: 'org',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

const fileA = new File(['a'.repeat(100)], 'alpha.txt', { type: 'text/plain' });
const fileB = new File(['b'.repeat(200)], 'beta.txt', { type: 'text/plain' });

function item(name: string): HTMLElement {
  const li = screen.getByText(name).closest('li');
  if (!li) throw new Error(`no queue item for ${name}`);
  return li;
}

describe('UploadQueue', () => {
  it('uploads several files with per-file progress, the chosen algorithm, and cancel', async () => {
    const user = userEvent.setup();
    const { client, calls } = controlledUploads();
    renderWithApp(<UploadQueue />, { client });

    await user.upload(screen.getByLabelText('Files to upload'), [fileA, fileB]);
    expect(within(item('alpha.txt')).getByText('Waiting')).toBeTruthy();
    await user.selectOptions(screen.getByLabelText('Encryption algorithm'), 'chacha20-poly1305');
    await user.type(screen.getByLabelText('Description (optional)'), 'Q3');
    await user.click(screen.getByRole('button', { name: 'Upload' }));

    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls.map((c) => c.fields)).toEqual([
      { algorithm: 'chacha20-poly1305', description: 'Q3' },
      { algorithm: 'chacha20-poly1305', description: 'Q3' },
    ]);

    calls[0]?.options.onProgress?.({ loaded: 40, total: 100 });
    const bar = await within(item('alpha.txt')).findByRole('progressbar', { name: 'Upload progress for alpha.txt' });
    await waitFor(() => expect(bar.getAttribute('value')).toBe('40'));
    expect(within(item('alpha.txt')).getByText(/40%/)).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Cancel beta.txt' }));
    await waitFor(() => expect(within(item('beta.txt')).getByText('Cancelled')).toBeTruthy());
    expect(calls[1]?.options.signal?.aborted).toBe(true);

    calls[0]?.resolve(metadata('alpha.txt'));
    await waitFor(() => expect(within(item('alpha.txt')).getByText('Uploaded')).toBeTruthy());
    expect(calls[0]?.options.signal?.aborted).toBe(false);
  });

  it('never sends a file cancelled while still waiting, and defaults to AES-256-GCM', async () => {
    const user = userEvent.setup();
    const { client, calls } = controlledUploads();
    renderWithApp(<UploadQueue />, { client });
    await user.upload(screen.getByLabelText('Files to upload'), [fileA, fileB]);
    await user.click(screen.getByRole('button', { name: 'Cancel alpha.txt' }));
    expect(within(item('alpha.txt')).getByText('Cancelled')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect((calls[0]?.file as File).name).toBe('beta.txt');
    expect(calls[0]?.fields).toEqual({ algorithm: 'aes-256-gcm' });
  });

  it('shows a readable failure with its problem code', async () => {
    const user = userEvent.setup();
    const { client, calls } = controlledUploads();
    renderWithApp(<UploadQueue />, { client });
    await user.upload(screen.getByLabelText('Files to upload'), [fileA]);
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(calls).toHaveLength(1));
    calls[0]?.reject(
      new ApiError({ type: 'about:blank', title: 'Too large', status: 413, detail: 'File too large', code: 'PAYLOAD_TOO_LARGE' }),
    );
    const alert = await within(item('alpha.txt')).findByRole('alert');
    expect(alert.textContent).toContain('The file is larger than the server accepts.');
    expect(alert.textContent).toContain('PAYLOAD_TOO_LARGE');
    expect(within(item('alpha.txt')).getByText('Failed')).toBeTruthy();
  });
});
