// The engine end to end through its worker: greedy equals the reference, seeded sampling is
// reproducible, per-row steering equals rows alone, cancellation, provider fallback, a free host
// event loop, unload returning memory, and stories260K against llama.cpp.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../../native-models/compile.ts';
import { tinyCheckpoint } from '../../../native-models/test-support/tiny-checkpoints.ts';
import { ReferenceModel } from '../../../native-models/test-support/reference.ts';
import { ensureRandomCheckpoint, QWEN3_06B_CONFIG } from '../../../native-models/test-support/random-checkpoint.ts';
import { llamaCppGreedy, disposeLlamaCpp } from '../../../native-models/test-support/llamacpp.ts';
import { Engine } from './engine.ts';
import { CompiledModel } from './model.ts';
import { availableProviders, openSession } from './providers.ts';
import { captureActivations } from './capture.ts';
import { generate, type GenerateRow } from './generate.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-engine-'));
let engine: Engine;
let qwenDir: string;
let ref: ReferenceModel;

beforeAll(async () => {
  engine = new Engine();
  qwenDir = (await compileModel({ checkpointDir: tinyCheckpoint('qwen3'), cacheRoot: root, options: { requireTokenizer: false } })).dir;
  ref = ReferenceModel.load(tinyCheckpoint('qwen3'));
  await engine.load(qwenDir);
});
afterAll(async () => {
  await engine.close();
  await disposeLlamaCpp();
  rmSync(root, { recursive: true, force: true });
});

function referenceGreedy(prompt: number[], n: number, steer?: Map<number, Float32Array>): number[] {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = ref.forward(seq, { steer }).logits.at(-1)!;
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
    seq.push(best);
  }
  return seq.slice(prompt.length);
}

const greedy = { greedy: true };

