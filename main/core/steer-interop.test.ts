// Issue 4's interop promise, end to end: a persona exported to each format and imported back into
// the library steers the engine exactly as the original vectors do (same layers, same values).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../native-models/compile.ts';
import { tinyCheckpoint } from '../../native-models/test-support/tiny-checkpoints.ts';
import { Library, layerVector, type PersonaVectorSet } from './library/index.ts';
import { VECTOR_FORMATS } from './formats/index.ts';
import { Engine } from './engine/engine.ts';
import type { RowSteering } from './engine/steering.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-interop-'));
let engine: Engine;
let lib: Library;
let modelId: string;

function vec(seed: number): Float32Array {
  return Float32Array.from({ length: 32 }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 2);
}

const original: PersonaVectorSet = {
  modelId: 'tiny-qwen3',
  modelHash: null,
  hiddenSize: 32,
  numLayers: 3,
  // layer 0 is left out: a GGUF control vector cannot represent it
  layers: [layerVector(1, vec(1)), layerVector(2, vec(2))],
  method: 'mean-diff',
  reduction: 'response-mean',
  counts: { positive: 4, negative: 4 },
  provenance: { promptSetHash: null, settings: {}, seed: 1, appVersion: 'test', createdAt: new Date(0).toISOString() },
};

const steering = (set: PersonaVectorSet): RowSteering => ({
  terms: [{ vectors: new Map(set.layers.map((l) => [l.layer, l.vector])), alpha: 1, scale: 'raw' }],
});

async function tokens(s?: RowSteering): Promise<number[]> {
  const r = await engine.generate({
    rows: [{ prompt: { ids: [3, 1, 4, 1, 5] }, sampling: { greedy: true }, steering: s }],
    maxNewTokens: 12,
  });
  return r.rows[0]!.tokens;
}

beforeAll(async () => {
  const dir = (
    await compileModel({ checkpointDir: tinyCheckpoint('qwen3'), cacheRoot: join(root, 'models'), options: { requireTokenizer: false } })
  ).dir;
  engine = new Engine();
  await engine.load(dir);
  lib = Library.open({ dataDir: join(root, 'data'), appVersion: 'test' });
  modelId = lib.models.add({ name: 'tiny-qwen3', source: dir, sourceKind: 'path', architecture: 'qwen3', hiddenSize: 32, numLayers: 3 }).id;
});
afterAll(async () => {
  lib.close();
  await engine.close();
  rmSync(root, { recursive: true, force: true });
});

describe('imported personas steer like the original', () => {
  let want: number[];
  beforeAll(async () => {
    want = await tokens(steering(original));
    expect(want).not.toEqual(await tokens()); // the vectors do steer
  });

  it.each(VECTOR_FORMATS.filter((f) => f !== 'toolkit'))('%s', async (format) => {
    const { persona } = lib.createPersonaWithVectors({ name: `orig ${format}`, description: '', tags: [], notes: '' }, modelId, original);
    const exported = lib.exportPersona(persona.id, { format, dir: join(root, 'out', format) });
    const imported = lib.importPersona(exported.files[0]!, { model: modelId, format, name: `back ${format}` });
    const set = lib.vectors.get(imported.vector.id)!;
    expect(set.layers.map((l) => l.layer)).toEqual([1, 2]);
    expect(await tokens(steering(set))).toEqual(want);
  });

  it('toolkit (one layer per file)', async () => {
    const single: PersonaVectorSet = { ...original, layers: [original.layers[1]!] };
    const { persona } = lib.createPersonaWithVectors({ name: 'toolkit', description: '', tags: [], notes: '' }, modelId, single);
    const exported = lib.exportPersona(persona.id, { format: 'toolkit', dir: join(root, 'out', 'toolkit'), layer: 2 });
    const json = exported.files.find((f) => f.endsWith('.json'))!;
    const set = lib.vectors.get(lib.importPersona(json, { model: modelId, format: 'toolkit' }).vector.id)!;
    expect(set.layers.map((l) => l.layer)).toEqual([2]);
    // the toolkit stores a unit vector: scaled by the original norm it steers identically
    const scaled = {
      ...set,
      layers: set.layers.map((l) =>
        layerVector(
          l.layer,
          l.vector.map((x) => x * original.layers[1]!.norm),
        ),
      ),
    };
    expect(await tokens(steering(scaled))).toEqual(await tokens(steering(single)));
  });
});
