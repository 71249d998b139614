import { describe, expect, it } from 'vitest';
import { f16ToF32 } from '../checkpoint/dtype.ts';
import {
  blockCount,
  dequantizeNBits,
  nbitsAttrs,
  nbitsScalesF16,
  nbitsShapes,
  nbitsZeroPoints,
  quantizeNBits,
  zeroPoint,
  type NBits,
} from './nbits.ts';
import { gaussian } from './test-data.ts';

/** The code stored for element (n, k), read straight from the packed bytes. */
function code(q: ReturnType<typeof quantizeNBits>, n: number, k: number): number {
  const nb = blockCount(q.K, q.blockSize);
  const blob = (q.blockSize * q.bits) / 8;
  const b = Math.floor(k / q.blockSize);
  const j = k % q.blockSize;
  const byte = q.packed[(n * nb + b) * blob + (q.bits === 8 ? j : j >> 1)]!;
  return q.bits === 8 ? byte : (byte >> ((j & 1) * 4)) & 0xf;
}

describe('quantizeNBits layout', () => {
  it('packs 4-bit codes two to a byte, even element in the low nibble, zero point 8', () => {
    const w = new Float32Array(32);
    w.set([-7, 7, 0, 1, 3.4, -3.6]); // absmax 7 -> scale 1
    const q = quantizeNBits(w, 1, 32, 4);
    expect(q.scales[0]).toBe(1);
    expect(Array.from(q.packed.subarray(0, 3))).toEqual([0xf1, 0x98, 0x4b]); // codes 1,15 | 8,9 | 11,4
    expect(Array.from(q.packed.subarray(3))).toEqual(new Array(13).fill(0x88));
    expect(nbitsShapes(q)).toEqual({ B: [1, 1, 16], scales: [1, 1] });
  });

  it('stores 8-bit codes one per byte with zero point 128', () => {
    const w = new Float32Array(16);
    w.set([-127, 127, 0, 1, -2.5]); // absmax 127 -> scale 1
    const q = quantizeNBits(w, 1, 16, 8, 16);
    expect(zeroPoint(8)).toBe(128);
    expect(q.scales[0]).toBe(1);
    expect(Array.from(q.packed.subarray(0, 5))).toEqual([1, 255, 128, 129, 126]); // round(-2.5) = -2
    expect(nbitsShapes(q)).toEqual({ B: [1, 1, 16], scales: [1, 1] });
  });

  it('orders blocks along K within each output row', () => {
    const N = 3,
      K = 70;
    const w = gaussian(N * K, 11);
    for (const bits of [4, 8] as const) {
      const q = quantizeNBits(w, N, K, bits, 32);
      expect(q.packed.length).toBe((N * 3 * (32 * bits)) / 8);
      expect(q.scales.length).toBe(N * 3);
      for (let n = 0; n < N; n++) {
        for (let b = 0; b < 3; b++) {
          let absmax = 0;
          for (let k = b * 32; k < Math.min(K, b * 32 + 32); k++) absmax = Math.max(absmax, Math.abs(w[n * K + k]!));
          expect(q.scales[n * 3 + b]).toBe(Math.fround(absmax / (zeroPoint(bits) - 1)));
        }
      }
      expect(nbitsAttrs(q, 4)).toEqual({ K, N, bits, block_size: 32, accuracy_level: 4 });
    }
  });

  it('pads the last block with the zero point when K is not a multiple of the block size', () => {
    const N = 2,
      K = 40;
    for (const bits of [4, 8] as const) {
      const q = quantizeNBits(gaussian(N * K, 3), N, K, bits, 32);
      for (let n = 0; n < N; n++) {
        for (let k = K; k < 64; k++) expect(code(q, n, k)).toBe(zeroPoint(bits));
      }
    }
  });

  it('gives an all-zero block scale 0 and dequantises it to exact zeros', () => {
    const K = 64;
    const w = gaussian(K, 5);
    w.fill(0, 0, 32);
    for (const bits of [4, 8] as const) {
      const q = quantizeNBits(w, 1, K, bits);
      expect(q.scales[0]).toBe(0);
      const deq = dequantizeNBits(q);
      for (let k = 0; k < 32; k++) expect(Object.is(deq[k], 0) || Object.is(deq[k], -0)).toBe(true);
      expect(deq.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('quantisation error', () => {
  const cases: [NBits, number, number][] = [];
  for (const bits of [4, 8] as const) for (const bs of [16, 32, 64, 128]) for (const K of [16, 40, 96, 130]) cases.push([bits, bs, K]);

  it.each(cases)('bits %i, block %i, K %i: |w - deq| <= scale/2', (bits, bs, K) => {
    const N = 5;
    // One row with an outlier so its blocks have coarse scales next to fine ones.
    const w = gaussian(N * K, bits * 1000 + bs + K);
    w[2 * K + (K >> 1)] = 3;
    const q = quantizeNBits(w, N, K, bits, bs);
    const deq = dequantizeNBits(q);
    const nb = blockCount(K, bs);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const s = q.scales[n * nb + Math.floor(k / bs)]!;
        expect(Math.abs(w[n * K + k]! - deq[n * K + k]!)).toBeLessThanOrEqual(s / 2 + s * 1e-6);
      }
    }
  });

  it('with float16 scales keeps the bound and converts the scales losslessly', () => {
    const N = 4,
      K = 96;
    const w = gaussian(N * K, 21, 0.02);
    w.fill(1e-7, 0, 32); // scale falls in the float16 subnormal range
    for (const bits of [4, 8] as const) {
      const q = quantizeNBits(w, N, K, bits, 32, { scales: 'f16' });
      const h = nbitsScalesF16(q);
      expect(Array.from(f16ToF32(h))).toEqual(Array.from(q.scales));
      const deq = dequantizeNBits(q);
      for (let i = 0; i < w.length; i++) {
        const s = q.scales[Math.floor((i % K) / 32) + Math.floor(i / K) * 3]!;
        expect(Math.abs(w[i]! - deq[i]!)).toBeLessThanOrEqual(s / 2 + s * 1e-6);
      }
    }
  });

  it('refuses to turn float32 scales into float16 silently', () => {
    const q = quantizeNBits(gaussian(64, 2), 1, 64, 4);
    expect(() => nbitsScalesF16(q)).toThrow(/not a float16 value/);
  });
});

describe('quantizeNBits input checks', () => {
  const w = gaussian(64, 1);
  it('names the tensor and the problem', () => {
    expect(() => quantizeNBits(w, 2, 33, 4, 32, { label: 'layers.0.q_proj' })).toThrow(
      'quantize layers.0.q_proj: has 64 values, [N=2, K=33] needs 66',
    );
    expect(() => quantizeNBits(w, 2, 32, 2 as NBits)).toThrow(/bits=2 is not supported/);
    expect(() => quantizeNBits(w, 2, 32, 4, 48)).toThrow(/block size 48 is not one of 16, 32, 64, 128/);
    expect(() => quantizeNBits(w, 0, 64, 4)).toThrow(/N=0, K=64 must be positive integers/);
    const bad = w.slice();
    bad[37] = Number.NaN;
    expect(() => quantizeNBits(bad, 2, 32, 8, 32, { label: 'lm_head' })).toThrow('quantize lm_head: value at [1, 5] is NaN');
  });

  it('refuses a scale that float16 cannot hold', () => {
    const big = new Float32Array(32).fill(1e6);
    expect(() => quantizeNBits(big, 1, 32, 4, 32, { scales: 'f16' })).toThrow(/does not fit in float16/);
  });
});

describe('quantisation schemes', () => {
  const relErr = (w: Float32Array, q: ReturnType<typeof quantizeNBits>) => {
    const d = dequantizeNBits(q);
    let e = 0,
      n = 0;
    for (let i = 0; i < w.length; i++) {
      e += (d[i]! - w[i]!) ** 2;
      n += w[i]! ** 2;
    }
    return Math.sqrt(e / n);
  };

  it("'signed' is llama.cpp's Q4_0 rule: the largest magnitude maps to code 0 with a negative scale when positive", () => {
    const w = new Float32Array(32);
    w.set([8, -4, 1, 0.49]); // signed max 8 -> scale -1: 8 -> code 0, -4 -> 12, 1 -> 7, 0.49 -> 8
    const q = quantizeNBits(w, 1, 32, 4, 32, { scheme: 'signed' });
    expect(q.scales[0]).toBe(-1);
    expect([0, 1, 2, 3].map((k) => code(q, 0, k))).toEqual([0, 12, 7, 8]);
    expect(Array.from(dequantizeNBits(q).subarray(0, 4))).toEqual([8, -4, 1, -0]);
    expect(q.zeroPoints).toBeUndefined();
  });

  it("'asymmetric' places a per-block zero point so min..max spans all codes, packed two per byte", () => {
    const K = 64;
    const w = new Float32Array(K);
    for (let k = 0; k < 32; k++) w[k] = k / 31; // block 0: 0..1 -> zero point 0
    for (let k = 32; k < K; k++) w[k] = -(k - 32) / 31; // block 1: -1..0 -> zero point 15
    const q = quantizeNBits(w, 1, K, 4, 32, { scheme: 'asymmetric' });
    expect(Array.from(q.zeroPoints!)).toEqual([0, 15]);
    expect(nbitsZeroPoints(q)).toEqual({ data: Uint8Array.of(0xf0), dims: [1, 1] });
    expect(code(q, 0, 31)).toBe(15);
    expect(code(q, 0, 63)).toBe(0);
  });

  it.each([4, 8] as const)('bits %i: signed and asymmetric have less weight error than symmetric on Gaussian weights', (bits) => {
    const w = gaussian(64 * 256, 5 + bits);
    const sym = relErr(w, quantizeNBits(w, 64, 256, bits, 32));
    const signed = relErr(w, quantizeNBits(w, 64, 256, bits, 32, { scheme: 'signed' }));
    const asym = relErr(w, quantizeNBits(w, 64, 256, bits, 32, { scheme: 'asymmetric' }));
    expect(signed).toBeLessThan(sym);
    expect(asym).toBeLessThan(sym);
  });

  it.each(['signed', 'asymmetric'] as const)(
    "%s with scales: 'f16' keeps float16-exact scales, uses all 16 codes, errs < one step",
    (scheme) => {
      // Both schemes clamp one end of the range (Q4_0 has 8 levels below zero, 7 above), so the
      // bound is one quantisation step, not half of one as for 'symmetric'.
      const w = gaussian(8 * 96, 77);
      const q = quantizeNBits(w, 8, 96, 4, 32, { scheme, scales: 'f16' });
      expect(Array.from(f16ToF32(nbitsScalesF16(q)))).toEqual(Array.from(q.scales));
      const d = dequantizeNBits(q);
      for (let i = 0; i < w.length; i++)
        expect(Math.abs(d[i]! - w[i]!)).toBeLessThanOrEqual(Math.abs(q.scales[Math.floor(i / 32)]!) + 1e-7);
      const codes = new Set<number>();
      for (let n = 0; n < 8; n++) for (let k = 0; k < 96; k++) codes.add(code(q, n, k));
      expect(codes.size).toBe(16);
    },
  );
});
