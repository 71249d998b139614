// Where the studio keeps its data: an explicit path (--data-dir, or Electron's userData), else
// $PERSONA_STUDIO_HOME, else the folder Electron would use as userData for an app named
// "persona-studio", so the CLI and the desktop app share one library and one compile cache.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

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

export function resolveDataDir(opts: { dataDir?: string | null } = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.dataDir) return resolve(opts.dataDir);
  if (env.PERSONA_STUDIO_HOME) return resolve(env.PERSONA_STUDIO_HOME);
  return defaultDataDir(process.platform, env);
}

/** Compiled models live in one cache folder per data dir, keyed by content hash and options. */
export const compiledModelsDir = (dataDir: string): string => join(dataDir, 'models');
