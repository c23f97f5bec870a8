import { VerifyEmail } from '../../features/notifications/components/verify-email.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function VerifyEmailPage() {
  usePageTitle('Verify email address');
  return (
    <main className="auth-page">
      <h1>Verify your email address</h1>
      <VerifyEmail />
    </main>
  );
}
