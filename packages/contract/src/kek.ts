import Type from 'typebox';
import { Id, Nullable, Timestamp } from './common.ts';

/** A KEK's non-secret id: 'kek_' + 16 hex (a keyed fingerprint of the key). */
export const KeyId = Type.String({ pattern: '^kek_[0-9a-f]{16}$' });

export const RotationStatus = Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]);
export type RotationStatus = Type.Static<typeof RotationStatus>;

export const Rotation = Type.Object({
  id: Id,
  status: RotationStatus,
  /** Wrapped values that were not under the active key when the job started. */
  total: Type.Integer({ minimum: 0 }),
  /** Values processed so far (re-wrapped, failed, or shredded meanwhile). */
  done: Type.Integer({ minimum: 0 }),
  rewrapped: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  toKeyId: Type.String(),
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
});
export type Rotation = Type.Static<typeof Rotation>;

export const KekKey = Type.Object({
  keyId: Type.String(),
  /** Live values this key wraps: 0 means it may be dropped from MASTER_KEY_PREVIOUS. */
  wrappedDeks: Type.Integer({ minimum: 0 }),
  active: Type.Boolean(),
  /** False for a key id that still wraps data but is not configured (see the start-up preflight). */
  configured: Type.Boolean(),
});
export type KekKey = Type.Static<typeof KekKey>;

export const KekStatus = Type.Object({
  activeKeyId: Type.String(),
  keys: Type.Array(KekKey),
  rotation: Nullable(Rotation),
});
export type KekStatus = Type.Static<typeof KekStatus>;

export const RotationParams = Type.Object({ id: Id }, { additionalProperties: false });

export const KekVerifyBody = Type.Object(
  { deep: Type.Optional(Type.Boolean({ description: 'Also authenticate the first and last segment of every blob.' })) },
  { additionalProperties: false },
);
export type KekVerifyBody = Type.Static<typeof KekVerifyBody>;

export const KekVerifyReport = Type.Object({
  checked: Type.Integer({ minimum: 0 }),
  ok: Type.Boolean(),
  failed: Type.Array(
    Type.Object({
      fileId: Type.String(),
      reason: Type.Union([Type.Literal('kek_unavailable'), Type.Literal('unwrap_failed'), Type.Literal('blob_missing'), Type.Literal('blob_corrupt')]),
    }),
  ),
});
export type KekVerifyReport = Type.Static<typeof KekVerifyReport>;
