import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { bearer, freshIp } from './fixtures.ts';
import type { Session } from './app.ts';

/** The code an authenticator app shows for `secret` (base32) at time step `step`. */
export const totpAt = (secret: string, step: number) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: step * 30_000 + 1_000 });

export const currentStep = () => Math.floor(Date.now() / 30_000);

/** Waits until the current 30-second step has at least `margin` ms left, so a sequence of codes stays in one step. */
export async function awayFromStepEdge(margin = 8_000): Promise<number> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < margin) await new Promise((resolve) => setTimeout(resolve, left + 200));
  return currentStep();
}

/** Sets up and confirms an authenticator app; answers the secret and the recovery codes. */
export async function enrolTotp(app: FastifyInstance, session: Session): Promise<{ secret: string; recoveryCodes: string[]; step: number }> {
  const started = await app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp', headers: session.headers });
  if (started.statusCode !== 200) throw new Error(`totp start: ${started.statusCode} ${started.body}`);
  const { secret } = started.json<{ secret: string }>();
  const step = await awayFromStepEdge();
  const confirmed = await app.inject({ method: 'POST', url: '/api/v1/users/me/mfa/totp/confirm', headers: session.headers, payload: { code: totpAt(secret, step) } });
  if (confirmed.statusCode !== 200) throw new Error(`totp confirm: ${confirmed.statusCode} ${confirmed.body}`);
  return { secret, recoveryCodes: confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes, step };
}

/** Password step of a sign-in that must answer mfaRequired. */
export async function mfaTokenOf(app: FastifyInstance, username: string, password: string): Promise<{ mfaToken: string; methods: string[] }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: freshIp(), payload: { username, password } });
  const body = response.json<{ mfaRequired?: boolean; mfaToken: string; methods: string[] }>();
  if (response.statusCode !== 200 || body.mfaRequired !== true) throw new Error(`expected mfaRequired: ${response.statusCode} ${response.body}`);
  return body;
}

export const mfaRaw = (app: FastifyInstance, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/mfa', remoteAddress: freshIp(), payload });

export const sessionFrom = (body: { accessToken: string; refreshToken: string; user: { id: string; username: string } }, password: string): Session => ({
  id: body.user.id,
  username: body.user.username,
  password,
  accessToken: body.accessToken,
  refreshToken: body.refreshToken,
  headers: bearer(body.accessToken),
});

// --- A software authenticator: ES256 key pair, attestation "none", real signatures. ---

/** Just enough CBOR (RFC 8949) for an attestation object and a COSE key. */
function cbor(value: unknown): Buffer {
  const head = (major: number, length: number) => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 256) return Buffer.from([(major << 5) | 24, length]);
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(length, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (value instanceof Map) {
    return Buffer.concat([head(5, value.size), ...[...value.entries()].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  }
  throw new Error('unsupported CBOR value');
}

const b64url = (data: Buffer) => data.toString('base64url');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { x: string; y: string };
  signCount = 0;

  constructor(
    readonly origin = 'http://localhost:3000',
    readonly rpId = 'localhost',
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicJwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  }

  get id() {
    return b64url(this.credentialId);
  }

  private authData(flags: number, attested?: Buffer) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.signCount);
    return Buffer.concat([sha256(this.rpId), Buffer.from([flags]), counter, ...(attested ? [attested] : [])]);
  }

  /** navigator.credentials.create(), as @simplewebauthn/browser would send it. */
  register(options: { challenge: string }) {
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: this.origin, crossOrigin: false }));
    const coseKey = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(this.publicJwk.x, 'base64url')], [-3, Buffer.from(this.publicJwk.y, 'base64url')]]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, coseKey]);
    const authData = this.authData(0x01 | 0x04 | 0x40, attested);
    const attestationObject = cbor(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get(): a signed assertion for `challenge`. */
  assert(options: { challenge: string }, overrides: { origin?: string } = {}) {
    this.signCount++;
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: overrides.origin ?? this.origin, crossOrigin: false }));
    const authenticatorData = this.authData(0x01 | 0x04);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authenticatorData), signature: b64url(signature) },
      clientExtensionResults: {},
    };
  }
}
