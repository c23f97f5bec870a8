import type { LoginBody, RegisterBody } from '@sfe/contract';
import { useMutation } from '@tanstack/react-query';
import { useApiClient } from '../../../lib/api-client.tsx';
import { useSession } from '../../../lib/session-context.tsx';

export function useSignIn() {
  const client = useApiClient();
  const session = useSession();
  return useMutation({
    mutationFn: (body: LoginBody) => client.auth.login(body),
    // Variables hold the password: drop the mutation as soon as nothing observes it.
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
