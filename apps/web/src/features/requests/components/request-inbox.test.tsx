import { ApiError } from '@sfe/api-client';
import type { AccessRequest, ApproveBody, DenyBody } from '@sfe/contract';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderWithApp, unreachableClient } from '../../../testing/render.tsx';
import { RequestInbox } from './request-inbox.tsx';

function pending(id: string, consultantName: string, filename: string): AccessRequest {
  return {
    id,
    fileId: `file-${filename}`,
    filename,
    consultantId: `c-${consultantName}`,
    consultantName,
    status: 'pending',
    reason: `Audit of ${filename}`,
    decisionReason: null,
    createdAt: '2025-03-01T10:00:00.000Z',
    processedAt: null,
    expiresAt: null,
    maxDownloads: null,
    downloadCount: 0,
    downloadsRemaining: null,
    consultantKeyFingerprint: 'SHA256:ffff',
  };
}

/** A small in-memory stand-in for the access-request routes, recording every decision. */
function inboxClient(initial: AccessRequest[], opts: { approveError?: ApiError } = {}) {
  const rows = new Map(initial.map((r) => [r.id, { ...r }]));
  const decisions: { op: string; id: string; body?: ApproveBody | DenyBody }[] = [];
  const client = unreachableClient();
  client.accessRequests.list = async (query = {}) => ({
    items: [...rows.values()].filter((r) => !query.status || r.status === query.status),
    nextCursor: null,
  });
  const change = (id: string, patch: Partial<AccessRequest>) => {
    const row = rows.get(id);
    if (!row) throw new Error(`unknown request ${id}`);
    Object.assign(row, patch);
    return { ...row };
  };
  client.accessRequests.approve = async (id, body = {}) => {
    decisions.push({ op: 'approve', id, body });
    if (opts.approveError) throw opts.approveError;
    const max = body.maxDownloads ?? null;
    return change(id, { status: 'approved', maxDownloads: max, downloadsRemaining: max, expiresAt: body.expiresAt ?? null });
  };
  client.accessRequests.deny = async (id, body = {}) => {
    decisions.push({ op: 'deny', id, body });
    return change(id, { status: 'denied', decisionReason: body.reason ?? null });
  };
  client.accessRequests.revoke = async (id) => {
    decisions.push({ op: 'revoke', id });
    return change(id, { status: 'revoked' });
  };
  client.files.list = async () => ({ items: [], nextCursor: null });
  client.users.publicKey = async (userId) => ({
    publicKeyPem: '-----BEGIN PUBLIC KEY-----',
    fingerprint: `SHA256:${userId === 'c-carol' ? 'q1w2e3r4t5y6u7i8' : 'zzzzzzzzzzzzzzzz'}`,
    algorithm: 'RSA-2048',
  });
  return { client, decisions };
}

function row(text: string): HTMLElement {
  const tr = screen.getByText(text).closest('tr');
  if (!tr) throw new Error(`no row for ${text}`);
  return tr;
}

