// Deterministic vector sets for tests, with awkward float values (−0, subnormals, large magnitudes)
// so bit-exact round trips mean something.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerVector, type PersonaVectorSet } from '../../library/schema.ts';
import type { ExportInput } from '../types.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export function randomVector(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (r() - 0.5) * 8;
  if (n > 3) {
    v[0] = -0;
    v[1] = 1e-42;
    v[2] = 3.4e38;
    v[3] = -1.1754942e-38;
  }
  return v;
}

export function sampleSet(
  opts: { hidden?: number; numLayers?: number; layers?: number[]; seed?: number; modelId?: string } = {},
): PersonaVectorSet {
  const hidden = opts.hidden ?? 16;
  const numLayers = opts.numLayers ?? 6;
  const layers = opts.layers ?? [1, 2, 4];
  const seed = opts.seed ?? 7;
  return {
    modelId: opts.modelId ?? 'tiny/test-model',
    modelHash: 'a'.repeat(64),
    hiddenSize: hidden,
    numLayers,
    layers: layers.map((b) => layerVector(b, randomVector(hidden, seed * 1000 + b), { cohenD: 1.5 + b, auc: 0.9 })),
    method: 'mean-diff',
    reduction: 'response-mean',
    counts: { positive: 20, negative: 18 },
    provenance: {
      promptSetHash: 'b'.repeat(64),
      settings: { maxNewTokens: 64 },
      seed: 42,
      appVersion: '0.1.0-test',
      createdAt: '2025-01-01T00:00:00.000Z',
    },
  };
}

export function sampleInput(set = sampleSet(), name = 'Formal "tone"'): ExportInput {
  return { persona: { name, description: 'Writes formally', tags: ['style'], notes: 'n' }, set, architecture: 'qwen3' };
}

export function bits(v: Float32Array): number[] {
  return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ps-formats-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
