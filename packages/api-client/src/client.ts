import type {
  AccessRequest,
  AdminUser,
  AdminUserList,
  AdminUsersQuery,
  Alert,
  AlertList,
  AlertsQuery,
  AuditList,
  AuditListQuery,
  AuditReport,
  AuditVerifyResult,
  ErasureCertificate,
  IncidentResponse,
  AccessRequestList,
  ApproveBody,
  ChangePasswordBody,
  CreateAccessRequestBody,
  DenyBody,
  FileList,
  KekStatus,
  KekVerifyBody,
  KekVerifyReport,
  Rotation,
  FileMetadata,
  ListAccessRequestsQuery,
  ListFilesQuery,
  LoginBody,
  MfaChallengeResponse,
  MfaResetResponse,
  MfaStatus,
  MfaVerifyBody,
  MyKeysResponse,
  Passkey,
  RecoveryCodesResponse,
  TotpEnrolment,
  PublicKeyResponse,
  RegisterBody,
  RotateKeysBody,
  RotateKeysResponse,
  TokenResponse,
  UploadFields,
  UserResponse,
} from '@sfe/contract';
import { toDownloadResponse, type DownloadResponse } from './download.ts';
import { createTransport, segment, type ApiClientOptions } from './http.ts';
import { uploadFile, type UploadOptions } from './upload.ts';
import { notificationsClient } from './notifications.ts';

export interface RequestOptions {
  signal?: AbortSignal;
}

