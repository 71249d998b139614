// Secrets the studio keeps for the user (the judge's API key; later a hub token), behind one
// interface so each face stores them the best way it can: Electron main supplies an implementation
// on safeStorage (main/electron); browser mode and the CLI use `fileSecretStore`, a JSON file in the
// data dir readable by its owner only (0600). Secrets never travel to the renderer: the contract's
// settings view says only whether one is set.
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors.ts';

export interface SecretStore {
  /** Names the mechanism in the settings view: 'file' or 'safeStorage'. */
  readonly kind: string;
  get(name: string): string | null;
  set(name: string, value: string): void;
  delete(name: string): void;
}

export const SECRETS_FILE = 'secrets.json';
export const JUDGE_KEY_SECRET = 'judge-key';
/** The Hugging Face access token for gated models (HF_TOKEN in the environment wins). */
export const HUB_TOKEN_SECRET = 'hub-token';

/**
 * Secrets as a 0600 JSON file (`<dataDir>/secrets.json`), rewritten whole through a 0600 temp file and
 * a rename. Electron's safeStorage store keeps its ciphertexts in another file through this one.
 */
export function fileSecretStore(dataDir: string, fileName: string = SECRETS_FILE): SecretStore {
  const file = path.join(dataDir, fileName);
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
    throw new StudioError('format', `${file}: not a secrets file (an object of strings); fix or remove it`);
  };
  const write = (all: Record<string, string>) => {
    fs.mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    // Created 0600 (a umask only removes bits), never chmod-ed after, so the secret is not readable by
    // others even for a moment; a temp file left by a killed write is removed first, as the mode applies only on creation.
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, JSON.stringify(all), { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
  };
  return {
    kind: 'file',
    get: (name) => read()[name] ?? null,
    set(name, value) {
      write({ ...read(), [name]: value });
    },
    delete(name) {
      const all = read();
      if (!(name in all)) return;
      delete all[name];
      write(all);
    },
  };
}
