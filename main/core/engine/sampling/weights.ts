// Softmax weights over the vocabulary, relative to the top token (w = p_i / p_max), and the walks
// over them: summing, binning by magnitude for top-p, thresholding and drawing.
// The hot loops live in small top-level functions so that V8 optimises each on its own.
import { EXP_SHIFT, EXP_T_MAX, exp2Scaled } from './fast-exp.ts';

/** Tokens more than this many nats (after temperature) below the top one are skipped when sampling:
 *  together they carry < 152k·e^-50 ≈ 3e-17 of the mass, below double resolution near 1. */
export const NEGLIGIBLE_NATS = 50;

/** Top-p histogram: weights binned by t >> HIST_SHIFT, i.e. 8 bins per halving of probability. */
export const HIST_SHIFT = EXP_SHIFT - 3;
export const HIST_SIZE = (Math.ceil(EXP_T_MAX) >> HIST_SHIFT) + 2;

/** Dense weights w[i] = 2^(-t / EXP_SUB), t = (lmax - l[i]) · scale, or 0 when t > tCut; returns Σ w.
 *  Unrolled by four so independent lanes keep the FPU busy (once ~15% faster in V8; bench/sampling.ts
 *  found no difference on a loaded 2-core VM — measure on a quiet machine before relying on it). */
export function denseWeights(l: Float32Array, lmax: number, scale: number, tCut: number, w: Float64Array): number {
  const V = l.length;
  const V4 = V & ~3;
  let total = 0;
  let i = 0;
  for (; i < V4; i += 4) {
    const t0 = (lmax - l[i]!) * scale;
    const t1 = (lmax - l[i + 1]!) * scale;
    const t2 = (lmax - l[i + 2]!) * scale;
    const t3 = (lmax - l[i + 3]!) * scale;
    const e0 = t0 <= tCut ? exp2Scaled(t0) : 0;
    const e1 = t1 <= tCut ? exp2Scaled(t1) : 0;
    const e2 = t2 <= tCut ? exp2Scaled(t2) : 0;
    const e3 = t3 <= tCut ? exp2Scaled(t3) : 0;
    w[i] = e0;
    w[i + 1] = e1;
    w[i + 2] = e2;
    w[i + 3] = e3;
    total += e0 + e1 + (e2 + e3);
  }
  for (; i < V; i++) {
    const t = (lmax - l[i]!) * scale;
    const e = t <= tCut ? exp2Scaled(t) : 0;
    w[i] = e;
    total += e;
  }
  return total;
}

/** denseWeights, also summing weights per top-p bin b = t >> HIST_SHIFT into hist[4b + lane]:
 *  four lanes, so that consecutive tokens landing in one bin do not wait on each other's update. */
export function denseWeightsBinned(
  l: Float32Array,
  lmax: number,
  scale: number,
  tCut: number,
  w: Float64Array,
  hist: Float64Array,
): number {
  hist.fill(0);
  const V = l.length;
  const V4 = V & ~3;
  let total = 0;
  let i = 0;
  for (; i < V4; i += 4) {
    const t0 = (lmax - l[i]!) * scale;
    const t1 = (lmax - l[i + 1]!) * scale;
    const t2 = (lmax - l[i + 2]!) * scale;
    const t3 = (lmax - l[i + 3]!) * scale;
    let e0 = 0;
    let e1 = 0;
    let e2 = 0;
    let e3 = 0;
    if (t0 <= tCut) hist[((t0 | 0) >> HIST_SHIFT) << 2]! += e0 = exp2Scaled(t0);
    if (t1 <= tCut) hist[(((t1 | 0) >> HIST_SHIFT) << 2) | 1]! += e1 = exp2Scaled(t1);
    if (t2 <= tCut) hist[(((t2 | 0) >> HIST_SHIFT) << 2) | 2]! += e2 = exp2Scaled(t2);
    if (t3 <= tCut) hist[(((t3 | 0) >> HIST_SHIFT) << 2) | 3]! += e3 = exp2Scaled(t3);
    w[i] = e0;
    w[i + 1] = e1;
    w[i + 2] = e2;
    w[i + 3] = e3;
    total += e0 + e1 + (e2 + e3);
  }
  for (; i < V; i++) {
    const t = (lmax - l[i]!) * scale;
    let e = 0;
    if (t <= tCut) hist[((t | 0) >> HIST_SHIFT) << 2]! += e = exp2Scaled(t);
    w[i] = e;
    total += e;
  }
  return total;
}

/**
 * After denseWeightsBinned: compacts the tokens of bins <= b (all a nucleus ending in bin b can
 * hold) into idx/w[0..m) in place and lists bin b's own tokens in sub/vals[0..q); writes
 * counts = [m, q]. t is recomputed exactly as when binning; for t >= 0, bin <= b ⇔ t < (b+1) << HIST_SHIFT.
 */
export function compactBins(
  l: Float32Array,
  lmax: number,
  scale: number,
  tCut: number,
  b: number,
  idx: Int32Array,
  w: Float64Array,
  sub: Int32Array,
  vals: Float64Array,
  counts: Int32Array,
): void {
  const tLo = b << HIST_SHIFT;
  const tHi = (b + 1) << HIST_SHIFT;
  let m = 0;
  let q = 0;
  for (let i = 0; i < l.length; i++) {
    const t = (lmax - l[i]!) * scale;
    if (t < tHi && t <= tCut) {
      const x = w[i]!;
      idx[m] = i;
      w[m] = x;
      m++;
      if (t >= tLo) {
        sub[q] = i;
        vals[q] = x;
        q++;
      }
    }
  }
  counts[0] = m;
  counts[1] = q;
}

/** Σ w[j] over j < n with w[j] >= tau. */
export function massAtLeast(w: Float64Array, n: number, tau: number): number {
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const x = w[j]!;
    if (x >= tau) sum += x;
  }
  return sum;
}

/** massAtLeast that also zeroes the weights below tau (so a dense walk can ignore tau). */
export function zeroBelow(w: Float64Array, n: number, tau: number): number {
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const x = w[j]!;
    if (x >= tau) sum += x;
    else w[j] = 0;
  }
  return sum;
}

/** Walks the survivors (w >= tau, w > 0) until the cumulative weight passes u; -1 if none. */
export function pick(w: Float64Array, n: number, tau: number, u: number): number {
  let last = -1;
  for (let j = 0; j < n; j++) {
    const x = w[j]!;
    if (x >= tau && x > 0) {
      u -= x;
      last = j;
      if (u < 0) break;
    }
  }
  return last;
}

/** pick over dense weights whose non-survivors are 0: skips four at a time. */
export function pickDense(w: Float64Array, n: number, u: number): number {
  const n4 = n & ~3;
  let j = 0;
  for (; j < n4; j += 4) {
    const s = w[j]! + w[j + 1]! + (w[j + 2]! + w[j + 3]!);
    if (u < s) break;
    u -= s;
  }
  for (; j < n; j++) {
    const x = w[j]!;
    if (x > 0) {
      u -= x;
      if (u < 0) return j;
    }
  }
  // Rounding carried u past the end: the last token with weight.
  for (j = n - 1; j >= 0; j--) if (w[j]! > 0) return j;
  return -1;
}
