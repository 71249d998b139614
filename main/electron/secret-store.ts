// Secrets (the judge's API key, later a hub token) kept with Electron's safeStorage: each value is
// encrypted with the OS keychain's key (Keychain on macOS, DPAPI on Windows, the Secret Service or
// KWallet on Linux) and only the ciphertext is written, base64, to <dataDir>/secrets.safe.json (0600).
// Same shape as core's SecretStore (get/set/delete/kind), so main passes it to the app service.
// Where safeStorage is not really secure (no keyring on Linux: Chromium then falls back to a fixed
// password, "basic_text"), `safeStorageUsable` says no and main keeps core's 0600 file store instead,
// rather than pretending. Takes safeStorage as a parameter, so this file never imports electron.
import path from 'node:path';
import { StudioError } from '../core/errors.ts';
import { fileSecretStore } from '../core/settings/secret-store.ts';

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
  // The ciphertexts, base64, in core's 0600 file store (atomic rewrite, one-line errors naming the file).
  const sealed = fileSecretStore(dataDir, SAFE_SECRETS_FILE);
  const file = path.join(dataDir, SAFE_SECRETS_FILE);
  return {
    kind: 'safeStorage',
    get(name) {
      const value = sealed.get(name);
      if (value === null) return null;
      try {
        return safeStorage.decryptString(Buffer.from(value, 'base64'));
      } catch (e) {
        // Another user's or machine's keychain (a copied data dir): say which secret, keep the file.
        throw new StudioError(
          'format',
          `${file}: secret '${name}' cannot be decrypted with this account's key (${(e as Error).message}); set it again`,
        );
      }
    },
    set(name, value) {
      sealed.set(name, safeStorage.encryptString(value).toString('base64'));
    },
    delete(name) {
      sealed.delete(name);
    },
  };
}