describe('engine generation', () => {
  it('greedy decoding equals the reference forward pass', async () => {
    const prompt = [3, 14, 15, 92, 65];
    const r = await engine.generate({ rows: [{ prompt: { ids: prompt }, sampling: greedy }], maxNewTokens: 12 });
    expect(r.rows[0]!.tokens).toEqual(referenceGreedy(prompt, 12));
  });

  it('seeded sampling is reproducible and the seed matters', async () => {
    const run = (seed: number) =>
      engine.generate({ rows: [{ prompt: { ids: [5, 6, 7] }, sampling: { temperature: 1.5, seed } }], maxNewTokens: 24 });
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a.rows[0]!.tokens).toEqual(b.rows[0]!.tokens);
    expect(c.rows[0]!.tokens).not.toEqual(a.rows[0]!.tokens);
  });

  it('a batch with per-row steering equals each row generated alone, and the reference', async () => {
    const hidden = 32;
    const v = Float32Array.from({ length: hidden }, (_, i) => Math.sin(i * 1.7));
    const prompts = [
      [4, 8, 15, 16, 23, 42],
      [9, 9],
      [4, 8, 15, 16, 23, 42],
    ];
    const alphas = [0, 2, -2];
    const row = (i: number) => ({
      prompt: { ids: prompts[i]! },
      sampling: greedy,
      steering: { terms: [{ vectors: new Map([[1, v]]), alpha: alphas[i]!, scale: 'raw' as const }] },
    });
    const batch = await engine.generate({ rows: [row(0), row(1), row(2)], maxNewTokens: 10 });
    for (let i = 0; i < 3; i++) {
      const alone = await engine.generate({ rows: [row(i)], maxNewTokens: 10 });
      expect(batch.rows[i]!.tokens).toEqual(alone.rows[0]!.tokens);
      expect(alone.rows[0]!.tokens).toEqual(referenceGreedy(prompts[i]!, 10, new Map([[1, v.map((x) => alphas[i]! * x)]])));
    }
    expect(batch.rows[2]!.tokens).not.toEqual(batch.rows[0]!.tokens);
  });

  it('directional ablation at every layer equals the reference', async () => {
    const u = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i * 0.7));
    const n = Math.hypot(...u);
    const unit = u.map((x) => x / n);
    const prompt = [7, 7, 2, 9];
    const r = await engine.generate({
      rows: [{ prompt: { ids: prompt }, sampling: greedy, steering: { ablate: [{ vectors: new Map([[0, u]]) }] } }],
      maxNewTokens: 8,
    });
    const seq = [...prompt];
    const all = new Map([0, 1, 2].map((b) => [b, unit] as [number, Float32Array]));
    for (let i = 0; i < 8; i++) {
      const logits = ref.forward(seq, { ablate: all }).logits.at(-1)!;
      seq.push(logits.indexOf(Math.max(...logits)));
    }
    expect(r.rows[0]!.tokens).toEqual(seq.slice(prompt.length));
  });

  it('projection monitoring streams h_b · v̂ for every generated token', async () => {
    const v = Float32Array.from({ length: 32 }, (_, i) => (i % 3) - 1);
    const seen: number[] = [];
    const r = await engine.generate(
      { rows: [{ prompt: { ids: [1, 2, 3] }, sampling: greedy, monitor: { layer: 2, vector: v } }], maxNewTokens: 5 },
      {
        onToken: (e) => {
          if (e.projection !== undefined) seen.push(e.projection);
        },
      },
    );
    expect(seen).toHaveLength(5);
    const seq = [1, 2, 3, ...r.rows[0]!.tokens];
    const hidden = ref.forward(seq).hidden[2]!;
    const norm = Math.hypot(...v);
    seen.forEach((p, k) => {
      const h = hidden[2 + k]!; // the token generated at step k was predicted from position 2+k
      const want = h.reduce((s, x, i) => s + x * v[i]!, 0) / norm;
      expect(p).toBeCloseTo(want, 3);
    });
  });

  it('cancellation stops the loop within one step', async () => {
    // In process, the abort lands at a known step: the loop checks it before every forward.
    const model = await CompiledModel.load(qwenDir, { provider: 'cpu', threads: 1 });
    try {
      const ac = new AbortController();
      const r = await generate(model, {
        rows: [{ prompt: [1, 2], sampling: { temperature: 1, seed: 1 } }],
        maxNewTokens: 200,
        stopTokenIds: [],
        signal: ac.signal,
        onToken: (e) => {
          if (e.index === 4) ac.abort();
        },
      });
      expect(r.rows[0]!.finish).toBe('cancelled');
      expect(r.rows[0]!.tokens).toHaveLength(5);
    } finally {
      await model.release();
    }
  });

  it('rows that repeat a prefill share it, and every row equals itself run alone', async () => {
    const model = await CompiledModel.load(qwenDir, { provider: 'cpu', threads: 1 });
    try {
      const v = new Map([[1, Float32Array.from({ length: 32 }, (_, i) => ((i * 7) % 5) - 2)]]);
      const a = [4, 8, 15, 16];
      const rows: GenerateRow[] = [
        { prompt: a, sampling: { temperature: 1, seed: 1 } },
        { prompt: a, sampling: { temperature: 1, seed: 2 }, monitor: { layer: 2, vector: v.get(1)! } },
        { prompt: [23, 42], sampling: greedy },
        { prompt: a, sampling: greedy, steering: { terms: [{ vectors: v, alpha: 2, scale: 'raw', positions: 'generated' }] } },
        { prompt: a, sampling: greedy, steering: { terms: [{ vectors: v, alpha: -2, scale: 'raw', positions: 'generated' }] } },
        { prompt: a, sampling: greedy, steering: { terms: [{ vectors: v, alpha: 2, scale: 'raw' }] } },
      ];
      const batches: number[] = [];
      const forward = model.forward.bind(model);
      model.forward = (x) => {
        batches.push(x.batch);
        return forward(x);
      };
      const together = await generate(model, { rows, maxNewTokens: 10, stopTokenIds: [] });
      // rows 0, 1, 3, 4 have one prefill; row 2 has another prompt, row 5 steers the prompt too
      expect(batches[0]).toBe(3);
      for (const [r, row] of rows.entries()) {
        const alone = await generate(model, { rows: [row], maxNewTokens: 10, stopTokenIds: [] });
        expect(together.rows[r]!.tokens).toEqual(alone.rows[0]!.tokens);
        expect(together.rows[r]!.projections).toEqual(alone.rows[0]!.projections);
      }
      expect(together.rows[3]!.tokens).not.toEqual(together.rows[4]!.tokens);
    } finally {
      await model.release();
    }
  });

  it('refuses up front a run whose KV cache could outgrow its budget, naming the sizes', async () => {
    const model = await CompiledModel.load(qwenDir, { provider: 'cpu', threads: 1 });
    try {
      // tiny qwen3: 3 layers × 2 (k, v) × 2 heads × 16 dims × 4 bytes = 768 bytes per position
      const rows = [{ prompt: [1, 2, 3, 4] }, { prompt: [5, 6] }];
      await expect(generate(model, { rows, maxNewTokens: 60, stopTokenIds: [], kvBudgetBytes: 64 * 768 * 2 - 1 })).rejects.toThrow(
        /^generate: 2 row\(s\) × 64 positions of KV cache need up to 0\.094 MiB, more than the 0\.094 MiB allowed/,
      );
      const ok = await generate(model, { rows, maxNewTokens: 60, stopTokenIds: [], kvBudgetBytes: 64 * 768 * 2 });
      expect(ok.rows[0]!.tokens).toHaveLength(60);
    } finally {
      await model.release();
    }
  });

  it('an abort on the host reaches the worker and ends the generation early', async () => {
    // The host reads token events some steps behind the worker, so only "early" is certain here;
    // "within one step" of the worker seeing it is the loop-level test above.
    const ac = new AbortController();
    let count = 0;
    const r = await engine.generate(
      { rows: [{ prompt: { ids: [1, 2] }, sampling: { temperature: 1, seed: 1 } }], maxNewTokens: 200 },
      {
        signal: ac.signal,
        onToken: () => {
          if (++count === 5) ac.abort();
        },
      },
    );
    expect(r.rows[0]!.finish).toBe('cancelled');
    expect(r.rows[0]!.tokens.length).toBeGreaterThanOrEqual(5);
    expect(r.rows[0]!.tokens.length).toBeLessThan(200);
    const before = await engine.generate({ rows: [{ prompt: { ids: [1, 2] } }], maxNewTokens: 50 }, { signal: AbortSignal.abort() });
    expect(before.rows[0]!.finish).toBe('cancelled');
    expect(before.rows[0]!.tokens).toHaveLength(0);
  });

  it('rejects a prompt longer than the model allows with one clear line', async () => {
    const long = new Array(300).fill(3);
    await expect(engine.generate({ rows: [{ prompt: { ids: long } }], maxNewTokens: 10 })).rejects.toThrow(
      /exceeds the model's 256 positions/,
    );
  });
});

