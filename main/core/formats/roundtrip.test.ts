import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectFormat,
  exportVectors,
  fitToModel,
  importVectors,
  ShapeMismatchError,
  type ImportedVectors,
  type VectorFormat,
} from './index.ts';
import { bits, sampleInput, sampleSet, tempDir } from './test-support/sample.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const target = { hiddenSize: 16, numLayers: 6, name: 'tiny', architecture: 'qwen3', contentHash: 'a'.repeat(64) };
const fitModel = {
  name: 'tiny',
  source: 'tiny/test-model',
  architecture: 'qwen3',
  hiddenSize: 16,
  numLayers: 6,
  contentHash: 'a'.repeat(64),
};

function expectSameLayers(got: ImportedVectors, layers: { layer: number; vector: Float32Array }[]): void {
  expect(got.layers.map((l) => l.layer)).toEqual(layers.map((l) => l.layer));
  got.layers.forEach((l, i) => expect(bits(l.vector)).toEqual(bits(layers[i]!.vector)));
}

describe('round trip of every format', () => {
  const input = sampleInput();
  const paths: Record<VectorFormat, string> = {
    studio: join(tmp.dir, 'p.persona.safetensors'),
    gguf: join(tmp.dir, 'p.gguf'),
    'persona-vectors': join(tmp.dir, 'formal_response_avg_diff.pt'),
    toolkit: tmp.dir,
    safetensors: join(tmp.dir, 'p.safetensors'),
  };

  it('studio file keeps every layer bit-exact and all metadata', () => {
    exportVectors(paths.studio, 'studio', input);
    expect(detectFormat(paths.studio)).toBe('studio');
    const got = importVectors(paths.studio);
    expectSameLayers(got, input.set.layers);
    expect(got.persona).toEqual(input.persona);
    expect(got.provenance).toEqual(input.set.provenance);
    expect(got.counts).toEqual(input.set.counts);
    expect(got.layers.map((l) => l.separation)).toEqual(input.set.layers.map((l) => l.separation));
    expect(got.numLayers).toBe(6);
    expect(got.warnings).toEqual([]);
    const { set } = fitToModel(got, fitModel, 'test');
    expect(set.modelId).toBe('tiny/test-model');
  });

  it('GGUF control vector: direction.b is layer b, provenance rides along', () => {
    const res = exportVectors(paths.gguf, 'gguf', input);
    expect(res.warnings).toEqual([]);
    expect(detectFormat(paths.gguf)).toBe('gguf');
    const got = importVectors(paths.gguf);
    expectSameLayers(got, input.set.layers);
    expect(got.modelHint).toBe('tiny/test-model');
    expect(got.provenance).toEqual(input.set.provenance);
    expect(got.layers[0]!.separation).toEqual(input.set.layers[0]!.separation);
  });

  it('GGUF export leaves out layer 0 with a warning', () => {
    const set = sampleSet({ layers: [0, 3] });
    const res = exportVectors(join(tmp.dir, 'zero.gguf'), 'gguf', sampleInput(set));
    expect(res.warnings.join()).toMatch(/layer 0 cannot be represented/);
    const got = importVectors(join(tmp.dir, 'zero.gguf'));
    expectSameLayers(got, [set.layers[1]!]);
  });

  it('persona_vectors .pt: row b+1 is layer b, absent layers are zero rows', () => {
    const res = exportVectors(paths['persona-vectors'], 'persona-vectors', input);
    expect(res.warnings.join()).toMatch(/absent layers/);
    expect(detectFormat(paths['persona-vectors'])).toBe('persona-vectors');
    const got = importVectors(paths['persona-vectors']);
    expectSameLayers(got, input.set.layers);
    expect(got.numLayers).toBe(6);
    expect(got.persona.name).toBe('formal');
    expect(got.reduction).toBe('response-mean');
    expect(() => fitToModel(got, fitModel, 'test')).not.toThrow();
  });

  it('toolkit: one unit vector at the chosen layer', () => {
    const res = exportVectors(paths.toolkit, 'toolkit', input, { layer: 2 });
    expect(res.files.map((f) => f.slice(tmp.dir.length + 1))).toEqual(['persona_Formal_tone.json', 'persona_Formal_tone.pt']);
    expect(res.warnings.join()).toMatch(/unit vector/);
    expect(detectFormat(res.files[0]!)).toBe('toolkit');
    expect(detectFormat(res.files[1]!)).toBe('toolkit');
    const got = importVectors(res.files[0]!);
    expect(got.layers.map((l) => l.layer)).toEqual([2]);
    const src = input.set.layers.find((l) => l.layer === 2)!;
    const want = Float32Array.from(src.vector, (x) => x / src.norm);
    expect(bits(got.layers[0]!.vector)).toEqual(bits(want));
    expect(got.layers[0]!.norm).toBeCloseTo(1, 6);
  });

  it('plain safetensors, per layer and stacked', () => {
    exportVectors(paths.safetensors, 'safetensors', input);
    expect(detectFormat(paths.safetensors)).toBe('safetensors');
    expectSameLayers(importVectors(paths.safetensors), input.set.layers);
    const stacked = join(tmp.dir, 'stacked.safetensors');
    exportVectors(stacked, 'safetensors', input, { layout: 'stacked' });
    const got = importVectors(stacked);
    expectSameLayers(got, input.set.layers);
    expect(got.numLayers).toBe(6);
  });

  it('re-exporting an import gives identical bytes (persona_vectors, plain safetensors)', () => {
    for (const [fmt, path] of [
      ['persona-vectors', paths['persona-vectors']],
      ['safetensors', paths.safetensors],
    ] as const) {
      const { set } = fitToModel(importVectors(path), fitModel, 'test');
      const again = join(tmp.dir, `again-${fmt}`);
      exportVectors(again, fmt, { ...input, set: { ...input.set, layers: set.layers } });
      expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
    }
  });
});

