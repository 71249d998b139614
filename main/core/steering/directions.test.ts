// Direction math against naive float64 versions and hand-computed cases.
import { describe, it, expect } from 'vitest';
import { meanDifference, pcaOfDifferences } from './directions.ts';
import { auc, separation } from './separation.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
const matrix = (rows: number, hidden: number, seed: number, shift: number[] = []) => {
  const r = rng(seed);
  return Float32Array.from({ length: rows * hidden }, (_, i) => r() + (shift[i % hidden] ?? 0));
};

/** Symmetric eigen-decomposition by cyclic Jacobi rotations: the textbook method, float64. */
function jacobiTopEigen(a: number[][]): { value: number; vector: number[] } {
  const n = a.length;
  const m = a.map((r) => [...r]);
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Number(i === j)));
  for (let sweep = 0; sweep < 100; sweep++) {
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p]![q]!) < 1e-15) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * m[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k]![p]!,
            mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p]![k]!,
            mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!,
            vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (m[i]![i]! > m[best]![best]!) best = i;
  return { value: m[best]![best]!, vector: v.map((r) => r[best]!) };
}

describe('mean difference', () => {
  it('equals a naive float64 version', () => {
    const h = 7;
    const pos = matrix(13, h, 1, [2, 0, 0, -1]);
    const neg = matrix(9, h, 2);
    const got = meanDifference(pos, neg, h);
    for (let k = 0; k < h; k++) {
      let sp = 0,
        sn = 0;
      for (let i = 0; i < 13; i++) sp += pos[i * h + k]!;
      for (let i = 0; i < 9; i++) sn += neg[i * h + k]!;
      expect(got[k]).toBeCloseTo(sp / 13 - sn / 9, 6);
    }
  });
  it('refuses an empty side and ragged rows', () => {
    expect(() => meanDifference(new Float32Array(0), new Float32Array(3), 3)).toThrow(
      'mean difference needs both sides (positive 0, negative 1 rows)',
    );
    expect(() => meanDifference(new Float32Array(4), new Float32Array(3), 3)).toThrow('4 values are not rows of 3');
  });
});

describe('PCA of paired differences', () => {
  it('finds the top eigenvector of Σ d dᵀ (Jacobi reference), signed by the majority', () => {
    const h = 6,
      n = 40;
    const r = rng(3);
    // differences = a strong axis (scaled by a varying amount, mostly positive) + small noise
    const axis = [0.6, -0.3, 0.5, 0.1, 0, -0.5];
    const neg = matrix(n, h, 4);
    const pos = Float32Array.from(
      neg,
      (x, i) => x + axis[i % h]! * (1 + 3 * Math.abs(r()) * (Math.floor(i / h) % 5 === 0 ? -1 : 1)) + 0.05 * r(),
    );
    const got = pcaOfDifferences(pos, neg, h);

    const d = Array.from({ length: n }, (_, i) => Array.from({ length: h }, (_, k) => pos[i * h + k]! - neg[i * h + k]!));
    const cov = Array.from({ length: h }, (_, a) => Array.from({ length: h }, (_, b) => d.reduce((s, row) => s + row[a]! * row[b]!, 0)));
    const top = jacobiTopEigen(cov);
    const trace = cov.reduce((s, row, i) => s + row[i]!, 0);
    const len = Math.hypot(...got.vector);
    const cos = top.vector.reduce((s, x, k) => s + x * got.vector[k]!, 0) / len;
    expect(Math.abs(cos)).toBeGreaterThan(1 - 1e-6);
    expect(got.explainedVariance).toBeCloseTo(top.value / trace, 6);
    // sign: most differences project positive; length: their mean projection
    const proj = d.map((row) => row.reduce((s, x, k) => s + (x * got.vector[k]!) / len, 0));
    expect(proj.filter((x) => x > 0).length).toBeGreaterThan(n / 2);
    expect(got.agreement).toBeCloseTo(proj.filter((x) => x > 0).length / n, 12);
    expect(len).toBeCloseTo(Math.abs(proj.reduce((a, b) => a + b, 0) / n), 5);
  });

  it('with identical differences returns that difference', () => {
    const neg = matrix(5, 3, 9);
    const pos = Float32Array.from(neg, (x, i) => x + [1, 2, 2][i % 3]!);
    const got = pcaOfDifferences(pos, neg, 3);
    expect([...got.vector].map((x) => +x.toFixed(4))).toEqual([1, 2, 2]);
    expect(got.explainedVariance).toBe(1);
  });

  it('refuses unpaired or too few rows', () => {
    expect(() => pcaOfDifferences(new Float32Array(6), new Float32Array(3), 3)).toThrow('2 positive vs 1 negative');
    expect(() => pcaOfDifferences(new Float32Array(3), new Float32Array(3), 3)).toThrow('at least 2 pairs, got 1');
    expect(() => pcaOfDifferences(new Float32Array(6), new Float32Array(6), 3)).toThrow('identical');
  });
});

describe('separation statistics', () => {
  it('AUC equals the pairwise count with ties as ½', () => {
    const r = rng(5);
    const p = Array.from({ length: 31 }, () => Math.round(r() * 8));
    const n = Array.from({ length: 17 }, () => Math.round(r() * 8) - 1);
    let wins = 0;
    for (const a of p) for (const b of n) wins += a > b ? 1 : a === b ? 0.5 : 0;
    expect(auc(p, n)).toBeCloseTo(wins / (p.length * n.length), 12);
    expect(auc([1, 2], [3, 4])).toBe(0);
    expect(auc([5], [5])).toBe(0.5);
  });

  it("Cohen's d and the gap by hand", () => {
    // projections on (1,0): positive 2,4,6 (mean 4, ss 8), negative 0,2 (mean 1, ss 2); pooled sd = sqrt(10/3)
    const s = separation(Float32Array.from([2, 9, 4, 9, 6, 9]), Float32Array.from([0, 1, 2, 1]), 2, Float32Array.from([3, 0]));
    expect(s.projectionGap).toBeCloseTo(3, 12);
    expect(s.cohenD).toBeCloseTo(3 / Math.sqrt(10 / 3), 12);
    expect(s.auc).toBeCloseTo(5.5 / 6, 12); // 2 vs 2 is a tie
    expect(separation(Float32Array.from([1, 1]), Float32Array.from([0, 0]), 1, Float32Array.from([1])).cohenD).toBe(1e6);
  });
});
