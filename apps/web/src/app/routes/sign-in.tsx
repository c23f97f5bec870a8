import { Link } from 'react-router';
import { SignInForm } from '../../features/auth/components/sign-in-form.tsx';
import { paths } from '../../lib/paths.ts';
import { useSessionState } from '../../lib/session-context.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function SignInPage() {
  usePageTitle('Sign in');
  const state = useSessionState();
  const notice = state.status === 'signed-out' ? state.notice : null;
  return (
    <main className="auth-page">
      <h1>Sign in to Secure File Exchange</h1>
      {notice ? (
        <div className="alert alert-info" role="status">
          {notice}
        </div>
      ) : null}
      <SignInForm />
      <p>
        No account yet? <Link to={paths.signUp}>Sign up</Link>
      </p>
    </main>
  );
}