describe('capture and scoring through the worker', () => {
  it('capture streams progress and returns what the in-process capture returns', async () => {
    const pairs = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10], [11, 12]].map((p, i) => ({ prompt: p, response: [20 + i, 30 + i, 40] }));
    const progress: number[] = [];
    const r = await engine.capture({ pairs, reduction: 'response-mean', batchSize: 2 }, { onProgress: (d) => progress.push(d) });
    expect(progress.at(-1)).toBe(5);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const local = await CompiledModel.load(qwenDir);
    try {
      const want = await captureActivations(local, pairs, { reduction: 'response-mean', batchSize: 2 });
      for (const b of want.layers) expect(Array.from(r.rows!.get(b)!)).toEqual(Array.from(want.rows!.get(b)!));
    } finally {
      await local.release();
    }
  });

  it('scores a continuation and refuses malformed requests with the field named', async () => {
    const [row] = await engine.score({ rows: [{ prompt: [1, 2, 3], continuation: [4, 5] }] });
    expect(row!.tokenLogprobs).toHaveLength(2);
    expect(row!.perplexity).toBeCloseTo(Math.exp(-row!.mean), 5);
    await expect(engine.score({ rows: [{ prompt: [], continuation: [4] }] })).rejects.toThrow(
      /engine request args\.rows\.0\.prompt: Too small/,
    );
  });
});

