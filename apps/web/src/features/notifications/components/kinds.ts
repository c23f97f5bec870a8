import type { NotificationKind } from '@sfe/contract';

/** What each kind is called on screen, and who can ever receive it. */
export const KIND_LABELS: Record<NotificationKind, string> = {
  access_requested: 'New access request on one of my files',
  access_granted: 'My request was approved',
  access_denied: 'My request was denied',
  access_revoked: 'My access was revoked',
  grant_expiring: 'My access ends within 24 hours',
  grant_expired: 'My access expired',
  grant_suspended: 'My access was suspended',
  file_downloaded: 'One of my files was downloaded',
  incident: 'An administrator acted on a grant',
  alert: 'A new security alert',
};

export const KINDS_BY_ROLE: Record<'organization' | 'consultant' | 'admin', NotificationKind[]> = {
  organization: ['access_requested', 'file_downloaded', 'incident'],
  consultant: ['access_granted', 'access_denied', 'access_revoked', 'grant_expiring', 'grant_expired', 'grant_suspended', 'incident'],
  admin: ['alert'],
};
