import type { Notice } from './notifications.repository.ts';

/**
 * Every notice text in one place. A notice names the file by its filename and the other
 * party by username at most: never contents, keys, tokens, or free-text reasons (a
 * consultant's reason or an owner's denial reason may carry anything).
 */
const q = (name: string) => `"${name.replace(/[\r\n\t]+/g, ' ').slice(0, 200)}"`;

interface GrantRef {
  requestId: string;
  fileId: string;
  filename: string;
  consultantId: string;
}

export const notices = {
  requested: (grant: GrantRef & { ownerId: string; consultantName: string }): Notice => ({
    to: grant.ownerId,
    kind: 'access_requested',
    message: `Consultant ${grant.consultantName} asked for access to your file ${q(grant.filename)}.`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  granted: (grant: GrantRef, expiresAt: Date | null): Notice => ({
    to: grant.consultantId,
    kind: 'access_granted',
    message: `Your access to ${q(grant.filename)} was approved${expiresAt ? ` until ${expiresAt.toISOString()}` : ''}.`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  denied: (grant: GrantRef): Notice => ({
    to: grant.consultantId,
    kind: 'access_denied',
    message: `Your request for access to ${q(grant.filename)} was denied.`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  revoked: (grant: GrantRef): Notice => ({
    to: grant.consultantId,
    kind: 'access_revoked',
    message: `Your access to ${q(grant.filename)} was revoked.`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  fileDeleted: (grant: GrantRef): Notice => ({
    to: grant.consultantId,
    kind: 'access_revoked',
    message: `Your request or access for ${q(grant.filename)} was closed: the owner deleted the file.`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  expiring: (grant: GrantRef, expiresAt: Date): Notice => ({
    to: grant.consultantId,
    kind: 'grant_expiring',
    message: `Your access to ${q(grant.filename)} ends at ${expiresAt.toISOString()} (within 24 hours).`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  expired: (grant: GrantRef): Notice => ({
    to: grant.consultantId,
    kind: 'grant_expired',
    message: `Your access to ${q(grant.filename)} has expired.`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  suspended: (grant: GrantRef): Notice => ({
    to: grant.consultantId,
    kind: 'grant_suspended',
    message: `Your access to ${q(grant.filename)} was suspended after unusual activity; the owner must approve it again.`,
    fileId: grant.fileId,
    requestId: grant.requestId,
  }),

  /** One notice per file and hour for the owner, counting the downloads in it. */
  downloaded: (grant: GrantRef & { ownerId: string; consultantName: string }, now: Date): Notice => {
    const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
    const since = hour.toISOString().slice(11, 16);
    return {
      to: grant.ownerId,
      kind: 'file_downloaded',
      message: `Your file ${q(grant.filename)} was downloaded by consultant ${grant.consultantName}.`,
      repeated: (count) => `Your file ${q(grant.filename)} was downloaded ${count} times since ${since} UTC (last by consultant ${grant.consultantName}).`,
      fileId: grant.fileId,
      requestId: grant.requestId,
      batchKey: `download:${grant.fileId}:${hour.getTime()}`,
    };
  },

  /**
   * A grant closed by an administrator (incident response, erasure, key deletion): the
   * consultant and the owner organization hear of it, except the account acted on.
   * After an erasure the erased party is not named.
   */
  closedByAdmin(
    grant: GrantRef & { ownerId: string; consultantName: string },
    targetUserId: string,
    purpose: 'incident' | 'erasure' | 'admin',
  ): Notice[] {
    const kind = purpose === 'admin' ? 'access_revoked' : 'incident';
    const out: Notice[] = [];
    const base = { kind, fileId: grant.fileId, requestId: grant.requestId } as const;
    if (grant.consultantId !== targetUserId) {
      out.push({ ...base, to: grant.consultantId, message: `An administrator revoked your access to ${q(grant.filename)}.` });
    }
    if (grant.ownerId !== targetUserId) {
      const who = purpose === 'erasure' ? 'a consultant whose account was erased' : `consultant ${grant.consultantName}`;
      out.push({ ...base, to: grant.ownerId, message: `An administrator revoked the access of ${who} to your file ${q(grant.filename)}.` });
    }
    return out;
  },

  alert: (alert: { id: string; rule: string; severity: string }): Notice => ({
    to: { admins: true },
    kind: 'alert',
    message: `New ${alert.severity} alert: ${alert.rule.replace(/_/g, ' ')}. See the alerts page.`,
  }),
};
