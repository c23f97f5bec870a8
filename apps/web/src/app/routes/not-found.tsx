import { Link } from 'react-router';
import { paths } from '../../lib/paths.ts';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <main className="auth-page">
      <h1>Page not found</h1>
      <p>There is nothing at this address. It may have been mistyped, or the page has moved.</p>
      <p>
        <Link to={paths.files}>Go to your files</Link>
      </p>
    </main>
  );
}
