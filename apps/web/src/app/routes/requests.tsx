import { MyRequests } from '../../features/requests/components/my-requests.tsx';
import { RequestInbox } from '../../features/requests/components/request-inbox.tsx';
import { useUser } from '../../lib/session-context.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function RequestsPage() {
  const user = useUser();
  const consultant = user.role === 'consultant';
  usePageTitle(consultant ? 'My requests' : 'Requests inbox');
  return (
    <>
      <h1>{consultant ? 'My requests' : 'Requests inbox'}</h1>
      {consultant ? <MyRequests /> : <RequestInbox />}
    </>
  );
}
