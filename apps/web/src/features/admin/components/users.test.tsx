import type { AdminUser } from '@sfe/contract';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderWithApp, unreachableClient } from '../../../testing/render.tsx';
import { Users } from './users.tsx';

function account(username: string, patch: Partial<AdminUser> = {}): AdminUser {
  return {
    id: `id-${username}`,
    username,
    role: 'consultant',
    status: 'active',
    publicKeyFingerprint: 'SHA256:abcd',
    keyGeneratedAt: '2025-01-01T00:00:00.000Z',
    createdAt: '2025-01-01T00:00:00.000Z',
    lastLoginAt: null,
    failedLogins: 0,
    lockedUntil: null,
    hasPrivateKey: true,
    activeGrants: 2,
    ...patch,
  };
}

/** In-memory stand-in for the admin user routes, recording each incident run. */
function usersClient(rows: AdminUser[]) {
  const incidents: string[] = [];
  const client = unreachableClient();
  client.admin.users.list = async (query = {}) => ({
    items: rows.filter((r) => (!query.status || r.status === query.status) && (!query.q || r.username.includes(query.q))),
    nextCursor: null,
  });
  client.admin.users.incident = async (id) => {
    incidents.push(id);
    const row = rows.find((r) => r.id === id);
    if (row) Object.assign(row, { status: 'disabled', activeGrants: 0, hasPrivateKey: false });
    return { disabled: true, grantsRevoked: 2, privateKeyDeleted: true, sessionsEnded: 3 };
  };
  return { client, incidents };
}

describe('Users', () => {
  it('says what an incident response will do, does nothing on Cancel, and keeps the summary when the row leaves the list', async () => {
    const user = userEvent.setup();
    const { client, incidents } = usersClient([account('mallory'), account('trent', { role: 'organization', activeGrants: 0 })]);
    renderWithApp(<Users />, { client, role: 'admin' });
    await screen.findByText('mallory');

    await user.click(screen.getByRole('button', { name: 'Incident response for mallory' }));
    let dialog = screen.getByRole('dialog', { name: 'Incident response for mallory' });
    expect(dialog.textContent).toMatch(/revoke every grant \(2 active grants now\)/);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(incidents).toEqual([]);

    // Only active accounts: the disabled one drops out of the table after the incident.
    await user.selectOptions(screen.getByLabelText('Status'), 'active');
    await user.click(screen.getByRole('button', { name: 'Incident response for mallory' }));
    dialog = screen.getByRole('dialog', { name: 'Incident response for mallory' });
    await user.click(within(dialog).getByRole('button', { name: 'Run incident response' }));
    await waitFor(() => expect(screen.queryByText('mallory', { selector: 'strong' })).toBeNull());
    const summary = within(screen.getByRole('dialog', { name: 'Incident response for mallory' })).getByRole('status');
    expect(summary.textContent).toMatch(/Account disabled3 sessions ended2 grants revokedPrivate key deleted/);
    expect(incidents).toEqual(['id-mallory']);
  });
});
