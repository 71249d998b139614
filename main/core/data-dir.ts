// Where the studio keeps its data: an explicit path (--data-dir, or Electron's userData), else
// $PERSONA_STUDIO_HOME, else the folder the app's settings chose (a location file in the default
// folder, written by settings.set; read at start, so a change applies at the next start), else the
// folder Electron would use as userData for an app named "persona-studio", so the CLI and the
// desktop app share one library and one compile cache.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export const APP_DIR_NAME = 'persona-studio';

export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), APP_DIR_NAME);
}

/** The file in the default folder that names another data dir (the settings' "data directory"). */
export const dataDirLocationFile = (env: NodeJS.ProcessEnv = process.env): string =>
  join(defaultDataDir(process.platform, env), 'data-dir.json');

/** The data dir the location file names, or null (no file, or one that is not `{ "dataDir": "/abs/path" }`). */
export function chosenDataDir(file = dataDirLocationFile()): string | null {
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { dataDir?: unknown }).dataDir;
    return typeof v === 'string' && isAbsolute(v) ? v : null;
  } catch {
    return null; // absent or unreadable: the default applies (the settings screen shows which dir is in use)
  }
}

export function resolveDataDir(opts: { dataDir?: string | null } = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.dataDir) return resolve(opts.dataDir);
  if (env.PERSONA_STUDIO_HOME) return resolve(env.PERSONA_STUDIO_HOME);
  return chosenDataDir(dataDirLocationFile(env)) ?? defaultDataDir(process.platform, env);
}

/** Compiled models live in one cache folder per data dir, keyed by content hash and options. */
export const compiledModelsDir = (dataDir: string): string => join(dataDir, 'models');
