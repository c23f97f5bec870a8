/**
 * Typed errors with a stable `code`. Messages never contain key material,
 * passwords or the input that was refused.
 */
export class CryptoError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Every authentication or parse failure of ciphertext. Deliberately says
 * nothing about which check failed, so callers cannot leak an oracle.
 */
export class DecryptionFailedError extends CryptoError {
  constructor() {
    super('DECRYPTION_FAILED', 'decryption failed');
  }
}

export class WrongPasswordError extends CryptoError {
  constructor() {
    super('WRONG_PASSWORD', 'wrong password');
  }
}

/** The key id is not secret, so naming it helps operators during rotation. */
export class UnknownKeyIdError extends CryptoError {
  readonly keyId: string;

  constructor(keyId: string) {
    super('UNKNOWN_KEY_ID', `no key with id ${keyId} in the key ring`);
    this.keyId = keyId;
  }
}

export class AlgorithmDisabledError extends CryptoError {
  constructor(message: string) {
    super('ALGORITHM_DISABLED', message);
  }
}

export class InvalidKeyError extends CryptoError {
  constructor(message: string) {
    super('INVALID_KEY', message);
  }
}

export class InvalidShareError extends CryptoError {
  constructor(message: string) {
    super('INVALID_SHARE', message);
  }
}