describe('RequestInbox', () => {
  it('approves with a download limit, then revokes the grant', async () => {
    const user = userEvent.setup();
    const { client, decisions } = inboxClient([pending('r1', 'carol', 'report.pdf'), pending('r2', 'dave', 'plan.xlsx')]);
    renderWithApp(<RequestInbox />, { client });

    await screen.findByText('report.pdf');
    expect(within(row('report.pdf')).getByText('Audit of report.pdf')).toBeTruthy();
    await user.click(within(row('report.pdf')).getByRole('button', { name: /^Approve/ }));
    const dialog = screen.getByRole('dialog');
    await user.type(within(dialog).getByLabelText('Download limit (optional)'), '1');
    await user.click(within(dialog).getByRole('button', { name: 'Approve' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(decisions).toEqual([{ op: 'approve', id: 'r1', body: { maxDownloads: 1 } }]);
    // The pending view no longer lists it; the approved view does, with one download left.
    await waitFor(() => expect(screen.queryByText('report.pdf')).toBeNull());
    expect(screen.getByText('plan.xlsx')).toBeTruthy();
    await user.selectOptions(screen.getByLabelText('Show'), 'approved');
    await screen.findByText('report.pdf');
    expect(within(row('report.pdf')).getAllByRole('cell')[6]?.textContent).toBe('1');

    await user.click(within(row('report.pdf')).getByRole('button', { name: /^Revoke/ }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(screen.queryByText('report.pdf')).toBeNull());
    expect(decisions.at(-1)).toEqual({ op: 'revoke', id: 'r1' });
  });

  it('shows the consultant key fingerprint to check, then says what the approval granted', async () => {
    const user = userEvent.setup();
    const { client } = inboxClient([pending('r1', 'carol', 'report.pdf'), pending('r2', 'dave', 'plan.xlsx')]);
    renderWithApp(<RequestInbox />, { client });
    await screen.findByText('report.pdf');
    await user.click(within(row('report.pdf')).getByRole('button', { name: /^Approve/ }));
    const dialog = screen.getByRole('dialog');
    const fingerprint = await within(dialog).findByLabelText('Fingerprint: SHA256 q1w2 e3r4 t5y6 u7i8');
    expect(fingerprint.textContent).toBe('SHA256q1w2e3r4t5y6u7i8');
    await user.type(within(dialog).getByLabelText('Download limit (optional)'), '3');
    await user.type(within(dialog).getByLabelText('Expiry date (optional)'), '2099-12-05');
    await user.click(within(dialog).getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const expected = `Approved: carol can download report.pdf 3 times until ${new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date('2099-12-05T23:59:59'))}.`;
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain(expected));
    // The approved grant is one click away on the same screen.
    await user.click(screen.getByRole('button', { name: 'Show approved' }));
    await screen.findByText('report.pdf');
    expect((screen.getByLabelText('Show') as HTMLSelectElement).value).toBe('approved');

    await user.selectOptions(screen.getByLabelText('Show'), 'pending');
    await user.click(within(await screen.findByText('plan.xlsx').then((el) => el.closest('tr') as HTMLElement)).getByRole('button', { name: /^Approve/ }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('Approved: dave can download plan.xlsx any number of times with no end date.'));
  });

  it('denies with an optional reason', async () => {
    const user = userEvent.setup();
    const { client, decisions } = inboxClient([pending('r2', 'dave', 'plan.xlsx')]);
    renderWithApp(<RequestInbox />, { client });
    await screen.findByText('plan.xlsx');
    await user.click(within(row('plan.xlsx')).getByRole('button', { name: /^Deny/ }));
    await user.type(screen.getByLabelText('Reason (optional)'), 'Not covered by the contract');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Deny' }));
    await waitFor(() => expect(decisions).toEqual([{ op: 'deny', id: 'r2', body: { reason: 'Not covered by the contract' } }]));
    await waitFor(() => expect(screen.getByText('No pending requests.')).toBeTruthy());
  });

  it('checks the limit locally and shows the API field message next to its field', async () => {
    const user = userEvent.setup();
    const serverRefusal = new ApiError({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'Validation failed',
      code: 'VALIDATION_FAILED',
      fields: [{ name: 'body.expiresAt', message: 'must be a future date' }],
    });
    const { client, decisions } = inboxClient([pending('r1', 'carol', 'report.pdf')], { approveError: serverRefusal });
    renderWithApp(<RequestInbox />, { client });
    await screen.findByText('report.pdf');
    await user.click(within(row('report.pdf')).getByRole('button', { name: /^Approve/ }));
    const dialog = screen.getByRole('dialog');
    const limit = within(dialog).getByLabelText('Download limit (optional)');
    await user.type(limit, '0');
    await user.click(within(dialog).getByRole('button', { name: 'Approve' }));
    expect(within(dialog).getByText(/Enter a whole number from 1/)).toBeTruthy();
    expect(limit.getAttribute('aria-invalid')).toBe('true');
    expect(decisions).toEqual([]);

    await user.clear(limit);
    await user.click(within(dialog).getByRole('button', { name: 'Approve' }));
    const expiry = within(dialog).getByLabelText('Expiry date (optional)');
    await waitFor(() => expect(expiry.getAttribute('aria-invalid')).toBe('true'));
    const describedBy = expiry.getAttribute('aria-describedby') ?? '';
    expect(document.getElementById(describedBy)?.textContent).toBe('must be a future date');
    expect(decisions).toHaveLength(1);
  });
});
