// The studio's own folder (where package.json says "persona-studio"), found by walking up from this
// module: the same answer from the TypeScript sources, the built out/ bundle and a packaged app, so
// shipped files (assets/…) and the version are found wherever the code runs from.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | null | undefined;

function find(): { root: string; version: string } | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'persona-studio') return { root: dir, version: pkg.version ?? 'unknown' };
    } catch {
      /* no package.json here: keep walking */
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The studio's folder, or null when this code runs outside it. */
export function packageRoot(): string | null {
  if (cached === undefined) cached = find();
  return cached?.root ?? null;
}

export function packageVersion(): string {
  if (cached === undefined) cached = find();
  return cached?.version ?? 'unknown';
}

/** A shipped file or folder under assets/. */
export function assetPath(...parts: string[]): string {
  const root = packageRoot();
  if (!root) throw new Error('cannot find the studio folder (package.json of persona-studio) to read its assets');
  return join(root, 'assets', ...parts);
}

/** The renderer's production build (out/renderer under the studio's folder; built by `npm run build`). */
export function rendererBuildPath(): string {
  const root = packageRoot();
  if (!root) throw new Error('cannot find the studio folder (package.json of persona-studio) to find the renderer build');
  return join(root, 'out', 'renderer');
}