describe('files written by torch', () => {
  const fx = join(import.meta.dirname, 'fixtures');
  const expected = JSON.parse(readFileSync(join(fx, 'expected.json'), 'utf8')) as Record<string, { shape: number[]; bits: number[] }>;

  it('persona_vectors: rows 1.. become layers 0.., zero rows are absent, exact floats', () => {
    const got = importVectors(join(fx, 'evil_response_avg_diff.pt'));
    const e = expected['evil_response_avg_diff.pt']!;
    expect(got.format).toBe('persona-vectors');
    expect(got.persona.name).toBe('evil');
    expect(got.numLayers).toBe(4);
    expect(got.layers.map((l) => l.layer)).toEqual([0, 1, 3]);
    for (const l of got.layers) expect(bits(l.vector)).toEqual(e.bits.slice((l.layer + 1) * 8, (l.layer + 2) * 8));
  });

  it('toolkit: negative layer_idx needs the model and counts from the end', () => {
    const json = join(fx, 'toolkit', 'persona_formal.json');
    expect(() => importVectors(json)).toThrow(/layer_idx -1 counts from the last block/);
    const got = importVectors(json, { target: { hiddenSize: 8, numLayers: 4 } });
    expect(got.layers.map((l) => l.layer)).toEqual([3]);
    expect(bits(got.layers[0]!.vector)).toEqual(expected['toolkit/persona_formal.pt']!.bits);
    expect(got.persona.name).toBe('formal');
  });
});

describe('mismatches', () => {
  const input = sampleInput();
  it('refuses a hidden size or layer count that does not fit, naming both shapes', () => {
    const path = join(tmp.dir, 'mm.gguf');
    exportVectors(path, 'gguf', input);
    const got = importVectors(path);
    expect(() => fitToModel(got, { ...fitModel, hiddenSize: 32 }, 't')).toThrow(ShapeMismatchError);
    expect(() => fitToModel(got, { ...fitModel, hiddenSize: 32, name: 'big' }, 't')).toThrow(
      /mm.gguf: vectors have hidden size 16 × 6 layers but model big has hidden size 32 × 6 layers/,
    );
    expect(() => fitToModel(got, { ...fitModel, numLayers: 4, name: 'short' }, 't')).toThrow(
      /hidden size 16 × 6 layers but model short has hidden size 16 × 4 layers/,
    );
    const pt = join(tmp.dir, 'x_response_avg_diff.pt');
    exportVectors(pt, 'persona-vectors', input);
    expect(() => fitToModel(importVectors(pt), { ...fitModel, numLayers: 8, name: 'deep' }, 't')).toThrow(
      /hidden size 16 × 6 layers but model deep has hidden size 16 × 8 layers/,
    );
  });

  it('a differing model hint is only a warning', () => {
    const path = join(tmp.dir, 'hint.gguf');
    exportVectors(path, 'gguf', input);
    const other = { ...fitModel, name: 'Other', source: 'org/other', architecture: 'llama', contentHash: 'c'.repeat(64) };
    const { set, warnings } = fitToModel(importVectors(path), other, 't');
    expect(warnings.join('\n')).toMatch(/made for "tiny\/test-model", importing for Other \(llama\)/);
    expect(warnings.join('\n')).toMatch(/computed on weights aaaaaaaaaaaa…, Other has cccccccccccc…/);
    expect(set.provenance.source?.warnings).toEqual(warnings);
  });

  it('stacked safetensors without metadata needs the model to place row 0', () => {
    const path = join(tmp.dir, 'pv-like.safetensors');
    const rows = new Float32Array(7 * 16).map((_, i) => (i % 17) - 8);
    // Hand-built file without our metadata: [layers + 1, hidden] as a hidden_states dump would be.
    const header = JSON.stringify({ dirs: { dtype: 'F32', shape: [7, 16], data_offsets: [0, rows.byteLength] } });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(path, Buffer.concat([len, Buffer.from(header), Buffer.from(rows.buffer)]));
    expect(() => importVectors(path)).toThrow(/choose the model/);
    const got = importVectors(path, { target });
    expect(got.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(bits(got.layers[0]!.vector)).toEqual(bits(rows.slice(16, 32)));
    expect(got.warnings.join()).toMatch(/row 0 as the embeddings/);
  });

  it('detects a toolkit pair from either file and refuses a lone json', () => {
    const lone = join(tmp.dir, 'lone.json');
    writeFileSync(lone, '{"layer_idx": 1, "hidden_size": 16}');
    expect(() => detectFormat(lone)).toThrow(/without a .pt beside it/);
    copyFileSync(join(import.meta.dirname, 'fixtures', 'toolkit', 'persona_formal.pt'), join(tmp.dir, 'lone.pt'));
    expect(detectFormat(lone)).toBe('toolkit');
    expect(() => importVectors(lone)).toThrow(/vector has 8 values but lone.json says hidden_size 16/);
  });
});
