import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as graphene from 'graphene-pk11';

// A real PKCS#11 token for the KEK provider tests: SoftHSM2 from Debian
// (scripts/ensure-softhsm.sh installs it), a token initialised in a temp directory
// through its own SOFTHSM2_CONF, and AES-256 keys generated inside the token the way
// an operator would (non-extractable, sensitive).

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const TOKEN_LABEL = 'sfe-test';
export const USER_PIN = '246813';
const SO_PIN = '97531864';

export interface SoftHsm {
  /** The environment a process needs to use the token (SOFTHSM2_CONF and the PKCS11_* variables). */
  env(keyLabel: string, previousKeyLabels?: string[]): Record<string, string>;
  /** Generates an AES-256 key in the token under `label`. */
  generateKey(label: string, options?: { extractable?: boolean }): void;
  /** Reads CKA_VALUE of the key: the token must refuse (CKR_ATTRIBUTE_SENSITIVE). */
  tryReadKeyValue(label: string): string;
  /** Destroys the key under `label` and generates another one under the same label. */
  replaceKey(label: string): void;
  cleanup(): Promise<void>;
}

export async function startSoftHsm(): Promise<SoftHsm> {
  execFileSync('bash', [path.resolve(import.meta.dirname, '../../../../scripts/ensure-softhsm.sh')], { stdio: 'inherit' });
  const dir = await mkdtemp(path.join(tmpdir(), 'sfe-softhsm-'));
  const conf = path.join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`, { mode: 0o600 });
  // The library reads SOFTHSM2_CONF when it is initialised, in this process and in the
  // API and CLI processes the tests start (given through env()).
  process.env.SOFTHSM2_CONF = conf;
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', TOKEN_LABEL, '--pin', USER_PIN, '--so-pin', SO_PIN], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: 'ignore',
  });

  function withSession<T>(fn: (session: graphene.Session) => T): T {
    const module = graphene.Module.load(SOFTHSM_MODULE, 'softhsm-test');
    module.initialize();
    try {
      const slots = module.getSlots(true);
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items(i);
        if (slot.getToken().label.trim() !== TOKEN_LABEL) continue;
        const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
        try {
          session.login(USER_PIN, graphene.UserType.USER);
        } catch (error) {
          // A provider of this process is logged in to the token: the login is shared.
          if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String(error))) throw error;
        }
        try {
          return fn(session);
        } finally {
          session.logout();
          session.close();
        }
      }
      throw new Error('test token not found');
    } finally {
      module.finalize();
    }
  }

  const generateKey: SoftHsm['generateKey'] = (label, options = {}) => {
    withSession((session) =>
      session.generateKey(graphene.KeyGenMechanism.AES, {
        keyType: graphene.KeyType.AES,
        label,
        token: true,
        private: true,
        sensitive: options.extractable !== true,
        extractable: options.extractable === true,
        encrypt: true,
        decrypt: true,
        sign: true,
        verify: true,
        valueLen: 32,
      }),
    );
  };

  return {
    env: (keyLabel, previousKeyLabels = []) => ({
      SOFTHSM2_CONF: conf,
      KEK_PROVIDER: 'pkcs11',
      PKCS11_MODULE: SOFTHSM_MODULE,
      PKCS11_TOKEN_LABEL: TOKEN_LABEL,
      PKCS11_PIN: USER_PIN,
      PKCS11_KEY_LABEL: keyLabel,
      PKCS11_KEY_LABELS_PREVIOUS: previousKeyLabels.join(','),
    }),
    generateKey,
    replaceKey(label) {
      withSession((session) => session.find({ class: graphene.ObjectClass.SECRET_KEY, label }).items(0).destroy());
      generateKey(label);
    },
    tryReadKeyValue(label) {
      return withSession((session) => {
        const key = session.find({ class: graphene.ObjectClass.SECRET_KEY, label }).items(0);
        try {
          return key.getAttribute({ value: null }).value?.toString('hex') ?? '';
        } catch (error) {
          return String(error);
        }
      });
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
