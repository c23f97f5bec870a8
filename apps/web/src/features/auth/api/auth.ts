import type { LoginBody, MfaChallengeResponse, RegisterBody, TokenResponse } from '@sfe/contract';
import { startAuthentication } from '@simplewebauthn/browser';
import { useMutation } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { useSession } from '../../../lib/session-context.tsx';

export type SignInAnswer = TokenResponse | MfaChallengeResponse;
export const needsSecondFactor = (answer: SignInAnswer): answer is MfaChallengeResponse => 'mfaRequired' in answer;

/** The password step: signs in, or answers the pending second step (MfaStep). */
export function useSignIn() {
  const client = useApiClient();
  const session = useSession();
  return useMutation({
    mutationFn: (body: LoginBody) => client.auth.signIn(body),
    // Variables hold the password: drop the mutation as soon as nothing observes it.
    gcTime: 0,
    onSuccess: (answer) => {
      if (!needsSecondFactor(answer)) session.signIn(answer);
    },
  });
}

/** The second step with a code from the authenticator app or a recovery code. */
export function useSecondFactor() {
  const client = useApiClient();
  const session = useSession();
  return useMutation({
    mutationFn: (body: { mfaToken: string; code?: string; recoveryCode?: string }) => client.auth.mfa(body),
    gcTime: 0,
    onSuccess: (tokens) => session.signIn(tokens),
  });
}

/** The second step with a passkey: assertion options, the browser's WebAuthn prompt, then the answer. */
export function usePasskeySignIn() {
  const client = useApiClient();
  const session = useSession();
  return useMutation({
    mutationFn: async (mfaToken: string) => {
      const options = await client.auth.mfaPasskeyOptions(mfaToken);
      const webauthn = await startAuthentication({ optionsJSON: options as unknown as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
      return client.auth.mfa({ mfaToken, webauthn: webauthn as never });
    },
    gcTime: 0,
    onSuccess: (tokens) => session.signIn(tokens),
  });
}

/** Registers, then signs in with the same credentials (register answers no tokens). */
export function useSignUp() {
  const client = useApiClient();
  const session = useSession();
  return useMutation({
    gcTime: 0,
    mutationFn: async (body: RegisterBody) => {
      await client.auth.register(body);
      return client.auth.login({ username: body.username, password: body.password });
    },
    onSuccess: (tokens) => session.signIn(tokens),
  });
}
