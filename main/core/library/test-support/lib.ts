// A library in a fresh temp folder with one small model, for tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Library } from '../library.ts';
import type { ModelRecord } from '../schema.ts';

export function tempLibrary(): { lib: Library; dir: string; model: ModelRecord; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ps-lib-'));
  const lib = Library.open({ dataDir: dir, appVersion: '0.1.0-test' });
  const model = lib.models.add({
    name: 'tiny',
    source: 'tiny/test-model',
    sourceKind: 'hub',
    contentHash: 'a'.repeat(64),
    architecture: 'qwen3',
    hiddenSize: 16,
    numLayers: 6,
  });
  return {
    lib,
    dir,
    model,
    cleanup: () => {
      lib.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
