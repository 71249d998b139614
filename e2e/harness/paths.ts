// Where things are: the repository, the demo model and its prompt sets, and where screenshots go.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DEMO_MODEL_DIR = join(REPO_ROOT, 'assets/demo-model');
export const PROMPT_SETS_DIR = join(REPO_ROOT, 'assets/prompt-sets');

/**
 * Screenshots of every screen: docs/screenshots (committed, used by the README's user guide) when
 * E2E_SCREENSHOTS=docs (`npm run screenshots`), else out/e2e/screenshots/<target> so an ordinary
 * `npm test` never rewrites committed files.
 */
export function screenshotDir(target: string): string {
  return process.env.E2E_SCREENSHOTS === 'docs' && target === 'chromium'
    ? join(REPO_ROOT, 'docs/screenshots')
    : join(REPO_ROOT, 'out/e2e/screenshots', target);
}
