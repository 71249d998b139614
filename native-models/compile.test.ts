// The compiled steerable graph against the independent reference forward pass, for every family.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel, readManifest, type CompileOptions } from './compile.ts';
import { CPU_INT4_MIN_PARAMETERS, defaultPrecision } from './default-precision.ts';
import { Checkpoint } from './checkpoint/checkpoint.ts';
import { tinyCheckpoint, TINY_NAMES, type TinyName } from './test-support/tiny-checkpoints.ts';
import { ReferenceModel } from './test-support/reference.ts';
import { GraphRunner, maxAbsDiff } from './test-support/run-graph.ts';
import { SafetensorsFile, writeSafetensors } from './checkpoint/safetensors.ts';
import { quantizeNBits, dequantizeNBits, type QuantScheme } from './quantize/nbits.ts';
import { f16ToF32, f32ToF16 } from './checkpoint/dtype.ts';

const cacheRoot = mkdtempSync(join(tmpdir(), 'ps-compile-'));
afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

/** Deterministic pseudo-random vector with entries in [-scale, scale]. */
function vec(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

const TOKENS = [1, 17, 42, 5, 88, 23, 64, 9, 71, 30, 2, 55];

async function compiled(name: TinyName, precision: 'fp32' | 'fp16' | 'int8' | 'int4' = 'fp32', fusedOps?: boolean) {
  const { dir } = await compileModel({
    checkpointDir: tinyCheckpoint(name),
    cacheRoot,
    options: { precision, requireTokenizer: false, fusedOps },
  });
  return dir;
}

// Both graph forms: the CPU default (contrib RotaryEmbedding and SkipSimplifiedLayerNormalization)
// and the primitive ops CoreML and the other providers get.
describe.each(TINY_NAMES.flatMap((name) => [[name, 'contrib ops'] as const, [name, 'primitive ops'] as const]))(
  '%s fp32 (%s) matches the reference',
  (name, form) => {
    let ref: ReferenceModel;
    let run: GraphRunner;
    beforeAll(async () => {
      ref = ReferenceModel.load(tinyCheckpoint(name));
      const dir = await compiled(name, 'fp32', form === 'contrib ops');
      const ops = readManifest(dir)!.opsUsed;
      expect(ops['com.microsoft.RotaryEmbedding'] !== undefined).toBe(form === 'contrib ops');
      expect(ops['com.microsoft.SkipSimplifiedLayerNormalization'] !== undefined).toBe(form === 'contrib ops');
      run = await GraphRunner.open(dir);
    });
    afterAll(() => run.release());

    it('logits and hidden states at every block and position', async () => {
      const want = ref.forward(TOKENS);
      const got = await run.run({ ids: [TOKENS] });
      const V = run.arch.vocabSize;
      const Hd = run.arch.hidden;
      for (let p = 0; p < TOKENS.length; p++) {
        expect(maxAbsDiff(got.logits.subarray(p * V, (p + 1) * V), want.logits[p]!)).toBeLessThan(1e-4);
        for (let b = 0; b < run.arch.numLayers; b++) {
          expect(maxAbsDiff(got.hidden[b]!.subarray(p * Hd, (p + 1) * Hd), want.hidden[b]![p]!)).toBeLessThan(1e-4);
        }
      }
    });

    it('KV-cached decoding: a 4-token prompt then 8 single-token steps', async () => {
      const want = ref.forward(TOKENS);
      const V = run.arch.vocabSize;
      let res = await run.run({ ids: [TOKENS.slice(0, 4)], keep: 1 });
      expect(maxAbsDiff(res.logits, want.logits[3]!)).toBeLessThan(1e-4);
      for (let p = 4; p < TOKENS.length; p++) {
        res = await run.run({ ids: [[TOKENS[p]!]], keep: 1, past: res.cache });
        expect(res.logits.length).toBe(V);
        expect(maxAbsDiff(res.logits, want.logits[p]!)).toBeLessThan(1e-4);
      }
    });

    it('steering v at block b equals the reference with v added after block b', async () => {
      const b = 1;
      const v = vec(run.arch.hidden, 7, 0.5);
      const want = ref.forward(TOKENS, { steer: new Map([[b, v]]) });
      const plain = ref.forward(TOKENS);
      const got = await run.run({ ids: [TOKENS], steer: new Map([[b, v]]) });
      const V = run.arch.vocabSize;
      const last = TOKENS.length - 1;
      expect(maxAbsDiff(got.logits.subarray(last * V), want.logits[last]!)).toBeLessThan(1e-4);
      // and the steering really changed something
      expect(maxAbsDiff(want.logits[last]!, plain.logits[last]!)).toBeGreaterThan(1e-3);
    });

    it('ablation after block b equals the reference', async () => {
      const b = 0;
      const u = vec(run.arch.hidden, 11);
      const n = Math.hypot(...u);
      const unit = u.map((x) => x / n);
      const want = ref.forward(TOKENS, { ablate: new Map([[b, unit]]) });
      const got = await run.run({ ids: [TOKENS], ablate: new Map([[b, unit]]) });
      const V = run.arch.vocabSize;
      const last = TOKENS.length - 1;
      expect(maxAbsDiff(got.logits.subarray(last * V), want.logits[last]!)).toBeLessThan(1e-4);
    });

    it('per-row steering in a left-padded batch equals each row run alone', async () => {
      const rows = [TOKENS.slice(0, 9), TOKENS.slice(2, 6), TOKENS.slice(0, 9)];
      const S = 9;
      const Hd = run.arch.hidden;
      const V = run.arch.vocabSize;
      const alphas = [0, 0.8, -0.8];
      const v = vec(Hd, 3, 1);
      const steer = new Float32Array(rows.length * Hd);
      alphas.forEach((a, r) =>
        steer.set(
          v.map((x) => a * x),
          r * Hd,
        ),
      );
      const ids = rows.map((r) => [...new Array(S - r.length).fill(0), ...r]);
      const mask = rows.map((r) => [...new Array(S - r.length).fill(0), ...new Array(r.length).fill(1)]);
      const positions = rows.map((r) => [...new Array(S - r.length).fill(0), ...r.map((_, j) => j)]);
      const got = await run.run({ ids, mask, positions, keep: 1, steer: new Map([[1, steer]]) });
      rows.forEach((r, i) => {
        const want = ref.forward(r, { steer: new Map([[1, v.map((x) => alphas[i]! * x)]]) });
        expect(maxAbsDiff(got.logits.subarray(i * V, (i + 1) * V), want.logits[r.length - 1]!)).toBeLessThan(1e-4);
      });
    });
  },
);

/**
 * The checkpoint as the quantised graph sees it: every Linear weight replaced by
 * dequantize(quantize(w)), the embedding table rounded to fp16 and the lm_head untied.
 */
function dequantisedCopy(name: TinyName, bits: 4 | 8, scheme: QuantScheme = 'signed', blockSize = 32, headBlockSize = blockSize): string {
  const src = tinyCheckpoint(name);
  const dir = join(cacheRoot, `${name}-deq${bits}-${scheme}-${blockSize}-${headBlockSize}`);
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
  const file = new SafetensorsFile(join(src, 'model.safetensors'));
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  const roundTrip = (w: Float32Array, [N, K]: number[], block = blockSize) =>
    dequantizeNBits(quantizeNBits(w, N!, K!, bits, block, { scheme }));
  for (const [t, info] of file.tensors) {
    const w = file.readFloat32(t);
    if (t === 'model.embed_tokens.weight') {
      tensors.push({ name: t, shape: info.shape, data: f16ToF32(f32ToF16(w)) });
      if (!file.tensors.has('lm_head.weight'))
        tensors.push({ name: 'lm_head.weight', shape: info.shape, data: roundTrip(w, info.shape, headBlockSize) });
    } else if (t === 'lm_head.weight') {
      tensors.push({ name: t, shape: info.shape, data: roundTrip(w, info.shape, headBlockSize) });
    } else if (info.shape.length === 2) {
      tensors.push({ name: t, shape: info.shape, data: roundTrip(w, info.shape) });
    } else {
      tensors.push({ name: t, shape: info.shape, data: w });
    }
  }
  file.close();
  config.tie_word_embeddings = false;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

describe.each(['qwen3', 'gemma2', 'llama', 'phi3'] as TinyName[])('%s quantised variants', (name) => {
  for (const [precision, bits, quantScheme, blockSize, headBlockSize] of [
    ['int8', 8, 'signed', 32, 32],
    ['int4', 4, 'signed', 32, 32],
    ['int4', 4, 'symmetric', 32, 32],
    ['int4', 4, 'asymmetric', 32, 32],
    ['int8', 8, 'asymmetric', 32, 32],
    ['int4', 4, 'signed', 32, 16],
  ] as const) {
    it(`${precision} ${quantScheme}, block ${blockSize}, lm_head block ${headBlockSize}, accuracy_level 0, equals the reference on the dequantised weights`, async () => {
      const ref = ReferenceModel.load(dequantisedCopy(name, bits, quantScheme, blockSize, headBlockSize));
      const want = ref.forward(TOKENS);
      const { dir } = await compileModel({
        checkpointDir: tinyCheckpoint(name),
        cacheRoot,
        options: { precision, accuracyLevel: 0, requireTokenizer: false, quantScheme, blockSize, headBlockSize },
      });
      const run = await GraphRunner.open(dir);
      try {
        const got = await run.run({ ids: [TOKENS] });
        const V = run.arch.vocabSize;
        for (let p = 0; p < TOKENS.length; p++)
          expect(maxAbsDiff(got.logits.subarray(p * V, (p + 1) * V), want.logits[p]!)).toBeLessThan(1e-4);
      } finally {
        await run.release();
      }
    });
  }

  it('int4 with accuracy_level 4 (the CPU default) stays within 5% of the logit range of that reference', async () => {
    const want = ReferenceModel.load(dequantisedCopy(name, 4)).forward(TOKENS);
    const dir = await compiled(name, 'int4');
    expect(readManifest(dir)!.options.accuracyLevel).toBe(4);
    const run = await GraphRunner.open(dir);
    try {
      const got = await run.run({ ids: [TOKENS] });
      const V = run.arch.vocabSize;
      for (let p = 0; p < TOKENS.length; p++) {
        const w = want.logits[p]!;
        const range = Math.max(...w) - Math.min(...w);
        expect(maxAbsDiff(got.logits.subarray(p * V, (p + 1) * V), w) / range).toBeLessThan(0.05);
      }
    } finally {
      await run.release();
    }
  });
});

describe('compile cache', () => {
  it('a second compile of the same checkpoint and options does no work', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ps-cache-'));
    try {
      const first = await compileModel({ checkpointDir: tinyCheckpoint('llama'), cacheRoot: root, options: { requireTokenizer: false } });
      const second = await compileModel({ checkpointDir: tinyCheckpoint('llama'), cacheRoot: root, options: { requireTokenizer: false } });
      expect(first.cached).toBe(false);
      expect(second.cached).toBe(true);
      expect(second.dir).toBe(first.dir);
      const other = await compileModel({
        checkpointDir: tinyCheckpoint('llama'),
        cacheRoot: root,
        options: { requireTokenizer: false, precision: 'int8' },
      });
      expect(other.dir).not.toBe(first.dir);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('every weight-format and graph option is part of the key, so a compile in another format is never reused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ps-cache-format-'));
    try {
      const compileWith = (extra: CompileOptions) =>
        compileModel({
          checkpointDir: tinyCheckpoint('llama'),
          cacheRoot: root,
          options: { requireTokenizer: false, precision: 'int4', ...extra },
        });
      const base = await compileWith({});
      expect(base.manifest.options).toMatchObject({
        quantScheme: 'signed',
        blockSize: 32,
        headBlockSize: 32,
        fusedOps: true,
        accuracyLevel: 4,
      });
      const variants: CompileOptions[] = [
        { quantScheme: 'symmetric' },
        { quantScheme: 'asymmetric' },
        { blockSize: 16 },
        { headBlockSize: 16 },
        { fusedOps: false },
      ];
      const dirs = new Set([base.dir]);
      for (const v of variants) {
        const r = await compileWith(v);
        expect(r.cached).toBe(false);
        expect(r.manifest.options).toMatchObject(v);
        dirs.add(r.dir);
      }
      expect(dirs.size).toBe(variants.length + 1);
      expect((await compileWith({ quantScheme: 'signed', headBlockSize: 32 })).dir).toBe(base.dir); // the defaults spelled out: the same key
      await expect(compileWith({ provider: 'coreml', fusedOps: true })).rejects.toThrow(
        /fusedOps: CoreML has no com.microsoft contrib ops/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a cancelled compile leaves nothing behind', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ps-cancel-'));
    try {
      const ac = new AbortController();
      await expect(
        compileModel({
          checkpointDir: tinyCheckpoint('llama'),
          cacheRoot: root,
          options: { requireTokenizer: false },
          signal: ac.signal,
          onProgress: (p) => {
            if (p.stage === 'build' && p.done === 1) ac.abort();
          },
        }),
      ).rejects.toThrow(/cancelled/);
      expect(readdirSync(root)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('defaults to int4 on CPU from 100M parameters, fp32 below (and on coreml), fp16 on cuda and dml', () => {
    expect(CPU_INT4_MIN_PARAMETERS).toBe(100e6);
    expect(['cpu', 'coreml', 'cuda', 'dml'].map((p) => defaultPrecision(p, 596e6))).toEqual(['int4', 'fp32', 'fp16', 'fp16']);
    expect(['cpu', 'coreml', 'cuda', 'dml'].map((p) => defaultPrecision(p, 2.2e6))).toEqual(['fp32', 'fp32', 'fp16', 'fp16']);
    expect(defaultPrecision('cpu', 100e6 - 1)).toBe('fp32');
  });

  it("counts a checkpoint's parameters from its tensor shapes: the demo model's 2.23M, its tied lm_head once", () => {
    const ckpt = Checkpoint.open(join(import.meta.dirname, '..', 'assets', 'demo-model'));
    try {
      expect(ckpt.has('lm_head.weight')).toBe(false);
      // 8 layers × (q 128·128, k and v 128·64 each, o 128·128, gate/up/down 3 × 128·512, norms 4 × 128 + 2 × 32) + embeddings 2048·128 + final norm
      const layer = 128 * 128 * 2 + 128 * 64 * 2 + 3 * 128 * 512 + 2 * 128 + 2 * 32;
      expect(ckpt.parameterCount).toBe(8 * layer + 2048 * 128 + 128);
      expect((ckpt.parameterCount / 1e6).toFixed(2)).toBe('2.23');
    } finally {
      ckpt.close();
    }
  });

  it('compiles a small checkpoint at fp16 for cuda and dml, fp32 on CPU', async () => {
    const cuda = await compileModel({
      checkpointDir: tinyCheckpoint('llama'),
      cacheRoot,
      options: { provider: 'cuda', requireTokenizer: false },
    });
    expect(cuda.manifest.options.precision).toBe('fp16');
    const cpu = await compileModel({ checkpointDir: tinyCheckpoint('llama'), cacheRoot, options: { requireTokenizer: false } });
    expect(cpu.manifest.options.precision).toBe('fp32');
  });

  it('refuses to overwrite a folder that is not a compiled model', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ps-out-'));
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(root, 'precious.txt'), 'keep me');
      await expect(
        compileModel({ checkpointDir: tinyCheckpoint('llama'), outDir: root, options: { requireTokenizer: false } }),
      ).rejects.toThrow(/is not a compiled model/);
      expect(existsSync(join(root, 'precious.txt'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('config.json settings the compiler refuses, in one line naming the file and the field', () => {
  const longrope = { long_factor: [1, 1, 1, 1], short_factor: [1, 1, 1, 1], type: 'longrope' };
  const cases: [string, TinyName, (c: Record<string, unknown>) => void, RegExp][] = [
    [
      'Phi-3 longrope',
      'phi3',
      (c) => {
        c.rope_scaling = longrope;
      },
      /config\.json: rope_scaling\.type "longrope": Phi-3 long-context RoPE scaling is not supported yet/,
    ],
    [
      'Phi-3 su (the older name)',
      'phi3',
      (c) => {
        c.rope_scaling = { ...longrope, type: undefined, rope_type: 'su' };
      },
      /config\.json: rope_scaling\.rope_type "su": Phi-3 long-context/,
    ],
    [
      'partial rotary',
      'phi3',
      (c) => {
        c.partial_rotary_factor = 0.75;
      },
      /config\.json: partial_rotary_factor 0\.75 is not supported/,
    ],
    [
      'yarn',
      'llama3',
      (c) => {
        c.rope_scaling = { factor: 4, rope_type: 'yarn' };
      },
      /config\.json: rope_scaling\.rope_type "yarn" is not supported/,
    ],
    [
      'Qwen sliding windows',
      'qwen2',
      (c) => {
        c.use_sliding_window = true;
      },
      /config\.json: use_sliding_window true: sliding-window attention for Qwen is not supported/,
    ],
    [
      'an unknown family',
      'llama',
      (c) => {
        c.model_type = 'phi';
      },
      /config\.json: model_type "phi" is not supported \(supported: .*phi3/,
    ],
  ];
  it.each(cases)('%s', async (_, name, edit, message) => {
    const dir = mkdtempSync(join(cacheRoot, `refuse-${name}-`));
    for (const f of readdirSync(tinyCheckpoint(name))) if (!f.startsWith('.')) copyFileSync(join(tinyCheckpoint(name), f), join(dir, f));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(cfg);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const root = join(dir, 'cache');
    const err = await compileModel({ checkpointDir: dir, cacheRoot: root, options: { requireTokenizer: false } }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(message);
    expect(err!.message).not.toContain('\n');
    expect(existsSync(root)).toBe(false);
  });
});
