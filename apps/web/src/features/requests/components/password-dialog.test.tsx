import { ApiError, type DownloadResponse } from '@sfe/api-client';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { renderWithApp, unreachableClient } from '../../../testing/render.tsx';
import { clickedDownloads, createdBlobs } from '../../../testing/setup.ts';
import { PasswordDialog } from './password-dialog.tsx';

const PASSWORD = 'correct horse battery staple';

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** Every key and value in web storage, to prove a secret never landed there. */
function storageDump(): string {
  const out: string[] = [];
  for (const storage of [sessionStorage, localStorage]) {
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i) ?? '';
      out.push(`${key}=${storage.getItem(key) ?? ''}`);
    }
  }
  return out.join('\n');
}

/** jsdom's Blob has no arrayBuffer(); its FileReader does the same job. */
function readBytes(blob: Blob | undefined): Promise<number[]> {
  return new Promise((resolve, reject) => {
    if (!blob) return reject(new Error('no blob was saved'));
    const reader = new FileReader();
    reader.onload = () => resolve(Array.from(new Uint8Array(reader.result as ArrayBuffer)));
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(blob);
  });
}

function setup(download: (id: string, password: string) => Promise<DownloadResponse>) {
  const client = unreachableClient();
  const seen: { id: string; password: string }[] = [];
  client.accessRequests.download = (id, password) => {
    seen.push({ id, password });
    return download(id, password);
  };
  const onClose = vi.fn();
  renderWithApp(
    <>
      <button type="button">outside</button>
      <PasswordDialog requestId="req-1" filename="report.pdf" onClose={onClose} />
    </>,
    { client, role: 'consultant' },
  );
  return { seen, onClose };
}

describe('PasswordDialog', () => {
  it('traps focus inside the dialog and closes on Escape', async () => {
    const user = userEvent.setup();
    const { onClose } = setup(() => Promise.reject(new Error('not called')));
    const password = screen.getByLabelText('Password');
    expect(document.activeElement).toBe(password);
    await user.type(password, 'x');
    // Input -> Close -> Download, then back to the input: never "outside".
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Close' }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Download' }));
    await user.tab();
    expect(document.activeElement).toBe(password);
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Download' }));
    expect(screen.getByRole('dialog', { name: 'Download report.pdf' }).getAttribute('aria-modal')).toBe('true');
    // The page behind is out of reach for assistive technology (and role queries) too.
    expect(screen.queryByRole('button', { name: 'outside' })).toBeNull();
    expect(screen.getByRole('button', { name: 'outside', hidden: true })).toBeTruthy();
    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('shows a wrong password next to the form, clears the field, and keeps no copy', async () => {
    const user = userEvent.setup();
    const { seen } = setup(() =>
      Promise.reject(new ApiError({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'Wrong password', code: 'WRONG_PASSWORD' })),
    );
    await user.type(screen.getByLabelText('Password'), 'not it at all');
    await user.click(screen.getByRole('button', { name: 'Download' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('That password is not correct.');
    expect(alert.textContent).toContain('WRONG_PASSWORD');
    expect((screen.getByLabelText('Password') as HTMLInputElement).value).toBe('');
    expect(seen).toEqual([{ id: 'req-1', password: 'not it at all' }]);
    expect(storageDump()).not.toContain('not it at all');
  });

  it('sends the password once and saves exactly the bytes received', async () => {
    const user = userEvent.setup();
    const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])];
    const { seen } = setup(async () => ({ filename: 'report.pdf', contentType: 'application/pdf', size: 5, body: streamOf(chunks) }));
    await user.type(screen.getByLabelText('Password'), PASSWORD);
    await user.click(screen.getByRole('button', { name: 'Download' }));
    await screen.findByText(/Download complete/);
    expect(seen).toEqual([{ id: 'req-1', password: PASSWORD }]);
    expect(createdBlobs).toHaveLength(1);
    expect(await readBytes(createdBlobs[0])).toEqual([1, 2, 3, 4, 5]);
    expect(createdBlobs[0]?.type).toBe('application/pdf');
    expect(clickedDownloads).toEqual(['report.pdf']);
    expect(storageDump()).toContain('refresh'); // the dump does see stored values
    expect(storageDump()).not.toContain(PASSWORD);
    expect(document.body.innerHTML).not.toContain(PASSWORD);
  });

  it('refuses a second download with a readable message', async () => {
    const user = userEvent.setup();
    setup(() =>
      Promise.reject(new ApiError({ type: 'about:blank', title: 'Forbidden', status: 403, detail: 'limit', code: 'DOWNLOAD_LIMIT_REACHED' })),
    );
    await user.type(screen.getByLabelText('Password'), PASSWORD);
    await user.click(screen.getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('You have used all the downloads allowed for this file.'));
  });
});
