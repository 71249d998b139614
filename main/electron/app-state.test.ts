// The desktop app's files in its data dir, under plain Node: the rotating log, the crash marker and
// the safeStorage secret store (with a real AES-GCM cipher standing in for the OS keychain).
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { openLogFile } from './log-file.ts';
import { beginRun, endRun, RUN_MARKER, uncleanEndMessage } from './run-marker.ts';
import { SAFE_SECRETS_FILE, safeStorageSecretStore, safeStorageUsable, type SafeStorageLike } from './secret-store.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(tmpdir(), 'ps-electron-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('rotating log', () => {
  it('appends one line per entry and rotates by size, keeping the newest files', () => {
    const dir = tempDir();
    const log = openLogFile(dir, 'main', { maxBytes: 100, keep: 2, now: () => new Date(0) });
    for (let i = 0; i < 12; i++) log.write(`entry ${i}\nforged line`);
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['main.1.log', 'main.2.log', 'main.log']);
    const current = fs.readFileSync(log.file, 'utf8');
    expect(current.endsWith('1970-01-01T00:00:00.000Z entry 11 | forged line\n')).toBe(true);
    for (const f of files) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(100);
    // Nothing older than the kept files survives: entries 0..11, about two per 100-byte file.
    const all = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    expect(all).not.toContain('entry 0 ');
    expect(
      all
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('1970-')),
    ).toBe(true);
  });

  it('continues an existing log across restarts', () => {
    const dir = tempDir();
    openLogFile(dir).write('first run');
    openLogFile(dir).write('second run');
    expect(fs.readFileSync(path.join(dir, 'main.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });
});

describe('run marker', () => {
  const run = { pid: 42, startedAt: '2026-01-01T00:00:00.000Z', version: '0.1.0' };

  it('a clean quit leaves nothing behind; the next start is clean', () => {
    const dir = tempDir();
    expect(beginRun(dir, run)).toBeNull();
    endRun(dir);
    expect(fs.existsSync(path.join(dir, RUN_MARKER))).toBe(false);
    expect(beginRun(dir, run)).toBeNull();
  });

  it('a run that never quit is reported once, and the app starts anyway', () => {
    const dir = tempDir();
    beginRun(dir, run);
    const previous = beginRun(dir, { ...run, pid: 43 });
    expect(previous).toEqual({ marker: run });
    expect(uncleanEndMessage(previous!, '/d/logs/main.log')).toBe(
      'Persona Studio did not shut down properly last time (started 2026-01-01T00:00:00.000Z, version 0.1.0). Your library is intact and unfinished jobs can be resumed; details are in /d/logs/main.log.',
    );
    endRun(dir);
    expect(beginRun(dir, run)).toBeNull();
  });

  it('a marker cut short by the crash still counts as an unclean end', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, RUN_MARKER), '{"pid": 4');
    expect(beginRun(dir, run)).toEqual({ marker: null });
  });
});

describe('safeStorage secret store', () => {
  /** AES-256-GCM under a per-"account" key: a real cipher in place of the OS keychain. */
  function keychain(backend = 'gnome_libsecret', key = randomBytes(32)): SafeStorageLike {
    return {
      isEncryptionAvailable: () => true,
      getSelectedStorageBackend: () => backend,
      encryptString(text) {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv);
        const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
        return Buffer.concat([iv, c.getAuthTag(), body]);
      },
      decryptString(sealed) {
        const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
        d.setAuthTag(sealed.subarray(12, 28));
        return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
      },
    };
  }

  it('keeps only ciphertext on disk, 0600, and reads it back', () => {
    const dir = tempDir();
    const store = safeStorageSecretStore(dir, keychain());
    expect(store.get('judge-key')).toBeNull();
    store.set('judge-key', 'sk-secret-123');
    store.set('hub-token', 'hf_abc');
    expect(store.get('judge-key')).toBe('sk-secret-123');
    const file = path.join(dir, SAFE_SECRETS_FILE);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('sk-secret');
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    store.delete('judge-key');
    expect(store.get('judge-key')).toBeNull();
    expect(store.get('hub-token')).toBe('hf_abc');
  });

  it("names the secret another account's key cannot open, and a broken file", () => {
    const dir = tempDir();
    safeStorageSecretStore(dir, keychain()).set('judge-key', 'x');
    expect(() => safeStorageSecretStore(dir, keychain()).get('judge-key')).toThrow(
      /secret 'judge-key' cannot be decrypted with this account's key/,
    );
    fs.writeFileSync(path.join(dir, SAFE_SECRETS_FILE), '[1]');
    expect(() => safeStorageSecretStore(dir, keychain()).get('judge-key')).toThrow(/secrets\.safe\.json: not a secrets file/);
  });

  it("is used only where the OS key is real (never Linux's fixed-password fallback)", () => {
    expect(safeStorageUsable(keychain('gnome_libsecret'), 'linux')).toBe(true);
    expect(safeStorageUsable(keychain('basic_text'), 'linux')).toBe(false);
    expect(safeStorageUsable(keychain('basic_text'), 'darwin')).toBe(true);
    expect(safeStorageUsable({ ...keychain(), isEncryptionAvailable: () => false }, 'win32')).toBe(false);
  });
});
