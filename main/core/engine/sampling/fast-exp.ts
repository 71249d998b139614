// e^x for x <= 0, behind every softmax weight of the sampler and the log-probabilities.
// Math.exp costs ~10–15 ns in V8 (1.5 ms over a 152k vocabulary); a 2^(-j/1024) table, a
// power-of-two table and a 4-term series do it 2–4× faster (bench/sampling.ts) with relative error
// < 1e-13, far below the float32 logits' own precision.
export const EXP_SHIFT = 10;
export const EXP_SUB = 1 << EXP_SHIFT;
export const EXP_K = EXP_SUB * Math.LOG2E; // t = -x · EXP_K, so e^x = 2^(-t / EXP_SUB)
const EXP_F = Math.LN2 / EXP_SUB;
export const EXP_T_MAX = 745 * EXP_K; // beyond: below the smallest double
const EXP_FRAC = new Float64Array(EXP_SUB);
for (let j = 0; j < EXP_SUB; j++) EXP_FRAC[j] = 2 ** (-j / EXP_SUB);
const EXP_POW2 = new Float64Array(1080);
for (let j = 0; j < EXP_POW2.length; j++) EXP_POW2[j] = 2 ** -j;

/** 2^(-t / EXP_SUB) for 0 <= t < EXP_T_MAX. */
export function exp2Scaled(t: number): number {
  const m = t | 0;
  const f = (t - m) * EXP_F; // in [0, ln2/1024): e^-f by a 4-term series
  return EXP_POW2[m >> EXP_SHIFT]! * EXP_FRAC[m & (EXP_SUB - 1)]! * (1 - f * (1 - f * (0.5 - f * (1 / 6))));
}

/** e^x for x <= 0 (0 below -745 and for NaN). */
export function expNonPositive(x: number): number {
  const t = -x * EXP_K;
  return t < EXP_T_MAX ? exp2Scaled(t) : 0;
}
