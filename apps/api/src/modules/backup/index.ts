export { createBackup, type BackupPhase, type BackupProgress, type BackupResult, type CreateBackupOptions } from './backup.service.ts';
export { restoreBackup, type RestoreBackupOptions, type RestoreResult } from './restore.service.ts';
export { BackupRefusedError, type BackupRefusal } from './backup.errors.ts';
export { MIN_PASSPHRASE_LENGTH } from './archive-crypto.ts';
