import { describe, expect, it } from 'vitest';
import { Rng, randomSeed, splitmix64 } from './rng.ts';

describe('Rng', () => {
  it('matches the xoshiro128** reference output', () => {
    // Reference values from the authors' C implementation with state {1, 2, 3, 4}.
    const rng = new Rng(0);
    rng.setState(1, 2, 3, 4);
    const first = Array.from({ length: 8 }, () => rng.nextUint32());
    expect(first).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
    let last = 0;
    for (let i = 8; i < 1000; i++) last = rng.nextUint32();
    expect(last).toBe(3170714187);
  });

  it('matches the splitmix64 reference output', () => {
    let state = 0n;
    const out: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const r = splitmix64(state);
      state = r.state;
      out.push(r.value);
    }
    expect(out).toEqual([16294208416658607535n, 7960286522194355700n, 487617019471545679n]);
  });

  it('is reproducible per (seed, stream) and differs across seeds and streams', () => {
    const draw = (seed: number, stream: number) => {
      const rng = new Rng(seed, stream);
      return Array.from({ length: 16 }, () => rng.next());
    };
    expect(draw(42, 0)).toEqual(draw(42, 0));
    expect(draw(42, 0)).not.toEqual(draw(43, 0));
    expect(draw(42, 0)).not.toEqual(draw(42, 1));
    expect(draw(2 ** 53 - 1, 7)).toEqual(draw(2 ** 53 - 1, 7));
    // Seeds that differ only above bit 32 must still give different streams.
    expect(draw(1, 0)).not.toEqual(draw(1 + 2 ** 32, 0));
  });

  it('returns uniform doubles in [0, 1)', () => {
    const rng = new Rng(7);
    const bins = new Array<number>(10).fill(0);
    const N = 100_000;
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < N; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      bins[Math.floor(u * 10)]!++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / N - 0.5)).toBeLessThan(0.005);
    for (const b of bins) expect(Math.abs(b / N - 0.1)).toBeLessThan(0.005);
  });

  it('rejects bad seeds with one clear line', () => {
    expect(() => new Rng(-1)).toThrow('Rng: seed must be a non-negative safe integer, got -1');
    expect(() => new Rng(1.5)).toThrow(/seed/);
    expect(() => new Rng(1, Number.NaN)).toThrow(/stream/);
  });

  it('draws random seeds within the safe-integer range', () => {
    const a = randomSeed();
    expect(Number.isSafeInteger(a) && a >= 0).toBe(true);
    expect(new Set(Array.from({ length: 8 }, randomSeed)).size).toBeGreaterThan(1);
  });
});
