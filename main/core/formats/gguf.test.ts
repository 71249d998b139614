import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gguf, GGUFValueType } from '@huggingface/gguf';
import { afterAll, describe, expect, it } from 'vitest';
import { controlVectorBytes, readControlVectorBytes, writeControlVector } from './control-vector.ts';
import { FormatError } from './errors.ts';
import { GgufType, parseGguf, writeGguf, type GgufKV } from './gguf.ts';
import { fitToModel } from './fit.ts';
import { bits, randomVector, sampleInput, sampleSet, tempDir } from './test-support/sample.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A control vector as llama.cpp's cvector-generator or repeng would write it (no metadata of ours). */
function foreignControlVector(opts: { countType: GgufType; directions: number[]; hidden?: number; hint?: string }): Uint8Array {
  const hidden = opts.hidden ?? 8;
  const kvs: GgufKV[] = [
    { key: 'general.architecture', type: GgufType.STRING, value: 'controlvector' },
    { key: 'controlvector.model_hint', type: GgufType.STRING, value: opts.hint ?? 'llama' },
    { key: 'controlvector.layer_count', type: opts.countType, value: opts.directions.length },
  ];
  return writeGguf(
    kvs,
    opts.directions.map((d) => ({ name: `direction.${d}`, data: randomVector(hidden, d) })),
  );
}

