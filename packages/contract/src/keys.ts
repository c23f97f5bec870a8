import Type from 'typebox';
import { Nullable, Timestamp } from './common.ts';
import { KeySize, NewPassword, Password } from './auth.ts';

export const KeyAlgorithm = Type.Union([Type.Literal('RSA-2048'), Type.Literal('RSA-4096')]);

export const MyKeysResponse = Type.Object({
  algorithm: KeyAlgorithm,
  publicKeyPem: Type.String(),
  fingerprint: Type.String(),
  keyGeneratedAt: Timestamp,
  /** Null once an admin has deleted the private key (incident response). */
  privateKey: Nullable(
    Type.Object({
      createdAt: Timestamp,
      lastAccessed: Nullable(Timestamp),
      accessCount: Type.Integer({ minimum: 0 }),
      kdf: Type.String(),
      iterations: Type.Integer(),
    }),
  ),
});
export type MyKeysResponse = Type.Static<typeof MyKeysResponse>;

export const RotateKeysBody = Type.Object(
  { password: Password, keySize: Type.Optional(KeySize) },
  { additionalProperties: false },
);
export type RotateKeysBody = Type.Static<typeof RotateKeysBody>;

export const RotateKeysResponse = Type.Object({
  fingerprint: Type.String(),
  keyGeneratedAt: Timestamp,
  rewrappedGrants: Type.Integer({ minimum: 0 }),
});
export type RotateKeysResponse = Type.Static<typeof RotateKeysResponse>;

export const ChangePasswordBody = Type.Object(
  { currentPassword: Password, newPassword: NewPassword },
  { additionalProperties: false },
);
export type ChangePasswordBody = Type.Static<typeof ChangePasswordBody>;

export const PublicKeyResponse = Type.Object({
  publicKeyPem: Type.String(),
  fingerprint: Type.String(),
  algorithm: KeyAlgorithm,
});
export type PublicKeyResponse = Type.Static<typeof PublicKeyResponse>;
