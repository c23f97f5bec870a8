import { ChangePasswordForm } from '../../features/profile/components/change-password-form.tsx';
import { KeyCard } from '../../features/profile/components/key-card.tsx';
import { RotateKeyForm } from '../../features/profile/components/rotate-key-form.tsx';
import { NotificationSettingsSection } from '../../features/notifications/components/notification-settings-section.tsx';
import { TwoFactorSection } from '../../features/profile/components/two-factor.tsx';
import { useUser } from '../../lib/session-context.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function ProfilePage() {
  usePageTitle('Profile');
  const user = useUser();
  return (
    <>
      <h1>Profile and keys</h1>
      <KeyCard username={user.username} />
      <div className="grid-2">
        <ChangePasswordForm />
        <RotateKeyForm />
      </div>
      <NotificationSettingsSection />
      <TwoFactorSection />
    </>
  );
}