/** One function per route of docs/api.md; every type comes from @sfe/contract. */
export function createApiClient(options: ApiClientOptions) {
  const t = createTransport(options);

  const auth = {
    register: (body: RegisterBody, o: RequestOptions = {}) =>
      t.json<UserResponse>({ method: 'POST', path: '/auth/register', json: body, auth: false, signal: o.signal }),
    /** Tokens, or for an account with a second factor `{ mfaRequired, mfaToken, methods }` for `mfa()`. */
    signIn: (body: LoginBody, o: RequestOptions = {}) =>
      t.json<TokenResponse | MfaChallengeResponse>({ method: 'POST', path: '/auth/login', json: body, auth: false, signal: o.signal }),
    /** A password-only sign-in: the tokens (an account with a second factor needs `signIn` and `mfa`). */
    login: async (body: LoginBody, o: RequestOptions = {}): Promise<TokenResponse> => {
      const answer = await t.json<TokenResponse | MfaChallengeResponse>({ method: 'POST', path: '/auth/login', json: body, auth: false, signal: o.signal });
      if ('mfaRequired' in answer) throw new Error('This account has a second factor: sign in with auth.signIn, then auth.mfa.');
      return answer;
    },
    /** The second sign-in step: exactly one of code, recoveryCode, webauthn. */
    mfa: (body: MfaVerifyBody, o: RequestOptions = {}) =>
      t.json<TokenResponse>({ method: 'POST', path: '/auth/mfa', json: body, auth: false, signal: o.signal }),
    /** WebAuthn assertion options (PublicKeyCredentialRequestOptionsJSON) for a pending sign-in. */
    mfaPasskeyOptions: (mfaToken: string, o: RequestOptions = {}) =>
      t.json<Record<string, unknown> & { challenge: string }>({ method: 'POST', path: '/auth/mfa/webauthn/options', json: { mfaToken }, auth: false, signal: o.signal }),
    refresh: (refreshToken: string, o: RequestOptions = {}) =>
      t.json<TokenResponse>({ method: 'POST', path: '/auth/refresh', json: { refreshToken }, auth: false, signal: o.signal }),
    logout: (refreshToken: string, o: RequestOptions = {}) =>
      t.empty({ method: 'POST', path: '/auth/logout', json: { refreshToken }, auth: false, signal: o.signal }),
    me: (o: RequestOptions = {}) => t.json<UserResponse>({ method: 'GET', path: '/auth/me', signal: o.signal }),
  };

  const users = {
    keys: (o: RequestOptions = {}) => t.json<MyKeysResponse>({ method: 'GET', path: '/users/me/keys', signal: o.signal }),
    rotateKeys: (body: RotateKeysBody, o: RequestOptions = {}) =>
      t.json<RotateKeysResponse>({ method: 'POST', path: '/users/me/keys/rotate', json: body, signal: o.signal }),
    changePassword: (body: ChangePasswordBody, o: RequestOptions = {}) =>
      t.empty({ method: 'POST', path: '/users/me/password', json: body, signal: o.signal }),
    publicKey: (userId: string, o: RequestOptions = {}) =>
      t.json<PublicKeyResponse>({ method: 'GET', path: `/users/${segment(userId)}/public-key`, signal: o.signal }),
    mfa: {
      status: (o: RequestOptions = {}) => t.json<MfaStatus>({ method: 'GET', path: '/users/me/mfa', signal: o.signal }),
      startTotp: (o: RequestOptions = {}) => t.json<TotpEnrolment>({ method: 'POST', path: '/users/me/mfa/totp', json: {}, signal: o.signal }),
      confirmTotp: (code: string, o: RequestOptions = {}) =>
        t.json<RecoveryCodesResponse>({ method: 'POST', path: '/users/me/mfa/totp/confirm', json: { code }, signal: o.signal }),
      removeTotp: (password: string, o: RequestOptions = {}) =>
        t.empty({ method: 'DELETE', path: '/users/me/mfa/totp', json: { password }, signal: o.signal }),
      /** WebAuthn registration options (PublicKeyCredentialCreationOptionsJSON). */
      passkeyOptions: (o: RequestOptions = {}) =>
        t.json<Record<string, unknown> & { challenge: string }>({ method: 'POST', path: '/users/me/mfa/webauthn/options', json: {}, signal: o.signal }),
      registerPasskey: (body: { response: unknown; name?: string }, o: RequestOptions = {}) =>
        t.json<Passkey>({ method: 'POST', path: '/users/me/mfa/webauthn', json: body, signal: o.signal }),
      removePasskey: (id: string, password: string, o: RequestOptions = {}) =>
        t.empty({ method: 'DELETE', path: `/users/me/mfa/webauthn/${segment(id)}`, json: { password }, signal: o.signal }),
    },
  };

  const files = {
    list: (query: ListFilesQuery = {}, o: RequestOptions = {}) =>
      t.json<FileList>({ method: 'GET', path: '/files', query: { ...query }, signal: o.signal }),
    get: (id: string, o: RequestOptions = {}) =>
      t.json<FileMetadata>({ method: 'GET', path: `/files/${segment(id)}`, signal: o.signal }),
    delete: (id: string, o: RequestOptions = {}) =>
      t.empty({ method: 'DELETE', path: `/files/${segment(id)}`, signal: o.signal }),
    upload: (file: Blob, fields: UploadFields = {}, o: UploadOptions = {}) => uploadFile(t, file, fields, o),
    /** Owner download. The body is unread: pass it to `saveDownload`, `collectBlob` or `pipeToWritable`. */
    download: async (id: string, o: RequestOptions & { range?: { start: number; end?: number } } = {}) => {
      const headers: Record<string, string> = {};
      if (o.range) headers.range = `bytes=${o.range.start}-${o.range.end ?? ''}`;
      const response = await t.send({ method: 'GET', path: `/files/${segment(id)}/content`, headers, signal: o.signal });
      return toDownloadResponse(response, 'download.bin');
    },
  };

  const accessRequests = {
    list: (query: ListAccessRequestsQuery = {}, o: RequestOptions = {}) =>
      t.json<AccessRequestList>({ method: 'GET', path: '/access-requests', query: { ...query }, signal: o.signal }),
    create: (fileId: string, body: CreateAccessRequestBody, o: RequestOptions = {}) =>
      t.json<AccessRequest>({ method: 'POST', path: `/files/${segment(fileId)}/access-requests`, json: body, signal: o.signal }),
    approve: (id: string, body: ApproveBody = {}, o: RequestOptions = {}) =>
      t.json<AccessRequest>({ method: 'POST', path: `/access-requests/${segment(id)}/approve`, json: body, signal: o.signal }),
    deny: (id: string, body: DenyBody = {}, o: RequestOptions = {}) =>
      t.json<AccessRequest>({ method: 'POST', path: `/access-requests/${segment(id)}/deny`, json: body, signal: o.signal }),
    revoke: (id: string, o: RequestOptions = {}) =>
      t.json<AccessRequest>({ method: 'POST', path: `/access-requests/${segment(id)}/revoke`, json: {}, signal: o.signal }),
    /**
     * Consultant download. The password travels once, in this request's JSON body,
     * never in a URL; the client keeps no copy of it.
     */
    download: async (id: string, password: string, o: RequestOptions = {}): Promise<DownloadResponse> => {
      const response = await t.send({
        method: 'POST',
        path: `/access-requests/${segment(id)}/download`,
        json: { password },
        signal: o.signal,
      });
      return toDownloadResponse(response, 'download.bin');
    },
  };

  const userPath = (id: string, action = '') => `/admin/users/${segment(id)}${action}`;
  const admin = {
    users: {
      list: (query: AdminUsersQuery = {}, o: RequestOptions = {}) =>
        t.json<AdminUserList>({ method: 'GET', path: '/admin/users', query: { ...query }, signal: o.signal }),
      disable: (id: string, o: RequestOptions = {}) =>
        t.json<AdminUser>({ method: 'POST', path: userPath(id, '/disable'), json: {}, signal: o.signal }),
      enable: (id: string, o: RequestOptions = {}) =>
        t.json<AdminUser>({ method: 'POST', path: userPath(id, '/enable'), json: {}, signal: o.signal }),
      revokeGrants: (id: string, o: RequestOptions = {}) =>
        t.json<{ grantsRevoked: number }>({ method: 'POST', path: userPath(id, '/revoke-grants'), json: {}, signal: o.signal }),
      deletePrivateKey: (id: string, o: RequestOptions = {}) =>
        t.json<{ privateKeyDeleted: true }>({ method: 'DELETE', path: userPath(id, '/private-key'), signal: o.signal }),
      incident: (id: string, o: RequestOptions = {}) =>
        t.json<IncidentResponse>({ method: 'POST', path: userPath(id, '/incident'), json: {}, signal: o.signal }),
      mfaReset: (id: string, o: RequestOptions = {}) =>
        t.json<MfaResetResponse>({ method: 'POST', path: userPath(id, '/mfa-reset'), json: {}, signal: o.signal }),
      /** Right to erasure; answers the signed erasure certificate. */
      erase: (id: string, o: RequestOptions = {}) =>
        t.json<ErasureCertificate>({ method: 'DELETE', path: userPath(id), signal: o.signal }),
    },
    audit: {
      list: (query: AuditListQuery = {}, o: RequestOptions = {}) =>
        t.json<AuditList>({ method: 'GET', path: '/admin/audit', query: { ...query }, signal: o.signal }),
      report: (days = 30, o: RequestOptions = {}) =>
        t.json<AuditReport>({ method: 'GET', path: '/admin/audit/report', query: { days }, signal: o.signal }),
      /** The period's records as CSV, through the bearer header like every call (never a token in a URL). */
      reportCsv: async (days = 30, o: RequestOptions = {}): Promise<DownloadResponse> => {
        const response = await t.send({ method: 'GET', path: '/admin/audit/report', query: { days, format: 'csv' }, signal: o.signal });
        return toDownloadResponse(response, `audit-${days}d.csv`);
      },
      verify: (o: RequestOptions = {}) => t.json<AuditVerifyResult>({ method: 'GET', path: '/admin/audit/verify', signal: o.signal }),
    },
    alerts: {
      list: (query: AlertsQuery = {}, o: RequestOptions = {}) =>
        t.json<AlertList>({ method: 'GET', path: '/admin/alerts', query: { ...query }, signal: o.signal }),
      acknowledge: (id: string, o: RequestOptions = {}) =>
        t.json<Alert>({ method: 'POST', path: `/admin/alerts/${segment(id)}/ack`, json: {}, signal: o.signal }),
    },
    kek: {
      status: (o: RequestOptions = {}) => t.json<KekStatus>({ method: 'GET', path: '/admin/kek', signal: o.signal }),
      rotate: (o: RequestOptions = {}) => t.json<Rotation>({ method: 'POST', path: '/admin/kek/rotate', json: {}, signal: o.signal }),
      rotation: (id: string, o: RequestOptions = {}) =>
        t.json<Rotation>({ method: 'GET', path: `/admin/kek/rotations/${segment(id)}`, signal: o.signal }),
      verify: (body: KekVerifyBody = {}, o: RequestOptions = {}) =>
        t.json<KekVerifyReport>({ method: 'POST', path: '/admin/kek/verify', json: body, signal: o.signal }),
    },
  };

  return { auth, users, files, accessRequests, admin, notifications: notificationsClient(t) };
}

export type ApiClient = ReturnType<typeof createApiClient>;
