// What the first run needs to offer the user a start (the Welcome screen, through `app.info`): the
// bundled demo model and prompt sets (no network), the default catalog model with its download size
// and memory at the precision the studio would use here, whether it is already in the Hugging Face
// cache, and — when asked — whether the hub answers at all (offline machines get the demo model).
import fs from 'node:fs';
import path from 'node:path';
import { catalogFor, thisMachine } from '../../native-models/catalog.ts';
import { cachedSnapshot, hubEndpoint } from '../../native-models/hub/cache.ts';
import { assetPath, packageVersion } from './package-root.ts';
import { readPromptSetFile } from './authoring/prompt-set-file.ts';

/** How long the hub probe may take before the machine counts as offline. */
const PROBE_MS = 3000;

export async function appInfo(dataDir: string, opts: { probeHub: boolean; provider: string }) {
  const row = catalogFor(thisMachine(opts.provider === 'auto' ? 'cpu' : opts.provider)).find((r) => r.default);
  if (!row) throw new Error('the model catalog has no default entry');
  const setsDir = assetPath('prompt-sets');
  const promptSetFiles = fs
    .readdirSync(setsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(setsDir, f);
      const set = readPromptSetFile(file);
      return { name: set.name, description: set.description, path: file };
    });
  const endpoint = hubEndpoint();
  return {
    version: packageVersion(),
    dataDir,
    demoModelDir: assetPath('demo-model'),
    promptSetFiles,
    defaultModel: {
      repo: row.repo,
      label: row.label,
      licence: row.licence,
      downloadBytes: row.downloadBytes,
      precision: row.precision,
      memoryBytes: row.memoryBytes[row.precision],
      cached: cachedSnapshot(row.repo, 'main') !== null,
    },
    hub: { endpoint, reachable: opts.probeHub ? await reachable(`${endpoint}/api/models/${row.repo}`) : null },
  };
}

/** Any HTTP answer counts (even 401: the hub is there); no answer within PROBE_MS does not. */
async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(PROBE_MS) });
    return true;
  } catch {
    return false;
  }
}
