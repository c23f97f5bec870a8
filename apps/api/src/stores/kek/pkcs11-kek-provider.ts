import * as graphene from 'graphene-pk11';
import { createExternalKekRing, DecryptionFailedError, type ExternalKek } from '@sfe/crypto';
import { KekProviderUnavailableError, type KekProvider } from './kek-provider.ts';

// The KEK is an AES-256 secret key inside a PKCS#11 token, found by its label; it
// must be sensitive and non-extractable (we refuse one that is not). Wrap and unwrap
// are CKM_AES_GCM operations in the token with the envelope's nonce and associated
// data, so the wrapped DEK has the same 69-byte format as with an in-process KEK.
//
// Key id: 'kek_' + the first 8 bytes of AES-CMAC(kek, "SFE kek id v1"), computed in
// the token: a stable commitment to the key (a PRF output), revealing nothing about
// it, and different for every key even under the same label.
//
// One logged-in session, opened at start and opened again when the HSM ends it (see
// withSession). PKCS#11 calls are synchronous here: each
// wrap or unwrap is one short call into the module (SoftHSM: microseconds; a network
// HSM: one round trip), on the request's path like the in-process AES-GCM it replaces.

const KEY_ID_LABEL = Buffer.from('SFE kek id v1', 'ascii');
const TAG_BITS = 128;

export interface Pkcs11Settings {
  module: string;
  tokenLabel: string;
  pin: string;
  keyLabel: string;
  previousKeyLabels: readonly string[];
}

export function openPkcs11KekProvider(settings: Pkcs11Settings): KekProvider {
  let module: graphene.Module;
  try {
    module = graphene.Module.load(settings.module, 'sfe-kek');
    module.initialize();
  } catch {
    throw new KekProviderUnavailableError('the PKCS#11 module could not be loaded (PKCS11_MODULE)');
  }
  const labels = [settings.keyLabel, ...settings.previousKeyLabels];
  let connection: Connection | undefined;
  try {
    connection = connect(module, settings, labels);
    const first = connection;
    /**
     * The session can end under us: the HSM restarted, a network HSM dropped the
     * connection, the module was finalized. An operation that fails that way opens a
     * new session once (initialize again if needed, log in, find the keys by label and
     * check each still has the key id it had at start: a different key put under the
     * same label is refused, never used) and is retried; a second failure is the answer.
     */
    const withSession = <T>(operation: (keys: ReadonlyMap<string, graphene.SecretKey>, session: graphene.Session) => T): T => {
      const current = connection;
      if (current !== undefined) {
        try {
          return operation(current.keys, current.session);
        } catch (error) {
          if (!unavailable(error)) throw error;
        }
      }
      connection = undefined;
      current?.dispose();
      try {
        module.initialize();
      } catch (error) {
        if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test(String(error))) throw new KekProviderUnavailableError('the PKCS#11 module could not be initialized again');
      }
      const fresh = connect(module, settings, labels);
      for (const [label, keyId] of first.keyIds) {
        if (fresh.keyIds.get(label) !== keyId) {
          fresh.dispose();
          throw new KekProviderUnavailableError(`the HSM key ${JSON.stringify(label)} is not the key it was at start`);
        }
      }
      connection = fresh;
      return operation(fresh.keys, fresh.session);
    };
    const keys = labels.map((label) => hsmKek(label, first.keyIds.get(label) as string, withSession));
    const [active, ...previous] = keys;
    if (active === undefined) throw new KekProviderUnavailableError('no PKCS11_KEY_LABEL');
    const ring = createExternalKekRing(active, previous);
    return {
      kind: 'pkcs11',
      ring,
      references: () => keys.map((key) => ({ keyId: key.keyId, provider: 'pkcs11' as const, label: key.label, active: key.keyId === ring.activeKeyId })),
      close: async () => {
        connection?.dispose();
        connection = undefined;
        try {
          module.finalize();
        } catch {
          // Finalized already (the HSM went away): nothing left to release.
        }
      },
    };
  } catch (error) {
    try {
      connection?.dispose();
    } finally {
      module.finalize();
    }
    throw error;
  }
}

interface Connection {
  session: graphene.Session;
  keys: ReadonlyMap<string, graphene.SecretKey>;
  keyIds: ReadonlyMap<string, string>;
  dispose(): void;
}