describe('scheduling in the worker', () => {
  it('a short generation is answered while a long capture is still running', async () => {
    const pairs = Array.from({ length: 2000 }, (_, i) => ({ prompt: [1 + (i % 50), 2, 3], response: [4, 5, 6, 7] }));
    let started!: () => void;
    const firstBatch = new Promise<void>((resolve) => {
      started = resolve;
    });
    let captureDone = false;
    const capture = engine
      .capture({ pairs, reduction: 'response-mean', batchSize: 1, keepRows: false }, { onProgress: () => started() })
      .then((r) => {
        captureDone = true;
        return r;
      });
    await firstBatch;
    const g = await engine.generate({ rows: [{ prompt: { ids: [1, 2] }, sampling: greedy }], maxNewTokens: 8 });
    // The worker posts results in the order it finishes: the capture's has not come yet.
    expect(captureDone).toBe(false);
    expect(g.rows[0]!.tokens.length).toBeGreaterThan(0);
    expect((await capture).count).toBe(2000);
  });

  it('unload waits for the work before it; requests after it see no model', async () => {
    const gen = engine.generate({ rows: [{ prompt: { ids: [1, 2] }, sampling: { temperature: 1, seed: 3 } }], maxNewTokens: 40 });
    const unloaded = engine.unload();
    const after = engine.generate({ rows: [{ prompt: { ids: [1, 2] } }], maxNewTokens: 4 });
    expect((await gen).rows[0]!.tokens.length).toBeGreaterThan(0);
    await unloaded;
    await expect(after).rejects.toThrow(/no model is loaded/);
    await engine.load(qwenDir);
  });
});

describe('providers', () => {
  it('a provider that fails to start falls back to cpu and says why', async () => {
    const tried: string[] = [];
    const opened = await openSession(join(qwenDir, 'model.onnx'), { provider: 'cuda' }, async (path, o) => {
      const name = String((o.executionProviders![0] as { name?: string }).name ?? o.executionProviders![0]);
      tried.push(name);
      if (name === 'cuda') throw new Error('CUDA driver version is insufficient\nmore detail');
      const ort = await import('onnxruntime-node');
      return ort.InferenceSession.create(path, o);
    });
    expect(tried).toEqual(['cuda', 'cpu']);
    expect(opened.provider).toBe('cpu');
    expect(opened.reason).toBe('cpu (fallback: cuda failed: CUDA driver version is insufficient)');
    await opened.session.release();
  });

  it("'auto' tries cuda, dml, then cpu, never coreml (slower than cpu for our graphs)", () => {
    expect(availableProviders(['cpu', 'coreml', 'webgpu'])).toEqual(['cpu']);
    expect(availableProviders(['webgpu', 'cpu', 'dml'])).toEqual(['dml', 'cpu']);
  });

  it('a missing or corrupt model fails with one line naming the file', async () => {
    await expect(CompiledModel.load(join(root, 'nowhere'))).rejects.toThrow(/nowhere: not a compiled model/);
  });
});

describe('host responsiveness and memory', () => {
  // Big enough that one prefill takes a noticeable time on 2 cores.
  const config = {
    ...QWEN3_06B_CONFIG,
    vocab_size: 8192,
    hidden_size: 512,
    intermediate_size: 2048,
    num_hidden_layers: 6,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    head_dim: 64,
    max_position_embeddings: 2048,
  };
  let dir: string;
  beforeAll(async () => {
    const ckpt = ensureRandomCheckpoint(join(root, 'medium'), config, 'F32');
    dir = (await compileModel({ checkpointDir: ckpt, cacheRoot: root, options: { requireTokenizer: false } })).dir;
  });

  it('the host event loop never stalls while the worker prefills and decodes', async () => {
    // In-process, one prefill blocks the loop for this long; through the worker it must not.
    const inProcess = await CompiledModel.load(dir);
    const ids = BigInt64Array.from({ length: 768 }, (_, i) => BigInt((i * 37) % 8192));
    const t0 = performance.now();
    await inProcess.forward({
      batch: 1,
      seq: 768,
      ids,
      mask: new BigInt64Array(768).fill(1n),
      positions: BigInt64Array.from({ length: 768 }, (_, i) => BigInt(i)),
      cache: null,
      keep: 1,
    });
    const blocking = performance.now() - t0;
    await inProcess.release();
    expect(blocking).toBeGreaterThan(100);

    const e = new Engine();
    try {
      await e.load(dir);
      let worst = 0;
      let last = performance.now();
      const tick = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 5);
      await e.generate({ rows: [{ prompt: { ids: Array.from(ids, Number) }, sampling: greedy }], maxNewTokens: 8 });
      clearInterval(tick);
      console.log(`in-process prefill blocked ${blocking.toFixed(0)} ms; worst host stall through the worker ${worst.toFixed(1)} ms`);
      // Relative to the in-process block measured in this same run, not a fixed number of ms: on a
      // loaded machine the OS preempts the loop too, but never for a whole prefill.
      expect(worst).toBeLessThan(blocking / 3);
    } finally {
      await e.close();
    }
  });

  it('unloading returns memory to within 10% of the level before loading', () => {
    const probe = join(import.meta.dirname, 'test-support', 'memory-probe.ts');
    const out = execFileSync(process.execPath, ['--import', 'tsx', probe, dir, qwenDir], { encoding: 'utf8' });
    const { before, loaded, after } = JSON.parse(out.trim().split('\n').pop()!);
    const mib = (x: number) => (x / 2 ** 20).toFixed(0);
    console.log(`rss before ${mib(before)} MiB, loaded ${mib(loaded)} MiB, after unload ${mib(after)} MiB`);
    expect(loaded - before).toBeGreaterThan(100 * 2 ** 20); // the model really occupied memory
    expect(after).toBeLessThan(before * 1.1);
  });
});

