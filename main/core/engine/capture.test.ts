// Capture pooling and residual norms against the independent reference forward pass (tiny qwen3).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../../native-models/compile.ts';
import { tinyCheckpoint } from '../../../native-models/test-support/tiny-checkpoints.ts';
import { ReferenceModel } from '../../../native-models/test-support/reference.ts';
import { CompiledModel } from './model.ts';
import {
  captureActivations,
  captureMean,
  residualNorms,
  planBatches,
  leftPad,
  REDUCTIONS,
  type CapturePair,
  type Reduction,
} from './capture.ts';

const cacheRoot = mkdtempSync(join(tmpdir(), 'ps-capture-'));
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

// Different prompt and response lengths so that batches need padding.
const PAIRS: CapturePair[] = [
  { prompt: [93, ...tokens(5, 1)], response: tokens(4, 2) },
  { prompt: [93, ...tokens(2, 3)], response: tokens(7, 4) },
  { prompt: [93, ...tokens(8, 5)], response: tokens(2, 6) },
  { prompt: [93], response: tokens(3, 7) },
  { prompt: [93, ...tokens(4, 8)], response: tokens(1, 9) },
];

/** The pooled row the reduction defines, from reference hidden states (float64). */
function refPooled(pair: CapturePair, b: number, reduction: Reduction, steer?: Map<number, Float32Array>): Float64Array {
  const h = ref.forward([...pair.prompt, ...pair.response], { steer }).hidden[b]!;
  const P = pair.prompt.length;
  const [from, to] =
    reduction === 'response-mean' ? [P, P + pair.response.length] : reduction === 'last-prompt' ? [P - 1, P] : [0, h.length];
  const out = new Float64Array(ref.hidden);
  for (let t = from; t < to; t++) for (let k = 0; k < ref.hidden; k++) out[k]! += h[t]![k]! / (to - from);
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('captureActivations', () => {
  it.each(REDUCTIONS)('%s equals the pooling of the reference hidden states, batched and alone', async (reduction) => {
    const H = model.arch.hidden;
    const batched = await captureActivations(model, PAIRS, { reduction, batchSize: 3 });
    const alone = await captureActivations(model, PAIRS, { reduction, batchSize: 1 });
    expect(batched.layers).toEqual([0, 1, 2]);
    expect(batched.count).toBe(PAIRS.length);
    for (const b of batched.layers) {
      const rows = batched.rows!.get(b)!;
      PAIRS.forEach((p, i) => {
        expect(maxDiff(rows.subarray(i * H, (i + 1) * H), refPooled(p, b, reduction))).toBeLessThan(1e-4);
      });
      expect(maxDiff(rows, alone.rows!.get(b)!)).toBeLessThan(1e-5);
      // sums are the sums of the stored rows
      const sum = new Float64Array(H);
      const sq = new Float64Array(H);
      for (let i = 0; i < PAIRS.length; i++)
        for (let k = 0; k < H; k++) {
          sum[k]! += rows[i * H + k]!;
          sq[k]! += rows[i * H + k]! ** 2;
        }
      expect(maxDiff(batched.sums.get(b)!, sum)).toBeLessThan(1e-9);
      expect(maxDiff(batched.sumSquares.get(b)!, sq)).toBeLessThan(1e-9);
      expect(
        maxDiff(
          captureMean(batched, b),
          sum.map((x) => x / PAIRS.length),
        ),
      ).toBeLessThan(1e-6);
    }
    const want = PAIRS.map((p) =>
      reduction === 'response-mean' ? p.response.length : reduction === 'last-prompt' ? 1 : p.prompt.length + p.response.length,
    );
    expect([...batched.tokens]).toEqual(want);
  });

  it('a layer subset, keepRows false, and a token cap give the same sums', async () => {
    const full = await captureActivations(model, PAIRS, { reduction: 'response-mean' });
    let batches = 0;
    const lean = await captureActivations(model, PAIRS, {
      reduction: 'response-mean',
      layers: [2, 0, 2],
      keepRows: false,
      maxTokensPerBatch: 12,
      onProgress: () => {
        batches++;
      },
    });
    expect(lean.layers).toEqual([0, 2]);
    expect(lean.rows).toBeNull();
    // lengths 10, 10, 11, 4, 6 with ≤ 12 padded tokens per forward: the three longest alone, then 6 + 4
    expect(batches).toBe(4);
    for (const b of [0, 2]) {
      expect(maxDiff(lean.sums.get(b)!, full.sums.get(b)!)).toBeLessThan(1e-5);
      expect(maxDiff(lean.sumSquares.get(b)!, full.sumSquares.get(b)!)).toBeLessThan(1e-5);
    }
  });

  it('steering applied to every pair equals the reference with the vector added', async () => {
    const v = vec(model.arch.hidden, 21, 0.7);
    const H = model.arch.hidden;
    const steered = await captureActivations(model, PAIRS, {
      reduction: 'all-tokens',
      layers: [1, 2],
      batchSize: 4,
      steering: { terms: [{ vectors: new Map([[1, v]]), alpha: 1, scale: 'raw' }] },
    });
    const plain = await captureActivations(model, PAIRS, { reduction: 'all-tokens', layers: [2] });
    const steer = new Map([[1, v]]);
    PAIRS.forEach((p, i) => {
      for (const b of [1, 2]) {
        expect(maxDiff(steered.rows!.get(b)!.subarray(i * H, (i + 1) * H), refPooled(p, b, 'all-tokens', steer))).toBeLessThan(1e-4);
      }
    });
    expect(maxDiff(steered.rows!.get(2)!, plain.rows!.get(2)!)).toBeGreaterThan(1e-2);
  });

  it('cancellation stops between batches', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    await expect(
      captureActivations(model, PAIRS, {
        reduction: 'all-tokens',
        batchSize: 2,
        signal: ac.signal,
        onProgress: (done, total) => {
          seen.push(done);
          expect(total).toBe(PAIRS.length);
          ac.abort();
        },
      }),
    ).rejects.toThrow(/abort/i);
    expect(seen).toEqual([2]);
    await expect(captureActivations(model, PAIRS, { reduction: 'all-tokens', signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });

  it('rejects bad input with one line naming the pair or field', async () => {
    await expect(captureActivations(model, [{ prompt: [1], response: [] }], { reduction: 'response-mean' })).rejects.toThrow(
      'pair 0 has an empty response',
    );
    await expect(captureActivations(model, [{ prompt: [1, 96], response: [2] }], { reduction: 'all-tokens' })).rejects.toThrow(
      'pair 0 prompt: token id 96 is outside the vocabulary',
    );
    await expect(captureActivations(model, [{ prompt: [], response: [2] }], { reduction: 'all-tokens' })).rejects.toThrow(
      'pair 0 has an empty prompt',
    );
    await expect(captureActivations(model, PAIRS, { reduction: 'all-tokens', layers: [3] })).rejects.toThrow('layer 3 does not exist');
    await expect(captureActivations(model, PAIRS, { reduction: 'mean' as Reduction })).rejects.toThrow('reduction must be one of');
    await expect(captureActivations(model, PAIRS, { reduction: 'all-tokens', batchSize: 0 })).rejects.toThrow(
      'batchSize must be a positive integer',
    );
    await expect(
      captureActivations(model, [{ prompt: new Array(200).fill(1), response: new Array(60).fill(1) }], { reduction: 'all-tokens' }),
    ).rejects.toThrow("more than the model's 256 positions");
    const v = new Float32Array(model.arch.hidden).fill(1);
    await expect(
      captureActivations(model, PAIRS, {
        reduction: 'all-tokens',
        steering: { terms: [{ vectors: new Map([[0, v]]), alpha: 1, scale: 'raw', positions: 'generated' }] },
      }),
    ).rejects.toThrow("positions 'generated'");
    // an empty response is fine where the response is not what is pooled
    const r = await captureActivations(model, [{ prompt: [93, 4, 5], response: [] }], { reduction: 'last-prompt', layers: [0] });
    expect(r.tokens[0]).toBe(1);
  });
});

describe('residualNorms', () => {
  it('equals the reference mean L2 norm over every token but the first', async () => {
    const seqs = [[93, ...tokens(9, 31)], [93, ...tokens(3, 32)], [93], [93, ...tokens(6, 33)]];
    const got = await residualNorms(model, seqs, { batchSize: 2 });
    expect(got.length).toBe(model.arch.numLayers);
    for (let b = 0; b < model.arch.numLayers; b++) {
      let sum = 0;
      let n = 0;
      for (const s of seqs) {
        const h = ref.forward(s).hidden[b]!;
        for (let t = 1; t < s.length; t++) {
          sum += Math.hypot(...h[t]!);
          n++;
        }
      }
      expect(Math.abs(got[b]! - sum / n)).toBeLessThan(1e-4);
    }
    await expect(residualNorms(model, [[93]])).rejects.toThrow('no tokens to measure');
  });
});

describe('batch planning', () => {
  it('orders longest first and respects rows, padded tokens and bytes', () => {
    const limits = { batchSize: 3, maxTokens: Infinity, budget: Infinity };
    expect(planBatches([2, 5, 3, 5, 1], limits, 0)).toEqual([
      [1, 3, 2],
      [0, 4],
    ]);
    expect(planBatches([2, 5, 3, 5, 1], { ...limits, maxTokens: 10 }, 0)).toEqual([
      [1, 3],
      [2, 0, 4],
    ]);
    // 100 bytes per token + 10 per kept position, 1000 budget
    expect(planBatches([4, 4, 4], { ...limits, budget: 1000 }, 100, [20, 30, 10], 10)).toEqual([[0], [1], [2]]);
    expect(planBatches([4, 4, 4], { ...limits, budget: 1000 }, 100, [5, 5, 5], 10)).toEqual([[0, 1], [2]]);
    // a row larger than every limit still runs, alone
    expect(planBatches([50, 2], { ...limits, maxTokens: 10 }, 0)).toEqual([[0], [1]]);
  });

  it('left-pads with positions from 0 at each first real token', () => {
    const p = leftPad([[7, 8, 9], [5]], 3);
    expect([...p.ids]).toEqual([7n, 8n, 9n, 3n, 3n, 5n]);
    expect([...p.mask]).toEqual([1n, 1n, 1n, 0n, 0n, 1n]);
    expect([...p.positions]).toEqual([0n, 1n, 2n, 0n, 0n, 0n]);
    expect(p.offsets).toEqual([0, 2]);
  });
});

describe('cancellation from outside', () => {
  it('an abort from a timer is seen before the next batch', async () => {
    const ac = new AbortController();
    let batches = 0;
    // the first progress callback arms a timer; the run must reach the event loop for it to fire
    const run = captureActivations(model, PAIRS, {
      reduction: 'all-tokens',
      batchSize: 1,
      signal: ac.signal,
      onProgress: () => {
        if (batches++ === 0) setTimeout(() => ac.abort(), 0);
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(batches).toBeLessThan(PAIRS.length);
  });
});
