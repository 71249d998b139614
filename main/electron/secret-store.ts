// Secrets (the judge's API key, later a hub token) kept with Electron's safeStorage: each value is
// encrypted with the OS keychain's key (Keychain on macOS, DPAPI on Windows, the Secret Service or
// KWallet on Linux) and only the ciphertext is written, base64, to <dataDir>/secrets.safe.json (0600).
// Same shape as core's SecretStore (get/set/delete/kind), so main passes it to the app service.
// Where safeStorage is not really secure (no keyring on Linux: Chromium then falls back to a fixed
// password, "basic_text"), `safeStorageUsable` says no and main keeps core's 0600 file store instead,
// rather than pretending. Takes safeStorage as a parameter, so this file never imports electron.
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../core/errors.ts';

/** The part of Electron's safeStorage this store uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only in Electron: 'basic_text' | 'gnome_libsecret' | 'kwallet' | … */
  getSelectedStorageBackend?(): string;
}

export interface ElectronSecretStore {
  readonly kind: 'safeStorage';
  get(name: string): string | null;
  set(name: string, value: string): void;
  delete(name: string): void;
}

export const SAFE_SECRETS_FILE = 'secrets.safe.json';

/** True when safeStorage protects secrets with a real OS key (never the fixed-password fallback). */
export function safeStorageUsable(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  if (platform !== 'linux') return true;
  const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
  return backend !== 'basic_text' && backend !== 'unknown';
}

export function safeStorageSecretStore(dataDir: string, safeStorage: SafeStorageLike): ElectronSecretStore {
  const file = path.join(dataDir, SAFE_SECRETS_FILE);
  const read = (): Record<string, string> => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw e;
    }
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'))
        return v as Record<string, string>;
    } catch {
      /* reported below */
    }
    throw new StudioError('format', `${file}: not a secrets file (an object of base64 strings); fix or remove it`);
  };
  const write = (all: Record<string, string>) => {
    fs.mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, JSON.stringify(all), { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
  };
  return {
    kind: 'safeStorage',
    get(name) {
      const sealed = read()[name];
      if (sealed === undefined) return null;
      try {
        return safeStorage.decryptString(Buffer.from(sealed, 'base64'));
      } catch (e) {
        // Another user's or machine's keychain (a copied data dir): say which secret, keep the file.
        throw new StudioError(
          'format',
          `${file}: secret '${name}' cannot be decrypted with this account's key (${(e as Error).message}); set it again`,
        );
      }
    },
    set(name, value) {
      write({ ...read(), [name]: safeStorage.encryptString(value).toString('base64') });
    },
    delete(name) {
      const all = read();
      if (!(name in all)) return;
      delete all[name];
      write(all);
    },
  };
}
