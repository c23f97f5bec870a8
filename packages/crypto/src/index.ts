export {
  CryptoError,
  DecryptionFailedError,
  WrongPasswordError,
  UnknownKeyIdError,
  AlgorithmDisabledError,
  InvalidKeyError,
  InvalidShareError,
} from './errors.ts';

export { aeadSeal, aeadOpen, type AeadAlgorithm } from './aead.ts';

export {
  type FileAlgorithm,
  MODERN_ALGORITHMS,
  LEGACY_ALGORITHMS,
  assertAlgorithmAvailable,
} from './algorithms.ts';
export {
  DEFAULT_SEGMENT_SIZE,
  MIN_SEGMENT_SIZE,
  MAX_SEGMENT_SIZE,
  HEADER_LENGTH,
  ciphertextSize,
  plaintextSize,
} from './segmented/header.ts';
export { createEncryptStream, type EncryptStreamOptions, type HashingEncryptStream } from './segmented/encrypt.ts';
export { createSealWorkerPool, type SealWorkerPool, type SealPoolOptions } from './segmented/seal-pool.ts';
export { createDecryptStream } from './segmented/decrypt.ts';
export { createRangeDecryptStream, type RangeDecryptOptions } from './segmented/range.ts';

export {
  parseKek,
  kekId,
  type KekRing,
  type ExternalKek,
  createKekRing,
  createExternalKekRing,
  wrapDek,
  unwrapDek,
  wrappedDekKeyId,
  generateDek,
  WRAPPED_DEK_VERSION,
} from './envelope.ts';

export {
  type RsaKeySize,
  type RsaKeyPair,
  generateRsaKeyPair,
  publicKeyFingerprint,
  rsaWrapDek,
  rsaUnwrapDek,
} from './rsa.ts';

export {
  type ProtectedPrivateKey,
  type PrivateKeyContext,
  PBKDF2_DEFAULT_ITERATIONS,
  protectPrivateKey,
  unprotectPrivateKey,
  privateKeyNeedsUpgrade,
} from './private-key.ts';

export {
  type ScryptParams,
  SCRYPT_DEFAULTS,
  hashPassword,
  verifyPassword,
  passwordHashNeedsUpgrade,
  unmatchablePasswordHash,
} from './password-hash.ts';

export { type ScryptCost, scryptKey } from './kdf.ts';

export { splitSecret, combineShares, describeShare, type ShareInfo } from './shamir.ts';

export { KEK_BACKUP_ITERATIONS, exportKekBackup, importKekBackup } from './kek-backup.ts';
