// A data dir that already holds what a spec builds on (the demo model compiled, a persona trained),
// made with the CLI — the same services the studio calls — so a chat or sweep spec does not repeat
// the authoring flow that its own spec covers through the UI.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR, REPO_ROOT } from './paths.ts';
import { tempDataDir } from './serve.ts';

function cli(dataDir: string, args: string[]): string {
  return execFileSync(process.execPath, ['bin/persona-studio.mjs', '--data-dir', dataDir, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface Seeded {
  dataDir: string;
  modelName: string;
  personas: string[];
}

/**
 * A new temp data dir with the demo model compiled and one persona per prompt set named (trained
 * small: 8 pairs, 16 new tokens, seed 1 — a few seconds each on the demo model).
 */
export function seedDataDir(promptSets: string[] = ['cheerful-vs-gloomy']): Seeded {
  const dataDir = tempDataDir();
  cli(dataDir, ['models', 'compile', DEMO_MODEL_DIR]);
  for (const set of promptSets) {
    cli(dataDir, [
      'personas',
      'train',
      '--model',
      DEMO_MODEL_DIR,
      '--name',
      set,
      '--prompt-set',
      join(PROMPT_SETS_DIR, `${set}.json`),
      '--max-pairs',
      '8',
      '--max-new-tokens',
      '16',
      '--seed',
      '1',
    ]);
  }
  // The library names a model after its checkpoint folder.
  return { dataDir, modelName: 'demo-model', personas: promptSets };
}
