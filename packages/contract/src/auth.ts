import Type from 'typebox';
import { Id, Nullable, Timestamp } from './common.ts';

export const Role = Type.Union([Type.Literal('organization'), Type.Literal('consultant'), Type.Literal('admin')]);
export type Role = Type.Static<typeof Role>;
export const UserStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);
export const KeySize = Type.Union([Type.Literal(2048), Type.Literal(4096)]);
export type KeySize = Type.Static<typeof KeySize>;

export const USERNAME_PATTERN = '^[a-zA-Z0-9._-]{3,64}$';
export const PASSWORD_MIN_LENGTH = 12;
/** Long enough for any passphrase; bounded so a KDF never hashes megabytes. */
export const PASSWORD_MAX_LENGTH = 1024;

export const Username = Type.String({ minLength: 3, maxLength: 64, pattern: USERNAME_PATTERN });
export const NewPassword = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
/** A password being checked: no policy here, so old accounts can still sign in. */
export const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH });

export const User = Type.Object({
  id: Id,
  username: Type.String(),
  role: Role,
  status: UserStatus,
  publicKeyFingerprint: Nullable(Type.String()),
  keyGeneratedAt: Nullable(Timestamp),
  createdAt: Timestamp,
});
export type User = Type.Static<typeof User>;

export const RegisterBody = Type.Object(
  {
    username: Username,
    password: NewPassword,
    role: Type.Union([Type.Literal('organization'), Type.Literal('consultant')]),
    keySize: Type.Optional(KeySize),
  },
  { additionalProperties: false },
);
export type RegisterBody = Type.Static<typeof RegisterBody>;

export const UserResponse = Type.Object({ user: User });
export type UserResponse = Type.Static<typeof UserResponse>;

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Password },
  { additionalProperties: false },
);
export type LoginBody = Type.Static<typeof LoginBody>;

export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  /** Seconds until the access token expires. */
  expiresIn: Type.Integer(),
  user: User,
});
export type TokenResponse = Type.Static<typeof TokenResponse>;

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);
export type RefreshBody = Type.Static<typeof RefreshBody>;
