import { screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderWithApp, unreachableClient } from '../../../testing/render.tsx';
import { VerifyEmail } from './verify-email.tsx';

const TOKEN = 'Zq3hV1p9kT0mB7xW2cR5nL8yF4dS6gJ1aE3uH9oK2iM';

describe('VerifyEmail', () => {
  afterEach(() => {
    window.history.replaceState(null, '', '/');
    sessionStorage.clear();
  });

  it('takes the token from the fragment, clears it from the address bar, and confirms it once', async () => {
    window.history.replaceState(null, '', `/verify-email#token=${TOKEN}`);
    const sent: string[] = [];
    const client = unreachableClient();
    client.notifications.verifyEmail = async (token) => {
      sent.push(token);
      return { email: 'me@example.test', emailVerified: true, events: [], emailEnabled: true };
    };
    renderWithApp(<VerifyEmail />, { client });
    expect(window.location.hash).toBe('');
    await waitFor(() => expect(screen.getByRole('status').textContent).toMatch(/me@example\.test is verified/));
    expect(sent).toEqual([TOKEN]);
    expect(sessionStorage.getItem('sfe.pending-email-token')).toBeNull();
  });

  it('says so when the link holds no token, and sends nothing', async () => {
    window.history.replaceState(null, '', '/verify-email');
    const client = unreachableClient();
    let calls = 0;
    client.notifications.verifyEmail = async () => {
      calls++;
      throw new Error('not expected');
    };
    renderWithApp(<VerifyEmail />, { client });
    expect(await screen.findByText(/holds no verification token/)).toBeTruthy();
    expect(calls).toBe(0);
  });
});
