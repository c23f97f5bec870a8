import { Link } from 'react-router';
import { SignUpForm } from '../../features/auth/components/sign-up-form.tsx';
import { paths } from '../../lib/paths.ts';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function SignUpPage() {
  usePageTitle('Sign up');
  return (
    <main className="auth-page">
      <h1>Create an account</h1>
      <SignUpForm />
      <p>
        Already registered? <Link to={paths.signIn}>Sign in</Link>
      </p>
    </main>
  );
}
