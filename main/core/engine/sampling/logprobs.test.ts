import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { expNonPositive } from './fast-exp.ts';
import { logSoftmax, logSumExp, topLogprobs } from './logprobs.ts';
import { f32, softmax } from '../test-support/logits.ts';

describe('log-probabilities', () => {
  it('expNonPositive matches Math.exp to 1e-12 relative', () => {
    const rng = new Rng(3);
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = -rng.next() * 700;
      worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
    }
    expect(worst).toBeLessThan(1e-12);
    expect(expNonPositive(0)).toBe(1);
    expect(expNonPositive(-Infinity)).toBe(0);
  });

  it('logSoftmax normalises and topLogprobs returns the best k in order', () => {
    const l = f32([0.5, 2, -1, 2, 1]);
    const ls = logSoftmax(l);
    const p = softmax(l);
    ls.forEach((v, i) => expect(v).toBeCloseTo(Math.log(p[i]!), 6));
    expect(logSumExp(l)).toBeCloseTo(Math.log(l.reduce((a, v) => a + Math.exp(v), 0)), 10);
    const top = topLogprobs(l, 3);
    expect(top.map((t) => t.id)).toEqual([1, 3, 4]);
    expect(top[0]!.logprob).toBeCloseTo(Math.log(p[1]!), 6);
    expect(topLogprobs(l, 0)).toEqual([]);
    expect(topLogprobs(l, 10).map((t) => t.id)).toEqual([1, 3, 4, 0, 2]);
  });
});
