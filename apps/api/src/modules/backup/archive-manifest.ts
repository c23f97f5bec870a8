import { isBlobKey } from '../../stores/blobstore/index.ts';
import { ArchiveFormatError } from './backup.errors.ts';

// The manifest: the archive's last entry, written once every part's hash is known.
// Its presence proves the archive is complete; it lists what restore must find.

export const MANIFEST_FORMAT = 'sfe-backup';
export const MANIFEST_VERSION = 1;
export const MANIFEST_NAME = 'manifest.json';
export const DATABASE_PART = 'sfe.db';
export const KEY_STORE_PART = 'keystore.jsonl';
const BLOB_PREFIX = 'blobs/';
/** A manifest lists one part per blob; far beyond any real one, it bounds what we parse. */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export interface ManifestPart {
  name: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  createdAt: string;
  /** The backend the records came from; any backend can take them. */
  keyStore: 'embedded' | 'mongodb';
  counts: { users: number; files: number; blobs: number; keyStoreRecords: number };
  /** KEK key ids the database's wrapped DEKs need. Never a KEK. */
  keyIds: string[];
  /** Where the source held each of those keys: its provider and, for an HSM key, its label. Never key material. */
  keys?: ManifestKey[];
  /** In archive order: the database, the key store, then one per blob. */
  parts: ManifestPart[];
}

export interface ManifestKey {
  keyId: string;
  provider: 'env' | 'file' | 'pkcs11';
  label?: string;
}

export const blobPartName = (blobKey: string): string => `${BLOB_PREFIX}${blobKey}`;

/** The blob key of a part name, or null if the name is not a blob part. */
export function blobKeyOf(name: string): string | null {
  if (!name.startsWith(BLOB_PREFIX)) return null;
  const key = name.slice(BLOB_PREFIX.length);
  return isBlobKey(key) ? key : null;
}

export function encodeManifest(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Strict: the manifest is authenticated, but a bug in a writer must not pass silently. */
export function parseManifest(bytes: Buffer): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ArchiveFormatError('the manifest is not JSON');
  }
  const m = object(value, 'manifest', ['format', 'version', 'createdAt', 'keyStore', 'counts', 'keyIds', 'parts'], ['keys']);
  if (m.format !== MANIFEST_FORMAT) throw new ArchiveFormatError('the manifest is not an SFE backup manifest');
  if (m.version !== MANIFEST_VERSION) throw new ArchiveFormatError(`unsupported manifest version ${String(m.version)}`);
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) throw new ArchiveFormatError('manifest createdAt is not a date');
  if (m.keyStore !== 'embedded' && m.keyStore !== 'mongodb') throw new ArchiveFormatError('manifest keyStore is unknown');
  const c = object(m.counts, 'counts', ['users', 'files', 'blobs', 'keyStoreRecords']);
  const counts = { users: count(c.users), files: count(c.files), blobs: count(c.blobs), keyStoreRecords: count(c.keyStoreRecords) };
  if (!Array.isArray(m.keyIds) || !m.keyIds.every((id): id is string => typeof id === 'string' && KEY_ID.test(id))) {
    throw new ArchiveFormatError('manifest keyIds must be key id strings');
  }
  if (!Array.isArray(m.parts)) throw new ArchiveFormatError('manifest parts must be a list');
  const parts = m.parts.map((raw: unknown): ManifestPart => {
    const p = object(raw, 'part', ['name', 'size', 'sha256']);
    if (typeof p.name !== 'string' || typeof p.sha256 !== 'string' || !SHA256_HEX.test(p.sha256)) {
      throw new ArchiveFormatError('a manifest part lacks a name or a SHA-256');
    }
    return { name: p.name, size: count(p.size), sha256: p.sha256 };
  });
  checkLayout(parts, counts.blobs);
  const keys = m.keys === undefined ? undefined : parseKeys(m.keys);
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    createdAt: m.createdAt,
    keyStore: m.keyStore,
    counts,
    keyIds: [...m.keyIds],
    ...(keys === undefined ? {} : { keys }),
    parts,
  };
}

const KEY_LABEL = /^[A-Za-z0-9._-]{1,64}$/;

function parseKeys(value: unknown): ManifestKey[] {
  if (!Array.isArray(value)) throw new ArchiveFormatError('manifest keys must be a list');
  return value.map((raw: unknown): ManifestKey => {
    const k = object(raw, 'key', ['keyId', 'provider'], ['label']);
    if (typeof k.keyId !== 'string' || !KEY_ID.test(k.keyId)) throw new ArchiveFormatError('a manifest key lacks its key id');
    if (k.provider !== 'env' && k.provider !== 'file' && k.provider !== 'pkcs11') throw new ArchiveFormatError('a manifest key names an unknown provider');
    if (k.label !== undefined && (typeof k.label !== 'string' || !KEY_LABEL.test(k.label))) throw new ArchiveFormatError('a manifest key label is not a label');
    return { keyId: k.keyId, provider: k.provider, ...(typeof k.label === 'string' ? { label: k.label } : {}) };
  });
}

function checkLayout(parts: ManifestPart[], blobs: number): void {
  const [database, keyStore, ...rest] = parts;
  if (database?.name !== DATABASE_PART || keyStore?.name !== KEY_STORE_PART) {
    throw new ArchiveFormatError('the manifest must list the database, then the key store');
  }
  const names = new Set<string>();
  for (const part of rest) {
    if (blobKeyOf(part.name) === null || names.has(part.name)) throw new ArchiveFormatError(`unexpected manifest part ${JSON.stringify(part.name)}`);
    names.add(part.name);
  }
  if (rest.length !== blobs) throw new ArchiveFormatError('the manifest blob count does not match its parts');
}

function object(value: unknown, what: string, keys: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ArchiveFormatError(`manifest ${what} must be an object`);
  const record = value as Record<string, unknown>;
  const required = keys.filter((key) => !(key in record) || record[key] === undefined);
  const unknown = Object.keys(record).filter((key) => !keys.includes(key) && !optional.includes(key));
  if (required.length > 0 || unknown.length > 0) {
    throw new ArchiveFormatError(`manifest ${what} must have exactly: ${keys.join(', ')}${optional.length > 0 ? ` (and optionally ${optional.join(', ')})` : ''}`);
  }
  return record;
}

function count(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ArchiveFormatError('manifest sizes and counts must be whole numbers');
  return value;
}
