import { describe, expect, it } from 'vitest';
import { TokenSampler } from './token-sampler.ts';
import { argmax } from './top-k.ts';
import type { SamplingParamsInput } from './params.ts';
import { f32, randomLogits, softmax } from '../test-support/logits.ts';

/** Settings are checked against transformers' warpers, whose neutral temperature and top-p are 1
 *  (the studio's own defaults, 0.7 and 0.9, are tested once below). */
const NEUTRAL = { temperature: 1, topP: 1 };
const sampler = (p: SamplingParamsInput, vocab: number, row = 0) => new TokenSampler({ ...NEUTRAL, ...p }, vocab, row);

/** Logits whose softmax is exactly `probs` (up to float32 rounding). */
const fromProbs = (probs: number[]) => f32(probs.map(Math.log));
const kept = (processed: Float32Array) => Array.from(processed.keys()).filter((i) => processed[i]! > -Infinity);

/** Straightforward reference (full sort), following transformers' warpers one by one. */
function referenceKept(l: Float32Array, p: { temperature: number; topK: number; topP: number; minP: number }): number[] {
  const V = l.length;
  let alive = Array.from({ length: V }, (_, i) => i);
  const z = Array.from(l, (v) => v / p.temperature);
  if (p.topK > 0 && p.topK < V) {
    const sorted = [...alive].sort((a, b) => z[b]! - z[a]!);
    const kth = z[sorted[p.topK - 1]!]!;
    alive = alive.filter((i) => z[i]! >= kth);
  }
  const probsOf = (ids: number[]) => {
    const m = Math.max(...ids.map((i) => z[i]!));
    const e = new Map(ids.map((i) => [i, Math.exp(z[i]! - m)] as const));
    const s = [...e.values()].reduce((a, b) => a + b, 0);
    return new Map([...e].map(([i, v]) => [i, v / s] as const));
  };
  if (p.topP < 1) {
    const probs = probsOf(alive);
    const desc = [...alive].sort((a, b) => probs.get(b)! - probs.get(a)!);
    const keep = new Set<number>();
    let acc = 0;
    for (const i of desc) {
      keep.add(i);
      acc += probs.get(i)!;
      if (acc >= p.topP) break;
    }
    alive = alive.filter((i) => keep.has(i));
  }
  if (p.minP > 0) {
    const probs = probsOf(alive);
    const top = Math.max(...probs.values());
    alive = alive.filter((i) => probs.get(i)! >= p.minP * top);
  }
  return alive;
}

describe('TokenSampler: greedy', () => {
  it('returns the argmax for greedy and for temperature 0, lowest id on ties', () => {
    const l = randomLogits(5000, 1);
    const want = argmax(l);
    expect(sampler({ greedy: true, temperature: 0.8 }, 5000).next(l)).toBe(want);
    expect(sampler({ temperature: 0 }, 5000).next(l)).toBe(want);
    const ties = f32([1, 3, 0, 3, 3]);
    expect(sampler({ temperature: 0 }, 5).next(ties)).toBe(1);
  });

  it('rejects unusable logits and ids with one clear line', () => {
    const s = sampler({ temperature: 0 }, 4);
    expect(() => s.next(f32([1, 2, 3]))).toThrow('TokenSampler.next: logits must be a Float32Array of 4 entries, got 3 entries');
    expect(() => s.next(f32([-Infinity, -Infinity, NaN, -Infinity]))).toThrow(/no value above -Infinity/);
    const t = sampler({ repetitionPenalty: 1.2 }, 4);
    expect(() => t.next(f32([0, 0, 0, 0]), [1, 4])).toThrow('TokenSampler.next: generated[1] = 4 is not a token id below 4');
    expect(() => t.next(f32([0, 0, 0, 0]), [], [0.5])).toThrow(/prompt\[0\] = 0.5/);
    expect(() => sampler({}, 4).next(f32([NaN, NaN, NaN, NaN]))).toThrow(/largest logit is -Infinity/);
  });
});

