// Log-probabilities of the raw model distribution: log-sum-exp, log-softmax, the k most likely tokens.
import { EXP_K, EXP_T_MAX, exp2Scaled } from './fast-exp.ts';
import { scratch } from './scratch.ts';
import { maxLogit, selectTopK } from './top-k.ts';

/** Σ exp(l[i] - max) for max >= every l[i]; -Infinity and NaN entries add 0. */
function sumExp(l: Float32Array, max: number): number {
  const V = l.length;
  const V4 = V & ~3;
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i < V4; i += 4) {
    const t0 = (max - l[i]!) * EXP_K;
    const t1 = (max - l[i + 1]!) * EXP_K;
    const t2 = (max - l[i + 2]!) * EXP_K;
    const t3 = (max - l[i + 3]!) * EXP_K;
    s0 += (t0 < EXP_T_MAX ? exp2Scaled(t0) : 0) + (t1 < EXP_T_MAX ? exp2Scaled(t1) : 0);
    s1 += (t2 < EXP_T_MAX ? exp2Scaled(t2) : 0) + (t3 < EXP_T_MAX ? exp2Scaled(t3) : 0);
  }
  for (; i < V; i++) {
    const t = (max - l[i]!) * EXP_K;
    if (t < EXP_T_MAX) s0 += exp2Scaled(t);
  }
  return s0 + s1;
}

/** log Σ exp(logits), NaN entries ignored (-Infinity when nothing is above -Infinity). */
export function logSumExp(logits: Float32Array): number {
  const max = maxLogit(logits);
  if (!Number.isFinite(max)) return max;
  return max + Math.log(sumExp(logits, max));
}

/** log-softmax of one row of logits. */
export function logSoftmax(logits: Float32Array): Float32Array {
  const lse = logSumExp(logits);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

export interface TokenLogprob {
  id: number;
  logprob: number;
}

/** The k most likely tokens with their log-probabilities, most likely first (ties: lower id first). */
export function topLogprobs(logits: Float32Array, k: number): TokenLogprob[] {
  if (!Number.isSafeInteger(k) || k < 0) throw new Error(`topLogprobs: k must be a non-negative integer, got ${String(k)}`);
  const V = logits.length;
  k = Math.min(k, V);
  if (k === 0) return [];
  const s = scratch(V);
  const n = selectTopK(logits, V, k, s.idx, s.vals);
  const ids = Array.from(s.idx.subarray(0, n));
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  const lse = logSumExp(logits);
  return ids.slice(0, k).map((id) => ({ id, logprob: logits[id]! - lse }));
}
