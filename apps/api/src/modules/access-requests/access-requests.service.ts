import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { AccessRequest, AccessRequestList, ApproveBody, ListAccessRequestsQuery } from '@sfe/contract';
import { DecryptionFailedError } from '@sfe/crypto';
import type { ByteRange } from '../../lib/content-disposition.ts';
import type { Actor } from '../../lib/actor.ts';
import { AppError, conflict, fail, forbidden, invalidField, notFound } from '../../lib/errors.ts';
import type { AuditLog } from '../audit/audit.service.ts';
import { isUniqueViolation } from '../audit/audit.repository.ts';
import type { FileRow } from '../files/files.repository.ts';
import type { FilesService } from '../files/files.service.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import type { UnlockPrivateKey } from '../users/private-key-unlock.ts';
import type { AccessRequestStatus } from '../../db/client.ts';
import type { AccessRequestRow, AccessRequestsRepository } from './access-requests.repository.ts';
import { effectiveStatus, toAccessRequestDto } from './access-requests.presenter.ts';
import { unwrapGrantDek, wrapGrantDek } from './grant-wrap.ts';
import { notices } from '../notifications/notifications.messages.ts';

export interface AccessRequestsServiceDeps {
  requests: AccessRequestsRepository;
  users: UsersRepository;
  files: FilesService;
  unlockPrivateKey: UnlockPrivateKey;
  audit: AuditLog;
}

export interface GrantDownload {
  file: FileRow;
  stream: Readable;
  range: ByteRange | null;
  /** Call once the response ended: `delivered` when its last byte went out. */
  settle(delivered: boolean): Promise<void>;
}

