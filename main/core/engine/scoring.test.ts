// Continuation scoring and next-token distributions against the reference forward pass (tiny qwen3).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../../native-models/compile.ts';
import { tinyCheckpoint } from '../../../native-models/test-support/tiny-checkpoints.ts';
import { ReferenceModel } from '../../../native-models/test-support/reference.ts';
import { CompiledModel } from './model.ts';
import { logSoftmax } from './sampling/logprobs.ts';
import type { RowSteering } from './steering.ts';
import { scoreContinuation, nextTokenDistribution, klDivergence, type ScoreRow } from './scoring.ts';

const cacheRoot = mkdtempSync(join(tmpdir(), 'ps-scoring-'));
let model: CompiledModel;
let ref: ReferenceModel;

beforeAll(async () => {
  const { dir } = await compileModel({ checkpointDir: tinyCheckpoint('qwen3'), cacheRoot, options: { requireTokenizer: false } });
  model = await CompiledModel.load(dir, { provider: 'cpu', threads: 2 });
  ref = ReferenceModel.load(tinyCheckpoint('qwen3'));
});
afterAll(async () => {
  await model?.release();
  rmSync(cacheRoot, { recursive: true, force: true });
});

function tokens(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s % 96;
  });
}

function vec(n: number, seed: number, scale = 1) {
  return Float32Array.from(tokens(n, seed), (t) => ((t / 95) * 2 - 1) * scale);
}

// Prompts and continuations of different lengths; row 3's continuation is longer than its prompt.
const ROWS: ScoreRow[] = [
  { prompt: [93, ...tokens(6, 1)], continuation: tokens(3, 2) },
  { prompt: [93, ...tokens(2, 3)], continuation: tokens(5, 4) },
  { prompt: [93, ...tokens(9, 5)], continuation: tokens(1, 6) },
  { prompt: [93], continuation: tokens(6, 7) },
];

/** log p(c[j]) from the reference: log_softmax of its logits at position P-1+j. */
function refLogprobs(row: ScoreRow, steer?: Map<number, Float32Array>): number[] {
  const logits = ref.forward([...row.prompt, ...row.continuation], { steer }).logits;
  return row.continuation.map((t, j) => logSoftmax(logits[row.prompt.length - 1 + j]!)[t]!);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const steerAt1 = (v: ReturnType<typeof vec>, positions: 'all' | 'generated' = 'all', alpha = 1): NonNullable<RowSteering['terms']> => [
  { vectors: new Map([[1, v]]), alpha, scale: 'raw', positions },
];

describe('scoreContinuation', () => {
  it('token logprobs equal log_softmax of the reference logits at the predicting positions', async () => {
    const got = await scoreContinuation(model, ROWS, { batchSize: 4 });
    ROWS.forEach((row, i) => {
      expect(maxDiff(got[i]!.tokenLogprobs, refLogprobs(row))).toBeLessThan(1e-4);
      const lp = [...got[i]!.tokenLogprobs];
      const sum = lp.reduce((a, b) => a + b, 0);
      expect(got[i]!.sum).toBeCloseTo(sum, 9);
      expect(got[i]!.mean).toBeCloseTo(sum / lp.length, 9);
      expect(got[i]!.perplexity).toBeCloseTo(Math.exp(-got[i]!.mean), 9);
      expect(got[i]!.perplexity).toBeGreaterThan(1);
    });
  });

  it('batched rows of different lengths equal each row alone', async () => {
    const batched = await scoreContinuation(model, ROWS, { batchSize: 4 });
    const alone = await scoreContinuation(model, ROWS, { batchSize: 1 });
    const capped = await scoreContinuation(model, ROWS, { maxTokensPerBatch: 16, memoryBudgetBytes: 1e6 });
    ROWS.forEach((_, i) => {
      expect(maxDiff(batched[i]!.tokenLogprobs, alone[i]!.tokenLogprobs)).toBeLessThan(1e-5);
      expect(maxDiff(capped[i]!.tokenLogprobs, alone[i]!.tokenLogprobs)).toBeLessThan(1e-5);
    });
  });

  it('steering (one for all rows, or per row) equals the reference with the vector added', async () => {
    const v = vec(model.arch.hidden, 41, 0.8);
    const steer = new Map([[1, v]]);
    const plain = await scoreContinuation(model, ROWS);
    const all = await scoreContinuation(model, ROWS, { steering: { terms: steerAt1(v) } });
    const perRow = await scoreContinuation(model, ROWS, { steering: ROWS.map((_, i) => (i % 2 ? undefined : { terms: steerAt1(v) })) });
    ROWS.forEach((row, i) => {
      const want = refLogprobs(row, steer);
      expect(maxDiff(all[i]!.tokenLogprobs, want)).toBeLessThan(1e-4);
      expect(maxDiff(all[i]!.tokenLogprobs, plain[i]!.tokenLogprobs)).toBeGreaterThan(1e-3);
      expect(maxDiff(perRow[i]!.tokenLogprobs, i % 2 ? plain[i]!.tokenLogprobs : want)).toBeLessThan(1e-4);
    });
  });

  it("'generated' steering: the two-pass path matches the reference, and leaves the first token unsteered", async () => {
    const v = vec(model.arch.hidden, 43, 0.8);
    const plain = await scoreContinuation(model, ROWS);
    // An 'all' term plus a zero 'generated' term forces the two-pass path with steering everywhere.
    const everywhere = await scoreContinuation(model, ROWS, {
      steering: { terms: [...steerAt1(v), ...steerAt1(v, 'generated', 0)] },
      batchSize: 3,
    });
    ROWS.forEach((row, i) => expect(maxDiff(everywhere[i]!.tokenLogprobs, refLogprobs(row, new Map([[1, v]])))).toBeLessThan(1e-4));
    const gen = await scoreContinuation(model, ROWS, { steering: { terms: steerAt1(v, 'generated') } });
    ROWS.forEach((row, i) => {
      expect(Math.abs(gen[i]!.tokenLogprobs[0]! - plain[i]!.tokenLogprobs[0]!)).toBeLessThan(1e-5);
      if (row.continuation.length > 1) {
        expect(maxDiff(gen[i]!.tokenLogprobs.subarray(1), plain[i]!.tokenLogprobs.subarray(1))).toBeGreaterThan(1e-3);
      }
    });
  });

  it('hiddenLayers: the same logprobs, plus the reference residual averaged over the continuation, in one pass', async () => {
    const plain = await scoreContinuation(model, ROWS);
    const L = model.arch.numLayers;
    const asked = ROWS.map((r, i) => ({ ...r, hiddenLayers: i === 1 ? [] : i === 2 ? [L - 1] : [0, L - 1] }));
    const both = await scoreContinuation(model, asked);
    ROWS.forEach((row, i) => {
      expect(maxDiff(both[i]!.tokenLogprobs, plain[i]!.tokenLogprobs), `row ${i}`).toBeLessThan(1e-4);
      if (i === 1) return expect(both[i]!.hidden).toBeUndefined();
      expect([...both[i]!.hidden!.keys()]).toEqual(asked[i]!.hiddenLayers);
      const h = ref.forward([...row.prompt, ...row.continuation]).hidden;
      for (const b of asked[i]!.hiddenLayers) {
        const want = new Float64Array(model.arch.hidden);
        for (let t = row.prompt.length; t < row.prompt.length + row.continuation.length; t++)
          h[b]![t]!.forEach((x, k) => (want[k]! += x / row.continuation.length));
        expect(maxDiff(both[i]!.hidden!.get(b)!, want), `row ${i} block ${b}`).toBeLessThan(1e-4);
      }
    });
    await expect(scoreContinuation(model, [{ ...ROWS[0]!, hiddenLayers: [L] }])).rejects.toThrow(
      `row 0 hiddenLayers: ${L} is not a block of this ${L}-layer model`,
    );
  });

  it('cancellation stops between batches', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    await expect(
      scoreContinuation(model, ROWS, {
        batchSize: 2,
        signal: ac.signal,
        onProgress: (done) => {
          seen.push(done);
          ac.abort();
        },
      }),
    ).rejects.toThrow(/abort/i);
    expect(seen).toEqual([2]);
  });

  it('rejects bad input with one line naming the row or field', async () => {
    await expect(scoreContinuation(model, [{ prompt: [93], continuation: [] }])).rejects.toThrow('row 0 has an empty continuation');
    await expect(scoreContinuation(model, [{ prompt: [], continuation: [1] }])).rejects.toThrow('row 0 has an empty prompt');
    await expect(scoreContinuation(model, [{ prompt: [93], continuation: [1.5] }])).rejects.toThrow(
      'row 0 continuation: token id 1.5 is outside the vocabulary',
    );
    await expect(scoreContinuation(model, ROWS, { steering: [undefined] })).rejects.toThrow('steering has 1 entries for 4 rows');
    const v = vec(model.arch.hidden, 1);
    await expect(scoreContinuation(model, ROWS, { steering: { terms: [{ vectors: new Map([[1, v]]), alpha: 1 }] } })).rejects.toThrow(
      "scale 'norm' needs the model's residual norms",
    );
  });
});