describe('GGUF control vectors', () => {
  it('is read back by @huggingface/gguf with the expected keys, types and values', async () => {
    const input = sampleInput(sampleSet({ hidden: 24, numLayers: 8, layers: [1, 3, 7] }), 'Pirate 🏴‍☠️ "arr"\nmate');
    const path = join(tmp.dir, 'indep.gguf');
    writeControlVector(path, input);
    const { typedMetadata: metadata, tensorInfos, tensorDataOffset } = await gguf(path, { allowLocalFile: true, typedMetadata: true });
    expect(metadata.version).toEqual({ value: 3, type: GGUFValueType.UINT32 });
    expect(metadata['general.architecture']).toEqual({ value: 'controlvector', type: GGUFValueType.STRING });
    expect(metadata['controlvector.model_hint']).toEqual({ value: 'qwen3', type: GGUFValueType.STRING });
    expect(metadata['controlvector.layer_count']).toEqual({ value: 3, type: GGUFValueType.UINT32 });
    expect(metadata['general.name']).toEqual({ value: input.persona.name, type: GGUFValueType.STRING });
    expect(tensorInfos.map((t) => [t.name, t.n_dims, t.shape.map(Number), t.dtype])).toEqual([
      ['direction.1', 1, [24], 0],
      ['direction.3', 1, [24], 0],
      ['direction.7', 1, [24], 0],
    ]);
    const bytes = readFileSync(path);
    for (const [i, t] of tensorInfos.entries()) {
      const start = Number(tensorDataOffset + t.offset);
      expect(start % 32).toBe(0);
      const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 24 * 4));
      expect(bits(f)).toEqual(bits(input.set.layers[i]!.vector));
    }
  });

  it('accepts layer_count as u32 (repeng) and as i32 (cvector-generator), warning about the latter', () => {
    const u = readControlVectorBytes(foreignControlVector({ countType: GgufType.UINT32, directions: [1, 2, 3] }), 'repeng.gguf');
    expect(u.layers.map((l) => l.layer)).toEqual([1, 2, 3]);
    expect(u.warnings).toEqual([]);
    expect(u.modelHint).toBe('llama');
    expect(u.numLayers).toBeNull();
    const bytes = foreignControlVector({ countType: GgufType.INT32, directions: [1, 2, 3] });
    const i = readControlVectorBytes(bytes, 'cvgen.gguf');
    expect(i.layers.map((l) => l.layer)).toEqual([1, 2, 3]);
    expect(i.warnings.join()).toMatch(/cvector-generator.*direction\.i\+1.*layer shift -1/);
    expect(bits(i.layers[0]!.vector)).toEqual(bits(randomVector(8, 1)));
    const shifted = readControlVectorBytes(bytes, 'cvgen.gguf', { layerShift: -1 });
    expect(shifted.layers.map((l) => l.layer)).toEqual([0, 1, 2]);
    expect(bits(shifted.layers[0]!.vector)).toEqual(bits(randomVector(8, 1)));
    const other = readControlVectorBytes(foreignControlVector({ countType: GgufType.UINT64, directions: [2] }), 'u64.gguf');
    expect(other.warnings.join()).toMatch(/layer_count is a u64/);
  });

  it('imports direction.0 with a warning; names layers past the model in the refusal', () => {
    const z = readControlVectorBytes(foreignControlVector({ countType: GgufType.UINT32, directions: [0, 5] }), 'zero.gguf');
    expect(z.layers.map((l) => l.layer)).toEqual([0, 5]);
    expect(z.warnings.join()).toMatch(/direction\.0, which llama\.cpp refuses/);
    const model = { name: 'm4', source: 'x/m4', architecture: 'llama', hiddenSize: 8, numLayers: 4, contentHash: null };
    expect(() => fitToModel(z, model, 't')).toThrow(
      'zero.gguf: vectors have hidden size 8, layers up to 5 but model m4 has hidden size 8 × 4 layers',
    );
  });

  it('refuses model files, mixed widths and non-1-D directions', () => {
    const model = writeGguf([{ key: 'general.architecture', type: GgufType.STRING, value: 'llama' }], []);
    expect(() => readControlVectorBytes(model, 'model.gguf')).toThrow('model.gguf: general.architecture is "llama", not "controlvector"');
    const mixed = writeGguf(
      [{ key: 'general.architecture', type: GgufType.STRING, value: 'controlvector' }],
      [
        { name: 'direction.1', data: new Float32Array(8) },
        { name: 'direction.2', data: new Float32Array(4) },
      ],
    );
    expect(() => readControlVectorBytes(mixed, 'mixed.gguf')).toThrow(/direction\.2 has 4 values but earlier directions have 8/);
    const twoD = writeGguf(
      [{ key: 'general.architecture', type: GgufType.STRING, value: 'controlvector' }],
      [{ name: 'direction.1', data: new Float32Array(8), shape: [4, 2] }],
    );
    expect(() => readControlVectorBytes(twoD, '2d.gguf')).toThrow(/expected one dimension/);
  });

  it('round-trips every metadata value type through the generic writer and reader', () => {
    const kvs: GgufKV[] = [
      { key: 'a.u8', type: GgufType.UINT8, value: 200 },
      { key: 'a.i8', type: GgufType.INT8, value: -5 },
      { key: 'a.u16', type: GgufType.UINT16, value: 60000 },
      { key: 'a.i16', type: GgufType.INT16, value: -300 },
      { key: 'a.u32', type: GgufType.UINT32, value: 4e9 },
      { key: 'a.i32', type: GgufType.INT32, value: -2e9 },
      { key: 'a.f32', type: GgufType.FLOAT32, value: 1.5 },
      { key: 'a.bool', type: GgufType.BOOL, value: true },
      { key: 'a.str', type: GgufType.STRING, value: 'ünï "q" \n 🙂' },
      { key: 'a.u64', type: GgufType.UINT64, value: 2n ** 60n },
      { key: 'a.i64', type: GgufType.INT64, value: -(2n ** 60n) },
      { key: 'a.f64', type: GgufType.FLOAT64, value: Math.PI },
      { key: 'a.arr', type: GgufType.ARRAY, itemType: GgufType.STRING, value: ['x', 'y'] },
    ];
    const g = parseGguf(writeGguf(kvs, [{ name: 't', data: new Float32Array([1, 2]) }]), 'all.gguf');
    for (const kv of kvs) expect(g.kv.get(kv.key)).toEqual(kv);
  });

  it('errors name the file and the byte offset', () => {
    const good = controlVectorBytes(sampleInput()).bytes;
    const bad = good.slice();
    new DataView(bad.buffer).setBigUint64(16, 2n ** 40n, true); // kv count
    expect(() => parseGguf(bad, 'huge.gguf')).toThrow(/^huge\.gguf: at byte 16: 1099511627776 metadata entries cannot fit/);
    const strLen = good.slice();
    new DataView(strLen.buffer).setBigUint64(24, 2n ** 50n, true); // first key's length
    expect(() => parseGguf(strLen, 's.gguf')).toThrow(/^s\.gguf: at byte 24: metadata key 0 length \d+ runs past the end/);
    expect(() => parseGguf(good.slice(0, 100), 'cut.gguf')).toThrow(FormatError);
    const le = good.slice();
    le[4] = 0;
    le[7] = 3;
    expect(() => parseGguf(le, 'be.gguf')).toThrow('be.gguf: at byte 4: big-endian GGUF files are not supported');
  });

  it('writes files llama.cpp can place: data aligned, padded to the alignment', () => {
    const path = join(tmp.dir, 'align.gguf');
    writeControlVector(path, sampleInput(sampleSet({ hidden: 5, layers: [1, 2] })));
    const g = parseGguf(readFileSync(path), path);
    expect(g.dataStart % 32).toBe(0);
    expect(g.tensors.map((t) => t.dataOffset - g.dataStart)).toEqual([0, 32]);
    expect(readFileSync(path).length).toBe(g.dataStart + 64);
  });
});