const STORIES = join(import.meta.dirname, '../../../../shared/models/stories260K');
const haveStories = existsSync(join(STORIES, 'stories260K.gguf'));
if (!haveStories) console.log(`skipping stories260K engine test: ${STORIES} is absent`);

describe.skipIf(!haveStories)('stories260K', () => {
  it('greedy tokens through the engine equal llama.cpp from a text prompt', async () => {
    const dir = (await compileModel({ checkpointDir: STORIES, cacheRoot: root })).dir;
    const e = new Engine();
    try {
      await e.load(dir);
      const r = await e.generate({ rows: [{ prompt: { text: 'Once upon a time, Tom' }, sampling: greedy }], maxNewTokens: 60 });
      const row = r.rows[0]!;
      const theirs = await llamaCppGreedy(join(STORIES, 'stories260K.gguf'), row.promptTokens, 60);
      expect(row.tokens).toEqual(theirs.slice(0, row.tokens.length));
      expect(row.text.length).toBeGreaterThan(40);
    } finally {
      await e.close();
    }
  });
});

describe('in-process engine', () => {
  it('serves the same contract in this thread: identical greedy tokens and capture to the worker', async () => {
    const { Engine: E } = await import('./engine.ts');
    const { compileModel: compile } = await import('../../../native-models/compile.ts');
    const { tinyCheckpoint: tiny } = await import('../../../native-models/test-support/tiny-checkpoints.ts');
    const { mkdtempSync: mk, rmSync: rm } = await import('node:fs');
    const { tmpdir: td } = await import('node:os');
    const { join: j } = await import('node:path');
    const root = mk(j(td(), 'ps-inproc-'));
    const dir = (await compile({ checkpointDir: tiny('qwen3'), cacheRoot: root, options: { requireTokenizer: false } })).dir;
    const a = new E();
    const b = new E({ inProcess: true });
    try {
      await a.load(dir);
      await b.load(dir);
      const req = { rows: [{ prompt: { ids: [3, 1, 4, 1, 5] }, sampling: { greedy: true } }], maxNewTokens: 8 };
      expect((await b.generate(req)).rows[0]!.tokens).toEqual((await a.generate(req)).rows[0]!.tokens);
      const cap = { pairs: [{ prompt: [3, 1, 4], response: [1, 5] }], reduction: 'response-mean' as const };
      expect([...(await b.capture(cap)).rows!.get(1)!]).toEqual([...(await a.capture(cap)).rows!.get(1)!]);
      await expect(b.generate({ rows: [{ prompt: { ids: [] } }], maxNewTokens: 1 })).rejects.toMatchObject({ code: 'usage' });
    } finally {
      await a.close();
      await b.close();
      rm(root, { recursive: true, force: true });
    }
  });
});
