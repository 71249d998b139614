// Property tests of every parser: random truncations and byte changes of valid files must either
// parse or fail with a FormatError naming the file (and, where the problem is structural, the
// offset) — never another exception, never a hang.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { controlVectorBytes, readControlVectorBytes } from './control-vector.ts';
import { FormatError, oneLine } from './errors.ts';
import { exportVectors } from './index.ts';
import { personaVectorsBytes, readPersonaVectorsBytes } from './persona-vectors.ts';
import { unpickle, pickleTensor } from './pickle.ts';
import { readVectorSafetensors } from './safetensors-vectors.ts';
import { readToolkit } from './toolkit.ts';
import { readTorchFile, writeTorchTensor } from './torch-pt.ts';
import { sampleInput, sampleSet, tempDir } from './test-support/sample.ts';
import { buildStoredZip, memorySource, readZipDirectory, readZipEntry } from './zip.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

type Mutate = (b: Uint8Array) => Uint8Array;
/** Truncations anywhere, and 1–8 byte changes biased towards the header (where lengths live). */
function mutation(len: number): fc.Arbitrary<{ kind: string; apply: Mutate }> {
  const pos = fc.oneof(fc.integer({ min: 0, max: Math.min(len - 1, 255) }), fc.integer({ min: 0, max: len - 1 }));
  return fc.oneof(
    fc.integer({ min: 0, max: len - 1 }).map((n) => ({ kind: `truncate ${n}`, apply: (b: Uint8Array) => b.slice(0, n) })),
    fc.array(fc.tuple(pos, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => ({
      kind: `set ${JSON.stringify(flips)}`,
      apply: (b: Uint8Array) => {
        const c = b.slice();
        for (const [i, v] of flips) c[i] = v;
        return c;
      },
    })),
    fc.tuple(pos, fc.integer({ min: 0, max: 7 })).map(([i, bit]) => ({
      kind: `flip bit ${bit} of ${i}`,
      apply: (b: Uint8Array) => {
        const c = b.slice();
        c[i]! ^= 1 << bit;
        return c;
      },
    })),
  );
}

/** Runs `parse`; passes if it returns or throws a FormatError for `file`. Slow parses fail too. */
function survives(file: string | string[], parse: () => unknown, opts: { needOffset?: boolean; len: number }): void {
  const t0 = performance.now();
  try {
    parse();
  } catch (e) {
    if (!(e instanceof FormatError)) throw new Error(`non-FormatError ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
    expect(e.message.startsWith(`${oneLine(e.file)}: `)).toBe(true);
    expect(
      [file].flat().some((f) => e.file.endsWith(f)),
      e.message,
    ).toBe(true);
    expect(e.message).not.toContain('\n');
    if (e.offset !== null) expect(e.offset >= 0 && e.offset <= opts.len + 65_600).toBe(true);
    if (opts.needOffset) expect(e.offset, e.message).not.toBeNull();
  }
  expect(performance.now() - t0).toBeLessThan(1000);
}

function fuzzBytes(file: string, valid: Uint8Array, parse: (b: Uint8Array) => unknown, needOffsetOnTruncate = false): void {
  fc.assert(
    fc.property(mutation(valid.length), (m) => {
      const b = m.apply(valid);
      survives(file, () => parse(b), { len: valid.length, needOffset: needOffsetOnTruncate && m.kind.startsWith('truncate') });
    }),
    { numRuns: RUNS },
  );
}

/** Mutates the file at `path`; errors may name it or one of `related` (a toolkit pair's other half). */
function fuzzFile(path: string, valid: Uint8Array, parse: () => unknown, related: string[] = []): void {
  fc.assert(
    fc.property(mutation(valid.length), (m) => {
      writeFileSync(path, m.apply(valid));
      survives([path, ...related], parse, { len: valid.length });
    }),
    { numRuns: RUNS },
  );
  writeFileSync(path, valid);
}

const small = sampleInput(sampleSet({ hidden: 8, numLayers: 4, layers: [1, 3] }));

describe('parsers survive corrupt input', () => {
  it('GGUF control vector', () => {
    const valid = controlVectorBytes(small).bytes;
    fuzzBytes('f.gguf', valid, (b) => readControlVectorBytes(b, 'f.gguf'), true);
  });

  it('zip directory and entries', () => {
    const valid = buildStoredZip([
      { name: 'a/x', data: new Uint8Array(40).fill(7) },
      { name: 'a/y', data: new TextEncoder().encode('hello') },
    ]);
    fuzzBytes(
      'z.zip',
      valid,
      (b) => {
        const src = memorySource(b, 'z.zip');
        for (const e of readZipDirectory(src)) readZipEntry(src, e, 1 << 20);
      },
      true,
    );
  });

  it('pickle', () => {
    const valid = pickleTensor([3, 4]);
    fuzzBytes('p.pkl', valid, (b) => unpickle(b, 'p.pkl'), true);
  });

  it('torch .pt and persona_vectors', () => {
    const valid = writeTorchTensor(
      [5, 8],
      new Float32Array(40).map((_, i) => i - 20),
    );
    fuzzBytes('t.pt', valid, (b) => {
      const f = readTorchFile(b, 't.pt');
      if (f.root && typeof f.root === 'object' && 'kind' in f.root && f.root.kind === 'tensor') f.toFloat32(f.root);
    });
    const pv = personaVectorsBytes(small).bytes;
    fuzzBytes('pv.pt', pv, (b) => readPersonaVectorsBytes(b, 'pv.pt'));
  });

  it('studio persona file and plain safetensors', () => {
    const studio = join(tmp.dir, 's.persona.safetensors');
    exportVectors(studio, 'studio', small);
    fuzzFile(studio, new Uint8Array(readFileSync(studio)), () => readVectorSafetensors(studio));
    const plain = join(tmp.dir, 'p.safetensors');
    exportVectors(plain, 'safetensors', small, { layout: 'stacked' });
    fuzzFile(plain, new Uint8Array(readFileSync(plain)), () => readVectorSafetensors(plain));
  });

  it('toolkit json and pt', () => {
    const dir = join(tmp.dir, 'tk');
    mkdirSync(dir);
    const [json, pt] = exportVectors(dir, 'toolkit', small).files as [string, string];
    fuzzFile(json, new Uint8Array(readFileSync(json)), () => readToolkit(json, { target: { hiddenSize: 8, numLayers: 4 } }), [pt]);
    fuzzFile(pt, new Uint8Array(readFileSync(pt)), () => readToolkit(json, { target: { hiddenSize: 8, numLayers: 4 } }), [json]);
  });

  it('refuses huge declared sizes without allocating them', () => {
    const hugeString = new Uint8Array(Buffer.from('\x80\x02\x8d\xff\xff\xff\xff\xff\xff\x0f\x00abc.', 'latin1'));
    expect(() => unpickle(hugeString, 'h.pkl')).toThrow(
      /h\.pkl: at byte 11: .*string length 4503599627370495 too large|h\.pkl: at byte \d+: string needs/,
    );
    const arr = controlVectorBytes(small).bytes.slice(0, 24);
    const w = Buffer.alloc(40);
    // one kv: key "k", type ARRAY of u64 with 2^40 items
    w.writeBigUInt64LE(1n, 0);
    w.write('k', 8);
    w.writeUInt32LE(9, 9);
    w.writeUInt32LE(10, 13);
    w.writeBigUInt64LE(2n ** 40n, 17);
    const g = new Uint8Array([...arr, ...w]);
    new DataView(g.buffer).setBigUint64(8, 0n, true);
    new DataView(g.buffer).setBigUint64(16, 1n, true);
    expect(() => readControlVectorBytes(g, 'arr.gguf')).toThrow(/arr\.gguf: at byte 37: k: 1099511627776 items cannot fit/);
  });
});