/** A logged-in session with every key found by label, checked, and its key id computed. */
function connect(module: graphene.Module, settings: Pkcs11Settings, labels: readonly string[]): Connection {
  const slot = findSlot(module, settings.tokenLabel);
  let session: graphene.Session;
  try {
    session = slot.open(graphene.SessionFlag.SERIAL_SESSION);
  } catch {
    throw new KekProviderUnavailableError('the HSM did not open a session');
  }
  const dispose = () => {
    try {
      session.logout();
    } catch {
      // Already logged out (another session of ours did, or the session is gone).
    }
    try {
      session.close();
    } catch {
      // Gone already: closing is what matters.
    }
  };
  try {
    try {
      session.login(settings.pin, graphene.UserType.USER);
    } catch (error) {
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String(error))) throw new KekProviderUnavailableError('the HSM refused the PIN (PKCS11_PIN)');
    }
    const keys = new Map<string, graphene.SecretKey>();
    const keyIds = new Map<string, string>();
    for (const label of labels) {
      const key = findKey(session, label);
      keys.set(label, key);
      keyIds.set(label, `kek_${session.createSign('AES_CMAC', key).once(KEY_ID_LABEL).subarray(0, 8).toString('hex')}`);
    }
    return { session, keys, keyIds, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

function findSlot(module: graphene.Module, tokenLabel: string): graphene.Slot {
  const slots = module.getSlots(true);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    if (slot.getToken().label.trim() === tokenLabel) return slot;
  }
  throw new KekProviderUnavailableError(`no token labelled ${JSON.stringify(tokenLabel)} in the PKCS#11 module (PKCS11_TOKEN_LABEL)`);
}

function findKey(session: graphene.Session, label: string): graphene.SecretKey {
  const found = session.find({ class: graphene.ObjectClass.SECRET_KEY, keyType: graphene.KeyType.AES, label });
  if (found.length !== 1) {
    throw new KekProviderUnavailableError(`expected exactly one AES key labelled ${JSON.stringify(label)} in the token, found ${found.length}`);
  }
  const key = found.items(0).toType<graphene.SecretKey>();
  const attributes = key.getAttribute({ extractable: null, sensitive: null, valueLen: null, encrypt: null, decrypt: null, sign: null });
  if (attributes.extractable !== false || attributes.sensitive !== true) {
    throw new KekProviderUnavailableError(`the HSM key ${JSON.stringify(label)} must be sensitive and non-extractable (CKA_SENSITIVE=true, CKA_EXTRACTABLE=false)`);
  }
  if (attributes.valueLen !== 32) throw new KekProviderUnavailableError(`the HSM key ${JSON.stringify(label)} must be AES-256 (CKA_VALUE_LEN=32)`);
  if (!attributes.encrypt || !attributes.decrypt || !attributes.sign) {
    throw new KekProviderUnavailableError(`the HSM key ${JSON.stringify(label)} must allow encrypt, decrypt and sign (AES-CMAC for its key id)`);
  }
  return key;
}

type WithSession = <T>(operation: (keys: ReadonlyMap<string, graphene.SecretKey>, session: graphene.Session) => T) => T;

function hsmKek(label: string, keyId: string, withSession: WithSession): ExternalKek & { label: string } {
  const params = (nonce: Buffer, associatedData: Buffer) => ({ name: 'AES_GCM', params: new graphene.AesGcm240Params(nonce, associatedData, TAG_BITS) });
  const keyOf = (keys: ReadonlyMap<string, graphene.SecretKey>) => keys.get(label) as graphene.SecretKey;
  return {
    keyId,
    label,
    seal(nonce, plaintext, associatedData) {
      try {
        return withSession((keys, session) =>
          session.createCipher(params(nonce, associatedData), keyOf(keys)).once(plaintext, Buffer.alloc(plaintext.length + TAG_BITS / 8)),
        );
      } catch (error) {
        if (error instanceof KekProviderUnavailableError) throw error;
        if (unavailable(error)) throw new KekProviderUnavailableError('the HSM could not be used for a wrap');
        throw error;
      }
    },
    open(nonce, sealed, associatedData) {
      try {
        return withSession((keys, session) => session.createDecipher(params(nonce, associatedData), keyOf(keys)).once(sealed, Buffer.alloc(sealed.length)));
      } catch (error) {
        if (error instanceof KekProviderUnavailableError) throw error;
        if (unavailable(error)) throw new KekProviderUnavailableError('the HSM could not be used for an unwrap');
        // A tag mismatch comes back as CKR_ENCRYPTED_DATA_INVALID or (SoftHSM) CKR_GENERAL_ERROR: one opaque failure.
        throw new DecryptionFailedError();
      }
    },
  };
}

function unavailable(error: unknown): boolean {
  return /CKR_(SESSION_|DEVICE_|TOKEN_NOT_PRESENT|USER_NOT_LOGGED_IN|CRYPTOKI_NOT_INITIALIZED)/.test(String(error));
}
