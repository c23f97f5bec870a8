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
// One logged-in session, opened at start. PKCS#11 calls are synchronous here: each
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
  let session: graphene.Session | undefined;
  try {
    const slot = findSlot(module, settings.tokenLabel);
    session = slot.open(graphene.SessionFlag.SERIAL_SESSION);
    try {
      session.login(settings.pin, graphene.UserType.USER);
    } catch (error) {
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String(error))) throw new KekProviderUnavailableError('the HSM refused the PIN (PKCS11_PIN)');
    }
    const open = session;
    const keys = [settings.keyLabel, ...settings.previousKeyLabels].map((label) => hsmKek(open, label));
    const [active, ...previous] = keys;
    if (active === undefined) throw new KekProviderUnavailableError('no PKCS11_KEY_LABEL');
    const ring = createExternalKekRing(active, previous);
    return {
      kind: 'pkcs11',
      ring,
      references: () => keys.map((key) => ({ keyId: key.keyId, provider: 'pkcs11' as const, label: key.label, active: key.keyId === ring.activeKeyId })),
      close: async () => {
        try {
          open.logout();
        } catch {
          // Already logged out (another session of ours did): closing is what matters.
        }
        open.close();
        module.finalize();
      },
    };
  } catch (error) {
    try {
      session?.close();
    } finally {
      module.finalize();
    }
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

function hsmKek(session: graphene.Session, label: string): ExternalKek & { label: string } {
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
  const keyId = `kek_${session.createSign('AES_CMAC', key).once(KEY_ID_LABEL).subarray(0, 8).toString('hex')}`;
  return {
    keyId,
    label,
    seal(nonce, plaintext, associatedData) {
      const cipher = session.createCipher({ name: 'AES_GCM', params: new graphene.AesGcm240Params(nonce, associatedData, TAG_BITS) }, key);
      return cipher.once(plaintext, Buffer.alloc(plaintext.length + TAG_BITS / 8));
    },
    open(nonce, sealed, associatedData) {
      try {
        const decipher = session.createDecipher({ name: 'AES_GCM', params: new graphene.AesGcm240Params(nonce, associatedData, TAG_BITS) }, key);
        return decipher.once(sealed, Buffer.alloc(sealed.length));
      } catch (error) {
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
