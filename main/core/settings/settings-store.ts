// The studio's settings (schema, defaults and field docs: `settingsSchema` in preload/contract.ts,
// which the renderer's form validates against too) kept as `<dataDir>/settings.json`. The data dir
// setting is the exception: it cannot live inside the folder it chooses, so it is the location file
// in the default folder (main/core/data-dir.ts), read at start. The judge's key is in a SecretStore.
import fs from 'node:fs';
import path from 'node:path';
import { settingsSchema, type Settings } from '../../../preload/contract.ts';
import { chosenDataDir, dataDirLocationFile } from '../data-dir.ts';
import { fromZod, StudioError } from '../errors.ts';
import { endpointJudge, JUDGE_KEY_ENV } from '../evaluation/judge.ts';
import { HUB_TOKEN_SECRET, JUDGE_KEY_SECRET, type SecretStore } from './secret-store.ts';

export const SETTINGS_FILE = 'settings.json';
const storedSchema = settingsSchema.omit({ dataDir: true });

export class SettingsStore {
  readonly file: string;
  constructor(
    dataDir: string,
    /** Where the data dir choice is written (default: the location file in the platform's default folder). */
    private readonly locationFile = dataDirLocationFile(),
  ) {
    this.file = path.join(dataDir, SETTINGS_FILE);
  }

  /** The settings, defaults filled in; a damaged file is one line naming the file and field (it is never overwritten). */
  get(): Settings {
    let raw: unknown = {};
    try {
      raw = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StudioError('format', `${this.file}: not JSON; fix or remove it`);
    }
    const r = storedSchema.safeParse(raw);
    if (!r.success) throw fromZod('format', r.error, this.file);
    return { ...r.data, dataDir: chosenDataDir(this.locationFile) ?? '' };
  }

  /** Changes the given fields and keeps the rest; validated against the schema, errors naming the field. */
  set(patch: Partial<Settings>): Settings {
    const next = settingsSchema.safeParse({ ...this.get(), ...patch });
    if (!next.success) throw fromZod('usage', next.error, 'settings');
    const { dataDir, ...stored } = next.data;
    writeAtomic(this.file, `${JSON.stringify(stored, null, 2)}\n`);
    if (patch.dataDir !== undefined) {
      if (dataDir) writeAtomic(this.locationFile, `${JSON.stringify({ dataDir }, null, 2)}\n`);
      else fs.rmSync(this.locationFile, { force: true });
    }
    return next.data;
  }
}

function writeAtomic(file: string, text: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The judge's API key: PERSONA_STUDIO_JUDGE_KEY when set (the CLI's way), else the one stored in the settings. */
export function resolveJudgeKey(secrets: SecretStore, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[JUDGE_KEY_ENV] || secrets.get(JUDGE_KEY_SECRET) || undefined;
}

/** The hub token: HF_TOKEN where the studio runs (as huggingface_hub reads it), else the stored one. */
export function resolveHubToken(secrets: SecretStore, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.HF_TOKEN?.trim() || secrets.get(HUB_TOKEN_SECRET) || undefined;
}

/** The endpoint judge the settings describe (URL, model, key), or null when no URL is set. */
export function settingsJudge(settings: Settings, secrets: SecretStore, env: NodeJS.ProcessEnv = process.env) {
  if (!settings.judgeUrl) return null;
  return endpointJudge({ url: settings.judgeUrl, model: settings.judgeModel }, { key: resolveJudgeKey(secrets, env) ?? '' });
}
