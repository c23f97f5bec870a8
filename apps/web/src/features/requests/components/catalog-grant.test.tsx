import type { AccessRequest, FileMetadata } from '@sfe/contract';
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { StatusBadge, StatusLegend } from '../../../components/ui/status-badge.tsx';
import { renderWithApp, unreachableClient } from '../../../testing/render.tsx';
import { CatalogGrant } from './catalog-grant.tsx';

const file = (id: string, myAccess: FileMetadata['myAccess']): FileMetadata => ({
  id,
  filename: `${id}.pdf`,
  contentType: 'application/pdf',
  size: 10,
  sha256: '0'.repeat(64),
  algorithm: 'aes-256-gcm',
  description: null,
  ownerId: 'o',
  ownerName: 'acme',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...(myAccess ? { myAccess } : {}),
});

function grant(fileId: string, patch: Partial<AccessRequest>): AccessRequest {
  return {
    id: `r-${fileId}`,
    fileId,
    filename: `${fileId}.pdf`,
    consultantId: 'c',
    consultantName: 'carol',
    status: 'approved',
    reason: 'audit',
    decisionReason: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    processedAt: '2026-01-02T00:00:00.000Z',
    expiresAt: null,
    maxDownloads: null,
    downloadCount: 0,
    downloadsRemaining: null,
    consultantKeyFingerprint: 'SHA256:ab',
    ...patch,
  };
}

describe('catalog grant details', () => {
  it("joins the consultant's grants by file: downloads left and expiry", async () => {
    const client = unreachableClient();
    client.accessRequests.list = async () => ({
      items: [grant('a', { maxDownloads: 3, downloadsRemaining: 2, expiresAt: '2099-12-05T12:00:00.000Z' }), grant('b', {})],
      nextCursor: null,
    });
    renderWithApp(
      <>
        <CatalogGrant file={file('a', 'approved')} />
        <CatalogGrant file={file('b', 'approved')} />
        <CatalogGrant file={file('c', 'pending')} />
      </>,
      { client, role: 'consultant' },
    );
    const until = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date('2099-12-05T12:00:00.000Z'));
    expect(await screen.findByText(`2 downloads left, until ${until}`)).toBeTruthy();
    expect(screen.getByText('Unlimited downloads, no end date')).toBeTruthy();
    expect(screen.queryAllByText(/left|Unlimited/)).toHaveLength(2);
  });

  it('says what each status means, as a tooltip and in a legend', () => {
    render(
      <>
        <StatusBadge status="revoked" />
        <StatusLegend statuses={['pending', 'suspended', 'expired']} />
      </>,
    );
    expect(screen.getByText('Revoked').getAttribute('title')).toMatch(/withdrawn/);
    expect(screen.getByText('What the statuses mean')).toBeTruthy();
    expect(screen.getByText(/waiting for the owner/)).toBeTruthy();
    expect(screen.getByText(/unusual access/)).toBeTruthy();
    expect(screen.getByText(/end date passed or its downloads were used up/)).toBeTruthy();
  });
});
