// Persona directions from pooled activations of one layer: difference of means, and the first
// principal component of paired differences (repeng's "pca_diff"). Inputs are row-major
// [rows × hidden] float32 matrices; everything accumulates in float64.

/** Rows of a [count × hidden] matrix as views. */
function rowsOf(m: Float32Array, hidden: number): Float32Array[] {
  if (hidden <= 0 || m.length % hidden !== 0) throw new Error(`activations: ${m.length} values are not rows of ${hidden}`);
  const out: Float32Array[] = [];
  for (let i = 0; i < m.length; i += hidden) out.push(m.subarray(i, i + hidden));
  return out;
}

function mean(rows: Float32Array[], hidden: number): Float64Array {
  const acc = new Float64Array(hidden);
  for (const r of rows) for (let k = 0; k < hidden; k++) acc[k]! += r[k]!;
  for (let k = 0; k < hidden; k++) acc[k]! /= rows.length;
  return acc;
}

/** Σ a·b (in float64, as JS numbers are). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** mean(positive) − mean(negative). */
export function meanDifference(positive: Float32Array, negative: Float32Array, hidden: number): Float32Array {
  const p = rowsOf(positive, hidden);
  const n = rowsOf(negative, hidden);
  if (p.length === 0 || n.length === 0)
    throw new Error(`mean difference needs both sides (positive ${p.length}, negative ${n.length} rows)`);
  const mp = mean(p, hidden);
  const mn = mean(n, hidden);
  return Float32Array.from(mp, (x, k) => x - mn[k]!);
}

export interface PcaDirection {
  /**
   * The first principal component of the paired differences, signed so most pairs project positive,
   * scaled by the mean projection of the differences on it (so its length compares with a mean
   * difference's, and raw-scale α means the same for both methods).
   */
  vector: Float32Array;
  /** Share of the differences' second moment Σ|d_i|² that the component explains, 0..1. */
  explainedVariance: number;
  /** Share of pairs whose difference projects positive on the final direction. */
  agreement: number;
}

/**
 * PCA of paired differences d_i = positive_i − negative_i (rows paired by index): the top
 * eigenvector of Σ d_i d_iᵀ, by power iteration in float64. Not centred: centring (as sklearn's PCA,
 * and so repeng's pca_diff, does) removes the mean difference — the persona itself — and leaves the
 * component to whatever varies between pairs; on the demo model that cut the held-out AUC of the
 * middle layers from about 1.0 to 0.53–0.66.
 */
export function pcaOfDifferences(positive: Float32Array, negative: Float32Array, hidden: number, iterations = 300): PcaDirection {
  const p = rowsOf(positive, hidden);
  const n = rowsOf(negative, hidden);
  if (p.length !== n.length) throw new Error(`PCA pairs positive and negative rows: ${p.length} positive vs ${n.length} negative`);
  if (p.length < 2) throw new Error(`PCA needs at least 2 pairs, got ${p.length}`);
  const diffs = p.map((r, i) => Float64Array.from(r, (x, k) => x - n[i]![k]!));
  const mu = new Float64Array(hidden);
  for (const d of diffs) for (let k = 0; k < hidden; k++) mu[k]! += d[k]! / diffs.length;
  let total = 0;
  for (const d of diffs) total += dot(d, d);
  let spread = 0; // second moment about the mean: zero when every pair differs by the same vector
  for (const d of diffs) for (let k = 0; k < hidden; k++) spread += (d[k]! - mu[k]!) ** 2;

  // Power iteration v ← Cᵀ(C v); start from a fixed non-degenerate vector so results are reproducible.
  let v: Float64Array = Float64Array.from({ length: hidden }, (_, k) => 1 + ((k * 0.61803398875) % 1));
  let lambda = 0;
  if (total === 0) throw new Error('PCA: positive and negative activations are identical');
  // Differences equal up to float32 rounding: their mean is the component (and explains everything).
  const degenerate = spread <= 1e-10 * total;
  for (let it = 0; !degenerate && it < iterations; it++) {
    const next = new Float64Array(hidden);
    for (const d of diffs) {
      const s = dot(d, v);
      for (let k = 0; k < hidden; k++) next[k]! += s * d[k]!;
    }
    const len = Math.sqrt(dot(next, next));
    if (len === 0) break;
    for (let k = 0; k < hidden; k++) next[k]! /= len;
    lambda = len;
    v = next;
  }
  if (degenerate || lambda === 0) {
    // Every pair differs by the same vector: that vector is the direction.
    const len = Math.sqrt(dot(mu, mu));
    v = mu.map((x) => x / len);
  }
  // Majority sign, then scale by the mean projection of the (uncentred) differences.
  const projections = diffs.map((d) => dot(d, v));
  const positiveShare = projections.filter((x) => x > 0).length / projections.length;
  const sign = positiveShare >= 0.5 ? 1 : -1;
  const meanProj = (sign * projections.reduce((a, b) => a + b, 0)) / projections.length;
  return {
    vector: Float32Array.from(v, (x) => sign * x * Math.abs(meanProj)),
    explainedVariance: degenerate || total === 0 ? 1 : lambda / total,
    agreement: sign === 1 ? positiveShare : 1 - positiveShare,
  };
}