describe('TokenSampler: sampling', () => {
  it('is reproducible with a seed; seeds and rows give different streams', () => {
    const l = randomLogits(2000, 2, 1);
    const run = (seed: number, row = 0) => {
      const s = sampler({ seed, topP: 0.95 }, 2000, row);
      return Array.from({ length: 50 }, () => s.next(l));
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
    expect(run(11, 0)).not.toEqual(run(11, 1));
    const unseeded = new TokenSampler({}, 2000);
    expect(Number.isSafeInteger(unseeded.seed)).toBe(true);
  });

  it('gives the same draws when batch rows interleave (scratch buffers are shared)', () => {
    const l = randomLogits(3000, 5, 1);
    const params: SamplingParamsInput[] = [{ topK: 40 }, { topP: 0.8 }, { minP: 0.05, repetitionPenalty: 1.2 }, {}];
    const alone = params.map((p, row) => {
      const s = sampler({ seed: 3, ...p }, 3000, row);
      const got: number[] = [];
      for (let i = 0; i < 30; i++) got.push(s.next(l, got, [1, 2, 3]));
      return got;
    });
    const samplers = params.map((p, row) => sampler({ seed: 3, ...p }, 3000, row));
    const together: number[][] = params.map(() => []);
    for (let i = 0; i < 30; i++) samplers.forEach((s, r) => together[r]!.push(s.next(l, together[r], [1, 2, 3])));
    expect(together).toEqual(alone);
  });

  it('draws tokens with softmax frequencies (temperature 1 and 0.5)', () => {
    const l = f32([2.0, 1.0, 0.5, 0.0, -1.0, 1.5]);
    for (const T of [1, 0.5]) {
      const s = sampler({ seed: 2024, temperature: T }, l.length);
      const N = 20_000;
      const counts = new Array<number>(l.length).fill(0);
      for (let i = 0; i < N; i++) counts[s.next(l)]!++;
      const want = softmax(l, T);
      // 4.5 standard deviations of a binomial frequency, per token.
      counts.forEach((c, i) => {
        const sd = Math.sqrt((want[i]! * (1 - want[i]!)) / N);
        expect(Math.abs(c / N - want[i]!)).toBeLessThan(4.5 * sd + 1e-9);
      });
    }
  });

  it('draws survivors with their renormalised probabilities (top-k list and whole-vocabulary top-p)', () => {
    const N = 20_000;
    const check = (l: Float32Array, p: SamplingParamsInput, keep: number[]) => {
      const s = sampler({ seed: 99, ...p }, l.length);
      const counts = new Map<number, number>();
      for (let i = 0; i < N; i++) {
        const t = s.next(l);
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      expect([...counts.keys()].sort((a, b) => a - b)).toEqual(keep);
      const sub = softmax(
        keep.map((i) => l[i]!),
        p.temperature ?? 1,
      );
      keep.forEach((id, j) => {
        const sd = Math.sqrt((sub[j]! * (1 - sub[j]!)) / N);
        expect(Math.abs(counts.get(id)! / N - sub[j]!)).toBeLessThan(4.5 * sd);
      });
    };
    check(f32([2.0, 1.0, 0.5, 0.0, -1.0, 1.5]), { topK: 3 }, [0, 1, 5]);
    // 3000 tokens of noise far below four peaks: top-p 0.9 keeps exactly the peaks.
    const big = new Float32Array(3000).map((_, i) => -12 + (i % 7) * 0.1);
    big[10] = 3;
    big[2000] = 2.5;
    big[2999] = 2;
    big[500] = 1.8;
    check(big, { topP: 0.9, temperature: 1 }, [10, 500, 2000, 2999]);
  });

  it('never samples masked (-Infinity) or NaN logits', () => {
    const l = new Float32Array(1000).fill(-Infinity);
    l[3] = 0;
    l[700] = 0.5;
    l[900] = NaN;
    for (const p of [{}, { topP: 0.99 }, { topK: 5 }, { minP: 0.01 }] satisfies SamplingParamsInput[]) {
      const s = sampler({ seed: 4, ...p }, 1000);
      const seen = new Set<number>();
      for (let i = 0; i < 300; i++) seen.add(s.next(l));
      expect(
        [...seen].sort((a, b) => a - b),
        JSON.stringify(p),
      ).toEqual([3, 700]);
    }
  });

  it('keeps very unlikely tokens finite when no filter applies, as transformers does', () => {
    const l = f32([0, -80, -200, 5]);
    expect(kept(sampler({}, 4).processedLogits(l))).toEqual([0, 1, 2, 3]);
    expect(kept(sampler({ minP: 1e-3 }, 4).processedLogits(l))).toEqual([0, 3]); // e^-5 ≈ 6.7e-3 >= 1e-3
    expect(kept(sampler({ minP: 1e-2 }, 4).processedLogits(l))).toEqual([3]);
  });

  it('leaves the caller’s logits unchanged', () => {
    const l = randomLogits(3000, 3);
    const copy = Float32Array.from(l);
    const s = sampler({ seed: 1, repetitionPenalty: 1.3, frequencyPenalty: 0.5, topK: 40, topP: 0.9 }, 3000);
    s.next(l, [1, 2, 2, 3], [4, 5, 1]);
    s.processedLogits(l, [1, 2, 2, 3], [4, 5, 1]);
    expect(l).toEqual(copy);
  });
});

describe('TokenSampler: filters', () => {
  const probs = [0.1, 0.4, 0.2, 0.3]; // deliberately not sorted by id
  const l = fromProbs(probs);
  const keptBy = (p: SamplingParamsInput) => kept(sampler(p, l.length).processedLogits(l));

  it('top-k keeps the k best, plus ties with the k-th', () => {
    expect(keptBy({ topK: 1 })).toEqual([1]);
    expect(keptBy({ topK: 2 })).toEqual([1, 3]);
    expect(keptBy({ topK: 3 })).toEqual([1, 2, 3]);
    expect(keptBy({ topK: 4 })).toEqual([0, 1, 2, 3]);
    const tied = f32([1, 5, 3, 5, 2, 4]);
    expect(kept(sampler({ topK: 1 }, 6).processedLogits(tied))).toEqual([1, 3]);
    expect(kept(sampler({ topK: 3 }, 6).processedLogits(tied))).toEqual([1, 3, 5]);
    // A tie with the k-th value that appears only after the scan has raised its threshold.
    const late = new Float32Array(5000);
    late[10] = 5;
    late[20] = 4;
    late[30] = 3;
    late[4000] = 3;
    expect(kept(sampler({ topK: 3 }, 5000).processedLogits(late))).toEqual([10, 20, 30, 4000]);
  });

  it('top-p keeps the smallest most-likely set reaching p', () => {
    expect(keptBy({ topP: 0.35 })).toEqual([1]);
    expect(keptBy({ topP: 0.6 })).toEqual([1, 3]);
    expect(keptBy({ topP: 0.75 })).toEqual([1, 2, 3]);
    expect(keptBy({ topP: 0.95 })).toEqual([0, 1, 2, 3]);
  });

  it('min-p drops tokens below minP × the top probability', () => {
    expect(keptBy({ minP: 0.2 })).toEqual([0, 1, 2, 3]); // 0.1 >= 0.08
    expect(keptBy({ minP: 0.3 })).toEqual([1, 2, 3]); // cut at 0.12
    expect(keptBy({ minP: 0.6 })).toEqual([1, 3]); // cut at 0.24
    expect(keptBy({ minP: 1 })).toEqual([1]);
  });

  it('applies temperature, then top-k, then top-p on the renormalised survivors, then min-p', () => {
    // Without top-k, 0.4 < 0.55 so the nucleus needs two tokens; after top-k 2 the survivors
    // renormalise to 0.4/0.7 = 0.57 and one token suffices.
    expect(keptBy({ topP: 0.55 })).toEqual([1, 3]);
    expect(keptBy({ topK: 2, topP: 0.55 })).toEqual([1]);
    // Temperature 0.5 squares the probabilities: 0.16/0.30 = 0.53 >= 0.5.
    expect(keptBy({ topP: 0.5 })).toEqual([1, 3]);
    expect(keptBy({ temperature: 0.5, topP: 0.5 })).toEqual([1]);
    // min-p after top-p: nucleus {1,3,2}, then 0.2 < 0.6 × 0.4 is dropped.
    expect(keptBy({ topP: 0.75, minP: 0.6 })).toEqual([1, 3]);
    // Scores come out divided by the temperature, as transformers' TemperatureLogitsWarper does.
    const out = sampler({ temperature: 0.5, topK: 2 }, 4).processedLogits(l);
    expect(out[1]).toBeCloseTo(l[1]! / 0.5, 5);
    expect(out[0]).toBe(-Infinity);
  });

  it('never samples a filtered token', () => {
    const s = sampler({ seed: 5, topP: 0.6 }, 4);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(s.next(l));
    expect([...seen].sort()).toEqual([1, 3]);
    const t = sampler({ seed: 5, minP: 0.3, topK: 3 }, 4);
    const seen2 = new Set<number>();
    for (let i = 0; i < 2000; i++) seen2.add(t.next(l));
    expect([...seen2].sort()).toEqual([1, 2, 3]);
  });

  it('matches a full-sort reference on larger vocabularies', () => {
    const cases = [
      { temperature: 1, topK: 0, topP: 0.9, minP: 0 },
      { temperature: 0.7, topK: 50, topP: 0.9, minP: 0 },
      { temperature: 1.3, topK: 0, topP: 0.5, minP: 0.05 },
      { temperature: 1, topK: 300, topP: 1, minP: 0.01 },
      { temperature: 2, topK: 0, topP: 0.99, minP: 0 },
      { temperature: 0.6, topK: 20, topP: 0.95, minP: 0 },
      { temperature: 1, topK: 0, topP: 1, minP: 0.001 },
      { temperature: 5, topK: 0, topP: 0.5, minP: 0 }, // flat: a nucleus of ~half the vocabulary
      { temperature: 4, topK: 2000, topP: 0.7, minP: 0.2 },
    ];
    cases.forEach((p, c) => {
      const logits = randomLogits(4000, 100 + c, 1);
      const got = kept(sampler(p, 4000).processedLogits(logits));
      expect(got, JSON.stringify(p)).toEqual(referenceKept(logits, p));
    });
  });

  it('samples within the top-k set on a vocabulary scanned in ascending order', () => {
    // Ascending logits make every token beat the running threshold: the worst case for the scan.
    const V = 20_000;
    const l2 = new Float32Array(V);
    for (let i = 0; i < V; i++) l2[i] = i / 1000;
    const s = sampler({ seed: 9, topK: 50 }, V);
    expect(kept(s.processedLogits(l2))).toEqual(Array.from({ length: 50 }, (_, i) => V - 50 + i));
    for (let i = 0; i < 200; i++) expect(s.next(l2)).toBeGreaterThanOrEqual(V - 50);
  });
});

describe('TokenSampler: penalties', () => {
  it('repetition penalty follows transformers: positive / p, negative × p, once per token', () => {
    const l = f32([2, -2, 0.5, 3, 1.8, -1]);
    const s = sampler({ repetitionPenalty: 2, temperature: 1 }, 6);
    // Token 3 appears twice but is penalised once; prompt token 1 counts too; 5 is unseen.
    const out = s.processedLogits(l, [3, 3, 4], [1]);
    expect(out).toEqual(f32([2, -4, 0.5, 1.5, Math.fround(1.8) / 2, -1])); // float32, as the model emits
    const g = sampler({ repetitionPenalty: 2, greedy: true }, 6);
    expect(g.next(l)).toBe(3);
    expect(g.next(l, [3])).toBe(0); // 3 → 1.5 falls below 2
  });

  it('frequency and presence penalties (OpenAI) count output tokens only, after repetition penalty', () => {
    const l = f32([1, 1, 1, 1]);
    const s = sampler({ frequencyPenalty: 0.5, presencePenalty: 0.25 }, 4);
    expect(Array.from(s.processedLogits(l, [0, 0, 2], [1, 3]))).toEqual([-0.25, 1, 0.25, 1]);
    const both = sampler({ repetitionPenalty: 2, frequencyPenalty: 0.5 }, 4);
    expect(Array.from(both.processedLogits(f32([2, 1, 1, 1]), [0, 0]))).toEqual([0, 1, 1, 1]);
    // Counts do not leak into the next call.
    expect(Array.from(s.processedLogits(l, []))).toEqual([1, 1, 1, 1]);
  });
});

describe('TokenSampler: defaults', () => {
  it('with no settings samples at the studio defaults, temperature 0.7 and top-p 0.9', () => {
    const l = randomLogits(3000, 8, 1);
    const studio = new TokenSampler({}, 3000).processedLogits(l);
    expect(studio).toEqual(sampler({ temperature: 0.7, topP: 0.9 }, 3000).processedLogits(l));
    expect(kept(studio).length).toBeLessThan(kept(sampler({}, 3000).processedLogits(l)).length);
  });
});
