import Type from 'typebox';
import { Id, Timestamp } from './common.ts';
import { Password } from './auth.ts';
import { AdminUser } from './admin.ts';

/** A six-digit TOTP code (RFC 6238, 30-second steps). */
export const TotpCode = Type.String({ pattern: '^[0-9]{6}$' });
/** A recovery code as shown (groups of base32 letters); dashes, spaces and case are ignored. */
export const RecoveryCodeText = Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z2-7 -]+$' });
const B64Url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+={0,2}$' });

export const MfaMethod = Type.Union([Type.Literal('totp'), Type.Literal('webauthn'), Type.Literal('recovery_code')]);
export type MfaMethod = Type.Static<typeof MfaMethod>;

/** The answer of a password sign-in for an account with a second factor: no tokens yet. */
export const MfaChallengeResponse = Type.Object({
  mfaRequired: Type.Literal(true),
  /** Opaque, single use, valid for 5 minutes; only POST /auth/mfa and /auth/mfa/webauthn/options take it. */
  mfaToken: Type.String(),
  methods: Type.Array(MfaMethod),
});
export type MfaChallengeResponse = Type.Static<typeof MfaChallengeResponse>;

const MfaToken = Type.String({ minLength: 16, maxLength: 2048, pattern: '^[A-Za-z0-9_.-]+$' });

/** What a browser's WebAuthn call answers (JSON as @simplewebauthn/browser makes it). */
const Transports = Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 });
export const RegistrationCredential = Type.Object(
  {
    id: B64Url(1024),
    rawId: B64Url(1024),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: B64Url(4096),
        attestationObject: B64Url(16384),
        authenticatorData: Type.Optional(B64Url(16384)),
        transports: Type.Optional(Transports),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        publicKey: Type.Optional(B64Url(4096)),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
    clientExtensionResults: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export const AuthenticationCredential = Type.Object(
  {
    id: B64Url(1024),
    rawId: B64Url(1024),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: B64Url(4096),
        authenticatorData: B64Url(16384),
        signature: B64Url(4096),
        userHandle: Type.Optional(B64Url(1024)),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
    clientExtensionResults: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

export const MfaVerifyBody = Type.Object(
  {
    mfaToken: MfaToken,
    code: Type.Optional(TotpCode),
    recoveryCode: Type.Optional(RecoveryCodeText),
    webauthn: Type.Optional(AuthenticationCredential),
  },
  { additionalProperties: false },
);
export type MfaVerifyBody = Type.Static<typeof MfaVerifyBody>;

export const MfaTokenBody = Type.Object({ mfaToken: MfaToken }, { additionalProperties: false });

/** Public-key credential options as the browser's WebAuthn API takes them (base64url fields). */
const Descriptor = Type.Object({ id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) });
export const PasskeyRegistrationOptions = Type.Object({
  challenge: Type.String(),
  rp: Type.Object({ name: Type.String(), id: Type.Optional(Type.String()) }),
  user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }),
  pubKeyCredParams: Type.Array(Type.Object({ alg: Type.Integer(), type: Type.String() })),
  timeout: Type.Optional(Type.Integer()),
  excludeCredentials: Type.Optional(Type.Array(Descriptor)),
  authenticatorSelection: Type.Optional(
    Type.Object({
      authenticatorAttachment: Type.Optional(Type.String()),
      residentKey: Type.Optional(Type.String()),
      requireResidentKey: Type.Optional(Type.Boolean()),
      userVerification: Type.Optional(Type.String()),
    }),
  ),
  attestation: Type.Optional(Type.String()),
  hints: Type.Optional(Type.Array(Type.String())),
  extensions: Type.Optional(Type.Object({ credProps: Type.Optional(Type.Boolean()) })),
});
export const PasskeyAuthenticationOptions = Type.Object({
  challenge: Type.String(),
  timeout: Type.Optional(Type.Integer()),
  rpId: Type.Optional(Type.String()),
  allowCredentials: Type.Optional(Type.Array(Descriptor)),
  userVerification: Type.Optional(Type.String()),
  hints: Type.Optional(Type.Array(Type.String())),
});

export const TotpEnrolment = Type.Object({
  /** Base32, for typing into an authenticator app; shown once, until confirmed. */
  secret: Type.String(),
  otpauthUrl: Type.String(),
});
export type TotpEnrolment = Type.Static<typeof TotpEnrolment>;
export const TotpConfirmBody = Type.Object({ code: TotpCode }, { additionalProperties: false });
export const RecoveryCodesResponse = Type.Object({ recoveryCodes: Type.Array(Type.String()) });
export type RecoveryCodesResponse = Type.Static<typeof RecoveryCodesResponse>;
export const PasswordBody = Type.Object({ password: Password }, { additionalProperties: false });

export const PasskeyRegisterBody = Type.Object(
  { response: RegistrationCredential, name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]+$' })) },
  { additionalProperties: false },
);
export const Passkey = Type.Object({ id: Id, name: Type.String(), createdAt: Timestamp });
export type Passkey = Type.Static<typeof Passkey>;
export const MfaStatus = Type.Object({
  totp: Type.Boolean(),
  webauthn: Type.Array(Passkey),
  recoveryCodesLeft: Type.Integer(),
  /** Whether the account's role must have a second factor (MFA_REQUIRED_ROLES). */
  required: Type.Boolean(),
});
export type MfaStatus = Type.Static<typeof MfaStatus>;

export const MfaResetResponse = Type.Object({ user: AdminUser, totpRemoved: Type.Boolean(), passkeysRemoved: Type.Integer(), recoveryCodesRemoved: Type.Integer() });
export type MfaResetResponse = Type.Static<typeof MfaResetResponse>;
