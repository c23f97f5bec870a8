/** Audit operation names (docs/api.md). */
export const AUDIT_OPERATIONS = [
  'keypair_generated',
  'key_wrapped',
  'key_unwrapped',
  'private_key_decrypted',
  'access_requested',
  'access_granted',
  'access_denied',
  'access_revoked',
  'file_encrypted',
  'file_decrypted',
  'file_deleted',
  'login_succeeded',
  'login_failed',
  'account_locked',
  'account_disabled',
  'account_enabled',
  'password_changed',
  'keypair_rotated',
  'private_key_deleted',
  'refresh_token_reused',
  'kek_rotated',
  'dek_rewrapped',
  'backup_created',
  'backup_restored',
  'access_suspended',
  'user_erased',
  'alert_raised',
  'audit_verified',
  'audit_purged',
  'mfa_enrolled',
  'mfa_verified',
  'mfa_failed',
  'mfa_reset',
  'recovery_code_used',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditEvent {
  operation: AuditOperation;
  success: boolean;
  userId?: string | null;
  ipAddress?: string | null;
  details?: AuditDetails;
}

/**
 * Best-effort records: sign-in noise and the audit's own bookkeeping. A failed write of
 * any other successful operation fails the operation (fail closed); a failure record
 * never hides the failure it describes.
 */
export const BEST_EFFORT_OPERATIONS: ReadonlySet<AuditOperation> = new Set([
  'login_succeeded',
  'login_failed',
  'account_locked',
  'refresh_token_reused',
  'alert_raised',
  'audit_verified',
  'mfa_failed',
]);