export function createAccessRequestsService(deps: AccessRequestsServiceDeps) {
  const { requests, audit } = deps;

  /** Loads a request the actor may see; anyone else gets 404, as if it did not exist. */
  async function visible(actor: Actor, id: string): Promise<AccessRequestRow> {
    const row = await requests.findById(id);
    if (!row) throw notFound('Access request');
    const allowed =
      actor.role === 'admin' ||
      (actor.role === 'consultant' && row.consultantId === actor.id) ||
      (actor.role === 'organization' && row.file.ownerId === actor.id);
    if (!allowed) throw notFound('Access request');
    return row;
  }

  async function ownedByActor(actor: Actor, id: string, action: string): Promise<AccessRequestRow> {
    const row = await visible(actor, id);
    if (actor.role !== 'organization') throw forbidden(`Only the organization that owns the file can ${action} a request.`);
    return row;
  }

  const refOf = (row: AccessRequestRow) => ({
    requestId: row.id,
    fileId: row.fileId,
    filename: row.file.filename,
    consultantId: row.consultantId,
    ownerId: row.file.ownerId,
    consultantName: row.consultant.username,
  });

  const illegal = (row: AccessRequestRow, action: string) =>
    conflict(`A request that is ${effectiveStatus(row, new Date())} cannot be ${action}.`);

  type DecisionEvent = { operation: 'access_denied' | 'access_revoked'; userId: string; ipAddress: string | null };

  /** A refused decision (unknown, not the caller's, wrong role) is on record too, then answered. */
  async function refusalsOnRecord<T>(event: DecisionEvent, details: { requestId: string }, load: () => Promise<T>): Promise<T> {
    try {
      return await load();
    } catch (error) {
      if (error instanceof AppError) await audit.record({ ...event, success: false, details: { ...details, refused: error.code } });
      throw error;
    }
  }

  /** The change lost a race after its record was written: the record is corrected by a failure record. */
  async function raced(event: DecisionEvent, details: { requestId: string; fileId: string }, id: string, action: string): Promise<never> {
    const now = (await requests.findById(id)) ?? null;
    await audit.record({ ...event, success: false, details: { ...details, raced: true, from: now?.status ?? null } });
    throw now ? illegal(now, action) : notFound('Access request');
  }

  async function reload(id: string): Promise<AccessRequest> {
    const row = await requests.findById(id);
    if (!row) throw notFound('Access request');
    return toAccessRequestDto(row);
  }

  return {
    async create(actor: Actor, fileId: string, reason: string): Promise<AccessRequest> {
      if (actor.role !== 'consultant') throw forbidden('Only consultants request access to files.');
      await deps.files.get(actor, fileId);
      for (let attempt = 0; ; attempt++) {
        try {
          const row = await requests.create({ id: randomUUID(), fileId, consultantId: actor.id, reason }, (created) => [notices.requested(refOf(created))]);
          await audit.record({ operation: 'access_requested', success: true, userId: actor.id, ipAddress: actor.ip, details: { requestId: row.id, fileId } });
          return toAccessRequestDto(row);
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          // A grant that lapsed is still marked open until something touches it: close it
          // (expired) and ask again; anything else really is an open request.
          if (attempt > 0 || !(await requests.closeLapsed(fileId, actor.id, new Date()))) {
            throw conflict('You already have an open request for this file.');
          }
        }
      }
    },

    async list(actor: Actor, query: ListAccessRequestsQuery): Promise<AccessRequestList> {
      if (query.cursor && !(await requests.exists(query.cursor))) throw invalidField('querystring.cursor', 'is not a cursor of this list');
      const page = await requests.list({
        limit: query.limit ?? 50,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.fileId ? { fileId: query.fileId } : {}),
        ...(actor.role === 'consultant' ? { consultantId: actor.id } : {}),
        ...(actor.role === 'organization' ? { ownerId: actor.id } : {}),
      });
      const now = new Date();
      return { items: page.rows.map((row) => toAccessRequestDto(row, now)), nextCursor: page.nextCursor };
    },

    async approve(actor: Actor, id: string, body: ApproveBody): Promise<AccessRequest> {
      const row = await ownedByActor(actor, id, 'approve');
      const now = new Date();
      const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
      if (expiresAt && expiresAt <= now) throw invalidField('body.expiresAt', 'must be in the future');
      // A suspended grant (unusual_access) opens again only when its owner approves it again.
      if (row.status !== 'pending' && row.status !== 'suspended') throw illegal(row, 'approved');
      const file = await deps.files.findLive(row.fileId);
      if (!file?.wrappedKey) throw conflict('The file no longer exists.');
      const consultant = await deps.users.publicKey(row.consultantId);
      if (!consultant?.publicKeyPem || !consultant.publicKeyFingerprint) throw conflict('The consultant has no public key.');

      const binding = { id, consultantId: row.consultantId, fileId: file.id, expiresAt };
      const dek = await deps.files.unwrapDek(actor, file, { requestId: id });
      let fingerprint = consultant.publicKeyFingerprint;
      try {
        const approved = await requests.approve(id, {
          wrappedSymmetricKey: await wrapGrantDek(consultant.publicKeyPem, dek, binding),
          consultantKeyFingerprint: fingerprint,
          expiresAt,
          maxDownloads: body.maxDownloads ?? null,
          processedById: actor.id,
          now,
        }, [notices.granted(refOf(row), expiresAt)]);
        if (!approved) throw illegal((await requests.findById(id)) ?? row, 'approved');
        // A key rotation of the consultant may have committed while this approval was
        // wrapping: it did not see this grant, so follow the key it moved to
        // (compare-and-set on the fingerprint), or undo the approval cleanly.
        for (let round = 0; ; round++) {
          const current = await deps.users.publicKey(row.consultantId);
          if (current?.publicKeyFingerprint === fingerprint) break;
          if (!current?.publicKeyPem || !current.publicKeyFingerprint || round >= 4) {
            await requests.unapprove(id, fingerprint);
            throw conflict("The consultant's key pair changed while approving; try again.");
          }
          const moved = await requests.rewrap(id, fingerprint, {
            wrappedSymmetricKey: await wrapGrantDek(current.publicKeyPem, dek, binding),
            consultantKeyFingerprint: current.publicKeyFingerprint,
          });
          if (!moved) break; // a rotation re-wrapped it (or the grant was closed) meanwhile
          fingerprint = current.publicKeyFingerprint;
        }
      } catch (error) {
        // A conflict is the answer itself; anything else is a failed wrap, on record too.
        if (!(error instanceof AppError)) {
          await audit.record({ operation: 'key_wrapped', success: false, userId: actor.id, ipAddress: actor.ip, details: { requestId: id, fileId: file.id, wrappedBy: 'rsa-oaep-sha256' } });
        }
        throw error;
      } finally {
        dek.fill(0);
      }
      await audit.record({
        operation: 'key_wrapped',
        success: true,
        userId: actor.id,
        ipAddress: actor.ip,
        details: { requestId: id, fileId: file.id, wrappedBy: 'rsa-oaep-sha256', fingerprint, bound: true },
      });
      await audit.record({
        operation: 'access_granted',
        success: true,
        userId: actor.id,
        ipAddress: actor.ip,
        details: { requestId: id, fileId: file.id, consultantId: row.consultantId, maxDownloads: body.maxDownloads ?? null, expiresAt: expiresAt?.toISOString() ?? null },
      });
      return reload(id);
    },

    async deny(actor: Actor, id: string, reason: string | undefined): Promise<AccessRequest> {
      const event = { operation: 'access_denied', userId: actor.id, ipAddress: actor.ip } as const;
      const row = await refusalsOnRecord(event, { requestId: id }, () => ownedByActor(actor, id, 'deny'));
      const details = { requestId: id, fileId: row.fileId };
      if (effectiveStatus(row, new Date()) !== 'pending') {
        await audit.record({ ...event, success: false, details: { ...details, from: row.status } });
        throw illegal(row, 'denied');
      }
      // Fail closed: the record goes first, so nothing changes that the log cannot show.
      await audit.record({ ...event, success: true, details });
      const closed = await requests.close(id, ['pending'], 'denied', { processedById: actor.id, decisionReason: reason ?? null, now: new Date() }, [notices.denied(refOf(row))]);
      if (!closed) return raced(event, details, id, 'denied');
      return reload(id);
    },

    async revoke(actor: Actor, id: string): Promise<AccessRequest> {
      const event = { operation: 'access_revoked', userId: actor.id, ipAddress: actor.ip } as const;
      const row = await refusalsOnRecord(event, { requestId: id }, async () => {
        const found = await visible(actor, id);
        if (actor.role === 'consultant') throw forbidden('Only the owning organization or an admin can revoke a grant.');
        return found;
      });
      const now = new Date();
      const details = { requestId: id, fileId: row.fileId };
      const from: readonly AccessRequestStatus[] = effectiveStatus(row, now) === 'expired' ? [] : ['pending', 'approved', 'suspended'];
      if (!from.includes(row.status)) {
        await audit.record({ ...event, success: false, details: { ...details, from: row.status } });
        throw illegal(row, 'revoked');
      }
      await audit.record({ ...event, success: true, details: { ...details, keyDeleted: true } });
      const closed = await requests.close(id, from, 'revoked', { processedById: actor.id, now }, [notices.revoked(refOf(row))]);
      if (!closed) return raced(event, details, id, 'revoked');
      return reload(id);
    },

    /**
     * The consultant's download: password -> private key -> DEK -> plaintext stream. The
     * download is taken from the grant up front (so two at once cannot both take the last
     * one) and `settle` keeps it only when the last byte was delivered; a used-up grant
     * is then closed, its wrapped key destroyed.
     */
    async download(actor: Actor, id: string, password: string, pickRange: (size: number) => ByteRange | null): Promise<GrantDownload> {
      const row = await visible(actor, id);
      if (actor.role !== 'consultant') throw forbidden('Only the consultant who holds the grant can download with it.');
      const now = new Date();
      await assertDownloadable(row, now);
      const file = await deps.files.findLive(row.fileId);
      if (!file) throw fail('ACCESS_NOT_APPROVED', 'The file was deleted; the grant no longer applies.');
      const range = pickRange(Number(file.size));

      // The grant names the key it is wrapped to: the current one, or the previous one
      // while the consultant's key rotation has not committed (or was cut short).
      const { key, privateKeyDer } = await deps.unlockPrivateKey(actor, password, { requestId: id }, { fingerprint: row.consultantKeyFingerprint });
      try {
        if (key.fingerprint !== row.consultantKeyFingerprint || !row.wrappedSymmetricKey) {
          throw conflict('This grant was wrapped to a different key pair; ask the organization to approve again.');
        }
        // Status, expiry and remaining downloads are checked and counted in one statement.
        if (!(await requests.consumeDownload(id, now))) {
          await assertDownloadable((await requests.findById(id)) ?? row, now);
          throw fail('ACCESS_NOT_APPROVED', 'Access to this file is not approved.');
        }
        let dek: Buffer;
        try {
          dek = await unwrapGrantDek(privateKeyDer, row.wrappedSymmetricKey, row);
        } catch (error) {
          await requests.refundDownload(id);
          await audit.record({ operation: 'key_unwrapped', success: false, userId: actor.id, ipAddress: actor.ip, details: { requestId: id, fileId: file.id } });
          if (error instanceof DecryptionFailedError) throw fail('INTERNAL_ERROR', 'The grant could not be opened.');
          throw error;
        }
        try {
          await audit.record({ operation: 'key_unwrapped', success: true, userId: actor.id, ipAddress: actor.ip, details: { requestId: id, fileId: file.id, wrappedBy: 'rsa-oaep-sha256' } });
        } catch (error) {
          // Not audited, so not released: the download is given back.
          dek.fill(0);
          await requests.refundDownload(id);
          throw error;
        }
        let stream: Readable;
        try {
          stream = await deps.files.openWithDek(actor, file, dek, range);
        } catch (error) {
          await requests.refundDownload(id);
          throw error;
        }
        let settled = false;
        const settle = async (delivered: boolean) => {
          if (settled) return;
          settled = true;
          if (!delivered) await requests.refundDownload(id);
          else {
            const at = new Date();
            await requests.closeExhausted(id, at, [notices.downloaded(refOf(row), at)]);
          }
        };
        return { file, stream, range, settle };
      } finally {
        privateKeyDer.fill(0);
      }
    },
  };

  /** Throws the API's answer for a grant that cannot be used now; marks lapsed grants expired. */
  async function assertDownloadable(row: AccessRequestRow, now: Date): Promise<void> {
    const status = effectiveStatus(row, now);
    // A grant closed because its downloads were used up says so, not "expired".
    if ((status === 'approved' || status === 'expired') && row.maxDownloads !== null && row.downloadCount >= row.maxDownloads) {
      throw fail('DOWNLOAD_LIMIT_REACHED', 'The download limit of this grant is used up.');
    }
    if (status === 'expired') {
      if (row.status === 'approved') await requests.close(row.id, ['approved'], 'expired', { now }, [notices.expired(refOf(row))]);
      throw fail('GRANT_EXPIRED', 'This grant has expired.');
    }
    if (status === 'suspended') {
      throw fail('ACCESS_NOT_APPROVED', `Access to this file is suspended${row.decisionReason ? ` (${row.decisionReason})` : ''}; the owner must approve it again.`);
    }
    if (status !== 'approved') throw fail('ACCESS_NOT_APPROVED', `Access to this file is ${status}, not approved.`);
    if (row.maxDownloads !== null && row.downloadCount >= row.maxDownloads) {
      throw fail('DOWNLOAD_LIMIT_REACHED', 'The download limit of this grant is used up.');
    }
  }
}
export type AccessRequestsService = ReturnType<typeof createAccessRequestsService>;
