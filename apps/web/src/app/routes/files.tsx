import { Catalog } from '../../features/files/components/catalog.tsx';
import { OwnerFiles } from '../../features/files/components/owner-files.tsx';
import { UploadQueue } from '../../features/files/components/upload-queue.tsx';
import { CatalogActions } from '../../features/requests/components/catalog-actions.tsx';
import { CatalogGrant } from '../../features/requests/components/catalog-grant.tsx';
import { useUser } from '../../lib/session-context.tsx';
import { usePageTitle } from '../../lib/use-page-title.ts';

export default function FilesPage() {
  const user = useUser();
  const consultant = user.role === 'consultant';
  usePageTitle(consultant ? 'Catalog' : 'Files');
  if (consultant) {
    return (
      <>
        <h1>Catalog</h1>
        <Catalog renderActions={(file) => <CatalogActions file={file} />} renderAccess={(file) => <CatalogGrant file={file} />} />
      </>
    );
  }
  return (
    <>
      <h1>{user.role === 'organization' ? 'My files' : 'All files'}</h1>
      {user.role === 'organization' ? <UploadQueue /> : null}
      <OwnerFiles />
    </>
  );
}