describe('nextTokenDistribution and KL', () => {
  const prompts = ROWS.map((r) => r.prompt);

  it('equals log_softmax of the reference last-position logits; steering moves it', async () => {
    const got = await nextTokenDistribution(model, prompts, { batchSize: 3 });
    prompts.forEach((p, i) => {
      const want = logSoftmax(ref.forward(p).logits[p.length - 1]!);
      expect(maxDiff(got[i]!, want)).toBeLessThan(1e-4);
      expect(klDivergence(got[i]!, got[i]!)).toBe(0);
    });
    const v = vec(model.arch.hidden, 47, 0.8);
    const steered = await nextTokenDistribution(model, prompts, { steering: { terms: steerAt1(v) } });
    prompts.forEach((p, i) => {
      const want = logSoftmax(ref.forward(p, { steer: new Map([[1, v]]) }).logits[p.length - 1]!);
      expect(maxDiff(steered[i]!, want)).toBeLessThan(1e-4);
      expect(klDivergence(steered[i]!, got[i]!)).toBeGreaterThan(1e-4);
    });
    // generation samples its first token from the unsteered prompt when steering only generated tokens
    const gen = await nextTokenDistribution(model, prompts, { steering: { terms: steerAt1(v, 'generated') } });
    prompts.forEach((_, i) => expect(maxDiff(gen[i]!, got[i]!)).toBeLessThan(1e-6));
  });

  it('klDivergence on known distributions', () => {
    const p = Float32Array.from([0.5, 0.5], Math.log);
    const q = Float32Array.from([0.9, 0.1], Math.log);
    expect(klDivergence(p, q)).toBeCloseTo(0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(0.5 / 0.1), 6);
    expect(klDivergence(Float32Array.of(0, -Infinity), Float32Array.of(Math.log(0.5), Math.log(0.5)))).toBeCloseTo(Math.log(2), 6);
    expect(klDivergence(Float32Array.of(Math.log(0.5), Math.log(0.5)), Float32Array.of(0, -Infinity))).toBe(Infinity);
    expect(() => klDivergence(p, Float32Array.of(0))).toThrow('distributions have 2 and 1 entries');
  });
});
