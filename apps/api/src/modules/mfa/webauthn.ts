import type { AuthenticationResponseJSON, AuthenticatorTransport, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { PasskeyRow } from './mfa.repository.ts';

export interface PasskeySettings {
  rpId: string;
  rpName: string;
  origins: readonly string[];
}

const transportsOf = (row: Pick<PasskeyRow, 'transports'>) =>
  row.transports === '' ? undefined : (row.transports.split(',') as AuthenticatorTransport[]);

/**
 * WebAuthn through @simplewebauthn/server, bound to the configured relying party (RP id
 * and the SPA's origins, config.ts). Attestation is not asked for ("none"): a passkey
 * is a second factor here, not a device policy. Any verification error reads as "no".
 */
export function createPasskeys(settings: PasskeySettings) {
  // Loaded at the first passkey operation: most processes never need its code in memory.
  const library = () => import('@simplewebauthn/server');
  const expected = { expectedOrigin: [...settings.origins], expectedRPID: settings.rpId };
  return {
    registrationOptions: async (input: { userId: string; username: string; exclude: PasskeyRow[] }) =>
      (await library()).generateRegistrationOptions({
        rpName: settings.rpName,
        rpID: settings.rpId,
        userName: input.username,
        userID: new TextEncoder().encode(input.userId),
        attestationType: 'none',
        excludeCredentials: input.exclude.map((row) => ({ id: row.credentialId, ...(transportsOf(row) ? { transports: transportsOf(row) } : {}) })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      }),

    async verifyRegistration(response: RegistrationResponseJSON, challenge: string) {
      const { verifyRegistrationResponse } = await library();
      try {
        const result = await verifyRegistrationResponse({ response, expectedChallenge: challenge, ...expected, requireUserVerification: false });
        if (!result.verified) return null;
        const { credential } = result.registrationInfo;
        return {
          credentialId: credential.id,
          publicKey: new Uint8Array(credential.publicKey),
          signCount: credential.counter,
          transports: (credential.transports ?? []).join(','),
        };
      } catch {
        return null;
      }
    },

    authenticationOptions: async (passkeys: PasskeyRow[]) =>
      (await library()).generateAuthenticationOptions({
        rpID: settings.rpId,
        userVerification: 'preferred',
        allowCredentials: passkeys.map((row) => ({ id: row.credentialId, ...(transportsOf(row) ? { transports: transportsOf(row) } : {}) })),
      }),

    async verifyAuthentication(response: AuthenticationResponseJSON, challenge: string, passkey: PasskeyRow): Promise<{ ok: boolean; newCounter: number }> {
      const { verifyAuthenticationResponse } = await library();
      try {
        const result = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge,
          ...expected,
          requireUserVerification: false,
          credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.signCount, ...(transportsOf(passkey) ? { transports: transportsOf(passkey) } : {}) },
        });
        return { ok: result.verified, newCounter: result.authenticationInfo.newCounter };
      } catch {
        return { ok: false, newCounter: 0 };
      }
    },
  };
}
export type Passkeys = ReturnType<typeof createPasskeys>;
