// Token selection for the decode loop. Order and meaning follow transformers' logits processors
// (repetition penalty → [OpenAI frequency/presence penalties] → temperature → top-k → top-p → min-p),
// computed without sorting the vocabulary: top-k is one threshold scan with periodic quickselect;
// top-p over the whole vocabulary bins the weights by magnitude and selects only inside the bin
// where the nucleus ends (a mass-tracking quickselect); every scratch buffer is reused.
// One deliberate difference: tokens tied at the top-p boundary are all kept (transformers keeps
// whichever its sort happens to put first).
import { z } from 'zod';
import { Rng, randomSeed } from './rng.ts';
import { fromZod } from '../errors.ts';

export const samplingSchema = z.strictObject({
  /** 0 means greedy. Scales logits as logits / temperature. */
  temperature: z.number().min(0).default(1),
  /** Keep the k highest logits (ties with the k-th kept, as in transformers); 0 disables. */
  topK: z.int().min(0).default(0),
  /** Keep the smallest set of most likely tokens whose probability sums to >= topP; 1 disables. */
  topP: z.number().gt(0).max(1).default(1),
  /** Drop tokens whose probability is below minP × the top token's probability; 0 disables. */
  minP: z.number().min(0).max(1).default(0),
  /** transformers semantics on every token of prompt + output: logit > 0 ? logit / p : logit × p. */
  repetitionPenalty: z.number().gt(0).default(1),
  /** OpenAI semantics on output tokens: logit -= count × frequencyPenalty. */
  frequencyPenalty: z.number().min(-2).max(2).default(0),
  /** OpenAI semantics on output tokens: logit -= presencePenalty once a token has appeared. */
  presencePenalty: z.number().min(-2).max(2).default(0),
  /** Makes sampling reproducible; a random seed is drawn (and exposed) when absent. */
  seed: z.int().min(0).optional(),
  /** Argmax of the penalised logits, whatever the temperature. */
  greedy: z.boolean().default(false),
});

export type SamplingParams = z.output<typeof samplingSchema>;
export type SamplingParamsInput = z.input<typeof samplingSchema>;

/** Parses sampling settings; bad input throws one line naming the field, e.g. "sampling.topP: …". */
export function parseSamplingParams(input: unknown, where = 'sampling'): SamplingParams {
  const result = samplingSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw fromZod('usage', result.error, where);
}

// ---------------------------------------------------------------------------------------------
// exp for x <= 0. Math.exp costs ~15 ns in V8 on this machine (~2.4 ms over a 152k vocabulary);
// a 2^(-j/1024) table, a power-of-two table and a 4-term series do it about 4× faster with relative
// error < 1e-13, far below the float32 logits' own precision.
const EXP_SHIFT = 10;
const EXP_SUB = 1 << EXP_SHIFT;
const EXP_K = EXP_SUB * Math.LOG2E; // t = -x · EXP_K, so e^x = 2^(-t / EXP_SUB)
const EXP_F = Math.LN2 / EXP_SUB;
const EXP_T_MAX = 745 * EXP_K; // beyond: below the smallest double
const EXP_FRAC = new Float64Array(EXP_SUB);
for (let j = 0; j < EXP_SUB; j++) EXP_FRAC[j] = 2 ** (-j / EXP_SUB);
const EXP_POW2 = new Float64Array(1080);
for (let j = 0; j < EXP_POW2.length; j++) EXP_POW2[j] = 2 ** -j;

/** 2^(-t / EXP_SUB) for 0 <= t < EXP_T_MAX. */
function exp2Scaled(t: number): number {
  const m = t | 0;
  const f = (t - m) * EXP_F; // in [0, ln2/1024): e^-f by a 4-term series
  return EXP_POW2[m >> EXP_SHIFT] * EXP_FRAC[m & (EXP_SUB - 1)] * (1 - f * (1 - f * (0.5 - f * (1 / 6))));
}

/** e^x for x <= 0 (0 below -745 and for NaN). Exported for tests. */
export function expNonPositive(x: number): number {
  const t = -x * EXP_K;
  return t < EXP_T_MAX ? exp2Scaled(t) : 0;
}

/** Tokens more than this many nats (after temperature) below the top one are skipped when sampling:
 *  together they carry < 152k·e^-50 ≈ 3e-17 of the mass, below double resolution near 1. */
const NEGLIGIBLE_NATS = 50;

/** Top-p histogram: weights binned by t >> HIST_SHIFT, i.e. 8 bins per halving of probability. */
const HIST_SHIFT = EXP_SHIFT - 3;
const HIST_SIZE = (Math.ceil(EXP_T_MAX) >> HIST_SHIFT) + 2;
const binCounts = new Int32Array(2);

// ---------------------------------------------------------------------------------------------
// Shared scratch: next() is synchronous and never re-entered, so every sampler of a thread can use
// the same buffers; they grow to the largest vocabulary seen.
class Scratch {
  readonly idx: Int32Array; // candidate token ids
  readonly w: Float64Array; // candidate weights p_i / p_max
  readonly vals: Float64Array; // quickselect workspace
  readonly stamp: Uint32Array; // "seen in this call" marks, compared with epoch
  readonly counts: Uint32Array; // output-token counts (reset after each call)
  readonly patchIds: Int32Array; // logits overwritten by penalties, restored before returning
  readonly patchVals: Float32Array;
  readonly sub: Int32Array; // top-p boundary bin: ids (weights in vals)
  readonly hist = new Float64Array(4 * HIST_SIZE); // top-p: weight per bin, in four lanes
  epoch = 0;
  constructor(readonly size: number) {
    this.idx = new Int32Array(size);
    this.w = new Float64Array(size);
    this.vals = new Float64Array(size);
    this.stamp = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.patchIds = new Int32Array(size);
    this.patchVals = new Float32Array(size);
    this.sub = new Int32Array(size);
  }
  nextEpoch(): number {
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }
}
let shared: Scratch | undefined;
function scratch(size: number): Scratch {
  if (!shared || shared.size < size) shared = new Scratch(size);
  return shared;
}

// ---------------------------------------------------------------------------------------------
// Selection helpers.

/** Value of the k-th largest (1-based) of a[0..n), reordering a. Hoare quickselect, median of 3. */
function kthLargest(a: Float64Array, n: number, k: number): number {
  const target = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const x = a[lo];
    const y = a[(lo + hi) >> 1];
    const zz = a[hi];
    const pivot = x > y ? (y > zz ? y : x > zz ? zz : x) : x > zz ? x : y > zz ? zz : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/** Keeps the ids in idx[0..n) whose logit is >= thr, in order; returns the new count. */
function keepAtLeast(l: Float32Array, idx: Int32Array, n: number, thr: number): number {
  let m = 0;
  for (let j = 0; j < n; j++) {
    const id = idx[j];
    if (l[id] >= thr) idx[m++] = id;
  }
  return m;
}

function kthLogit(l: Float32Array, idx: Int32Array, n: number, k: number, vals: Float64Array): number {
  for (let j = 0; j < n; j++) vals[j] = l[idx[j]];
  return kthLargest(vals, n, k);
}

/**
 * Writes into idx the ids whose logit is >= the k-th largest logit (ties kept, NaN skipped) and
 * returns their count. One pass over the vocabulary: ids at or above a running threshold are
 * buffered; when the buffer fills, quickselect raises the threshold and the buffer is compacted.
 * Eight logits are tested per branch, since almost all of them fall below the threshold.
 */
function selectTopK(l: Float32Array, V: number, k: number, idx: Int32Array, vals: Float64Array): number {
  const slack = Math.max(3 * k, 1024);
  let limit = Math.min(V, k + slack);
  let thr = -Infinity;
  let n = 0;
  const end8 = V & ~7;
  for (let i = 0; i < V; i += 8) {
    const stop = i < end8 ? i + 8 : V;
    if (
      i >= end8 ||
      l[i] >= thr || l[i + 1] >= thr || l[i + 2] >= thr || l[i + 3] >= thr ||
      l[i + 4] >= thr || l[i + 5] >= thr || l[i + 6] >= thr || l[i + 7] >= thr
    ) {
      for (let j = i; j < stop; j++) {
        if (l[j] >= thr) {
          idx[n++] = j;
          if (n === limit) {
            thr = kthLogit(l, idx, n, k, vals);
            n = keepAtLeast(l, idx, n, thr);
            limit = Math.min(V, n + slack);
          }
        }
      }
    }
  }
  if (n > k) n = keepAtLeast(l, idx, n, kthLogit(l, idx, n, k, vals));
  return n;
}

/**
 * Nucleus threshold: the weight τ such that the tokens with w >= τ are the smallest (most likely
 * first) set whose weights sum to >= target; ties at τ are all kept. Reorders idx/w in tandem with a
 * three-way partition that tracks the mass above the pivot, so the expected cost is linear in n.
 */
function nucleusThreshold(idx: Int32Array, w: Float64Array, n: number, target: number): number {
  let lo = 0;
  let hi = n;
  let acc = 0; // mass of the tokens already known to be in the nucleus
  while (hi - lo > 24) {
    const x = w[lo];
    const y = w[(lo + hi) >> 1];
    const zz = w[hi - 1];
    const pivot = x > y ? (y > zz ? y : x > zz ? zz : x) : x > zz ? x : y > zz ? zz : y;
    // [lo, lt) > pivot, [lt, i) == pivot, (gt, hi) < pivot
    let lt = lo;
    let i = lo;
    let gt = hi - 1;
    let massGt = 0;
    while (i <= gt) {
      const v = w[i];
      if (v > pivot) {
        massGt += v;
        swap(idx, w, i, lt);
        lt++;
        i++;
      } else if (v < pivot) {
        swap(idx, w, i, gt);
        gt--;
      } else {
        i++;
      }
    }
    if (acc + massGt >= target) {
      hi = lt;
      continue;
    }
    const massEq = (gt + 1 - lt) * pivot;
    if (acc + massGt + massEq >= target) return pivot;
    acc += massGt + massEq;
    lo = gt + 1;
  }
  // Small remainder: insertion sort descending, then walk.
  for (let i = lo + 1; i < hi; i++) {
    const wi = w[i];
    const ii = idx[i];
    let j = i - 1;
    while (j >= lo && w[j] < wi) {
      w[j + 1] = w[j];
      idx[j + 1] = idx[j];
      j--;
    }
    w[j + 1] = wi;
    idx[j + 1] = ii;
  }
  for (let i = lo; i < hi; i++) {
    acc += w[i];
    if (acc >= target) return w[i];
  }
  return hi > lo ? w[hi - 1] : w[lo]; // rounding left the target unreached: keep all of these
}

function swap(idx: Int32Array, w: Float64Array, a: number, b: number): void {
  const ti = idx[a];
  idx[a] = idx[b];
  idx[b] = ti;
  const tw = w[a];
  w[a] = w[b];
  w[b] = tw;
}

// The hot loops live in small top-level functions so that V8 optimises each on its own.

/** Dense weights w[i] = 2^(-t / EXP_SUB), t = (lmax - l[i]) · scale, or 0 when t > tCut; returns Σ w.
 *  Unrolled by four: independent lanes keep the FPU busy (~15% faster in V8). */
function denseWeights(l: Float32Array, lmax: number, scale: number, tCut: number, w: Float64Array): number {
  const V = l.length;
  const V4 = V & ~3;
  let total = 0;
  let i = 0;
  for (; i < V4; i += 4) {
    const t0 = (lmax - l[i]) * scale;
    const t1 = (lmax - l[i + 1]) * scale;
    const t2 = (lmax - l[i + 2]) * scale;
    const t3 = (lmax - l[i + 3]) * scale;
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
    const t = (lmax - l[i]) * scale;
    const e = t <= tCut ? exp2Scaled(t) : 0;
    w[i] = e;
    total += e;
  }
  return total;
}

/** denseWeights, also summing weights per top-p bin b = t >> HIST_SHIFT into hist[4b + lane]:
 *  four lanes, so that consecutive tokens landing in one bin do not wait on each other's update. */
function denseWeightsBinned(l: Float32Array, lmax: number, scale: number, tCut: number, w: Float64Array, hist: Float64Array): number {
  hist.fill(0);
  const V = l.length;
  const V4 = V & ~3;
  let total = 0;
  let i = 0;
  for (; i < V4; i += 4) {
    const t0 = (lmax - l[i]) * scale;
    const t1 = (lmax - l[i + 1]) * scale;
    const t2 = (lmax - l[i + 2]) * scale;
    const t3 = (lmax - l[i + 3]) * scale;
    let e0 = 0;
    let e1 = 0;
    let e2 = 0;
    let e3 = 0;
    if (t0 <= tCut) hist[((t0 | 0) >> HIST_SHIFT) << 2] += e0 = exp2Scaled(t0);
    if (t1 <= tCut) hist[(((t1 | 0) >> HIST_SHIFT) << 2) | 1] += e1 = exp2Scaled(t1);
    if (t2 <= tCut) hist[(((t2 | 0) >> HIST_SHIFT) << 2) | 2] += e2 = exp2Scaled(t2);
    if (t3 <= tCut) hist[(((t3 | 0) >> HIST_SHIFT) << 2) | 3] += e3 = exp2Scaled(t3);
    w[i] = e0;
    w[i + 1] = e1;
    w[i + 2] = e2;
    w[i + 3] = e3;
    total += e0 + e1 + (e2 + e3);
  }
  for (; i < V; i++) {
    const t = (lmax - l[i]) * scale;
    let e = 0;
    if (t <= tCut) hist[((t | 0) >> HIST_SHIFT) << 2] += e = exp2Scaled(t);
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
function compactBins(l: Float32Array, lmax: number, scale: number, tCut: number, b: number, idx: Int32Array, w: Float64Array, sub: Int32Array, vals: Float64Array, counts: Int32Array): void {
  const tLo = b << HIST_SHIFT;
  const tHi = (b + 1) << HIST_SHIFT;
  let m = 0;
  let q = 0;
  for (let i = 0; i < l.length; i++) {
    const t = (lmax - l[i]) * scale;
    if (t < tHi && t <= tCut) {
      const x = w[i];
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
function massAtLeast(w: Float64Array, n: number, tau: number): number {
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const x = w[j];
    if (x >= tau) sum += x;
  }
  return sum;
}

/** massAtLeast that also zeroes the weights below tau (so a dense walk can ignore tau). */
function zeroBelow(w: Float64Array, n: number, tau: number): number {
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const x = w[j];
    if (x >= tau) sum += x;
    else w[j] = 0;
  }
  return sum;
}

/** Walks the survivors (w >= tau, w > 0) until the cumulative weight passes u; -1 if none. */
function pick(w: Float64Array, n: number, tau: number, u: number): number {
  let last = -1;
  for (let j = 0; j < n; j++) {
    const x = w[j];
    if (x >= tau && x > 0) {
      u -= x;
      last = j;
      if (u < 0) break;
    }
  }
  return last;
}

/** pick over dense weights whose non-survivors are 0: skips four at a time. */
function pickDense(w: Float64Array, n: number, u: number): number {
  const n4 = n & ~3;
  let j = 0;
  for (; j < n4; j += 4) {
    const s = w[j] + w[j + 1] + (w[j + 2] + w[j + 3]);
    if (u < s) break;
    u -= s;
  }
  for (; j < n; j++) {
    const x = w[j];
    if (x > 0) {
      u -= x;
      if (u < 0) return j;
    }
  }
  // Rounding carried u past the end: the last token with weight.
  for (j = n - 1; j >= 0; j--) if (w[j] > 0) return j;
  return -1;
}

/** Index of the largest logit (lowest index on ties, NaN ignored); -1 when none is > -Infinity. */
export function argmax(l: Float32Array): number {
  let best = -Infinity;
  let at = -1;
  const V = l.length;
  const end8 = V & ~7;
  for (let i = 0; i < V; i += 8) {
    const stop = i < end8 ? i + 8 : V;
    if (
      i >= end8 ||
      l[i] > best || l[i + 1] > best || l[i + 2] > best || l[i + 3] > best ||
      l[i + 4] > best || l[i + 5] > best || l[i + 6] > best || l[i + 7] > best
    ) {
      for (let j = i; j < stop; j++) {
        if (l[j] > best) {
          best = l[j];
          at = j;
        }
      }
    }
  }
  return at;
}

/** Largest logit, ignoring NaN (-Infinity when there is none). */
function maxLogit(l: Float32Array): number {
  const at = argmax(l);
  return at < 0 ? -Infinity : l[at];
}

// ---------------------------------------------------------------------------------------------

export class TokenSampler {
  readonly params: SamplingParams;
  /** The seed in use (drawn at random when params.seed is absent) — record it for reproducibility. */
  readonly seed: number;
  private readonly rng: Rng;
  private readonly greedy: boolean;
  private readonly penalised: boolean;

  // Set by filter(). Sparse (top-k): s.idx/s.w[0..n) hold ids and weights p_i / p_max. Dense (no
  // top-k): s.w[i] is token i's weight (0 when negligible). Tokens with weight >= tau survive
  // top-p and min-p; keptMass is the sum of their weights.
  private dense = false;
  private n = 0;
  private tau = 0;
  private keptMass = 0;

  /** `row` picks this sampler's random stream, so every batch row draws independently. */
  constructor(
    params: SamplingParamsInput | SamplingParams,
    readonly vocabSize: number,
    readonly row = 0,
  ) {
    if (!Number.isSafeInteger(vocabSize) || vocabSize < 1 || vocabSize > 0x7fffffff) {
      throw new Error(`TokenSampler: vocabSize must be a positive integer, got ${String(vocabSize)}`);
    }
    this.params = parseSamplingParams(params);
    this.seed = this.params.seed ?? randomSeed();
    this.rng = new Rng(this.seed, row);
    this.greedy = this.params.greedy || this.params.temperature === 0;
    const p = this.params;
    this.penalised = p.repetitionPenalty !== 1 || p.frequencyPenalty !== 0 || p.presencePenalty !== 0;
  }

  /**
   * Picks the next token. `logits` holds one row of vocabSize scores (a subarray view is fine); the
   * penalised entries are overwritten during the call and restored before it returns.
   * `generated`: ids produced so far (frequency/presence penalties count these); `prompt`: the prompt
   * ids, which together with `generated` receive the repetition penalty.
   */
  next(logits: Float32Array, generated: ArrayLike<number> = [], prompt: ArrayLike<number> = []): number {
    this.checkLogits(logits);
    const s = scratch(this.vocabSize);
    const patched = this.penalised ? this.applyPenalties(logits, generated, prompt, s) : 0;
    try {
      if (this.greedy) {
        const id = argmax(logits);
        if (id < 0) throw new Error('TokenSampler.next: logits has no value above -Infinity');
        return id;
      }
      this.filter(logits, s);
      const { idx, w } = s;
      const { n, tau, dense } = this;
      // (Rounding can leave the draw a hair above the kept mass: the last survivor is taken then.)
      const u = this.rng.next() * this.keptMass;
      const last = dense ? pickDense(w, n, u) : pick(w, n, tau, u);
      if (last < 0) throw new Error('TokenSampler.next: no token has probability above zero');
      return dense ? last : idx[last];
    } finally {
      for (let j = patched - 1; j >= 0; j--) logits[s.patchIds[j]] = s.patchVals[j];
    }
  }

  /**
   * The scores transformers would sample from: penalties applied, logits / temperature, tokens
   * removed by top-k/top-p/min-p at -Infinity. Greedy settings return the penalised logits.
   * Allocates — for inspection and tests, not the decode loop.
   */
  processedLogits(logits: Float32Array, generated: ArrayLike<number> = [], prompt: ArrayLike<number> = []): Float32Array {
    this.checkLogits(logits);
    const s = scratch(this.vocabSize);
    const patched = this.penalised ? this.applyPenalties(logits, generated, prompt, s) : 0;
    try {
      if (this.greedy) return Float32Array.from(logits);
      this.filter(logits, s);
      const out = new Float32Array(this.vocabSize).fill(-Infinity);
      const invT = 1 / this.params.temperature;
      // Tokens whose weight underflowed to 0 keep their finite score when no filter applies, as in
      // transformers.
      for (let j = 0; j < this.n; j++) {
        if (s.w[j] >= this.tau) {
          const id = this.dense ? j : s.idx[j];
          out[id] = logits[id] * invT;
        }
      }
      return out;
    } finally {
      for (let j = patched - 1; j >= 0; j--) logits[s.patchIds[j]] = s.patchVals[j];
    }
  }

  private checkLogits(logits: Float32Array): void {
    if (!(logits instanceof Float32Array) || logits.length !== this.vocabSize) {
      const got = logits instanceof Float32Array ? `${logits.length} entries` : 'not a Float32Array';
      throw new Error(`TokenSampler.next: logits must be a Float32Array of ${this.vocabSize} entries, got ${got}`);
    }
  }

  /** Applies repetition, frequency and presence penalties in place; returns how many logits it saved. */
  private applyPenalties(l: Float32Array, generated: ArrayLike<number>, prompt: ArrayLike<number>, s: Scratch): number {
    const usePrompt = this.params.repetitionPenalty !== 1; // frequency/presence look at output tokens only
    this.checkIds(generated, 'generated');
    if (usePrompt) this.checkIds(prompt, 'prompt');
    const epoch = s.nextEpoch();
    const counts = s.counts;
    for (let j = 0; j < generated.length; j++) counts[generated[j]]++;
    let n = this.patch(l, generated, s, epoch, 0);
    if (usePrompt) n = this.patch(l, prompt, s, epoch, n);
    for (let j = 0; j < generated.length; j++) counts[generated[j]] = 0;
    return n;
  }

  /** Penalises each not-yet-seen id of `ids`, saving its original logit at patchIds/patchVals[n…]. */
  private patch(l: Float32Array, ids: ArrayLike<number>, s: Scratch, epoch: number, n: number): number {
    const { repetitionPenalty: rp, frequencyPenalty: fp, presencePenalty: pp } = this.params;
    const { stamp, counts, patchIds, patchVals } = s;
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      if (stamp[id] === epoch) continue;
      stamp[id] = epoch;
      const orig = l[id];
      let x = orig;
      if (rp !== 1) x = x < 0 ? x * rp : x / rp; // transformers: score < 0 ? score * p : score / p
      const c = counts[id];
      if (c > 0) x -= c * fp + pp;
      patchIds[n] = id;
      patchVals[n] = orig;
      n++;
      l[id] = x;
    }
    return n;
  }

  private checkIds(ids: ArrayLike<number>, what: string): void {
    const V = this.vocabSize;
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      if (!(Number.isInteger(id) && id >= 0 && id < V)) {
        throw new Error(`TokenSampler.next: ${what}[${j}] = ${String(id)} is not a token id below ${V}`);
      }
    }
  }

  /** Temperature, top-k, top-p and min-p: fills the weights and sets dense/n/tau/keptMass. */
  private filter(l: Float32Array, s: Scratch): void {
    const V = this.vocabSize;
    const { temperature: T, topK, topP, minP } = this.params;
    const invT = 1 / T;
    const { idx, w, hist } = s;
    let dense = !(topK > 0 && topK < V);
    // Over the whole vocabulary, top-p bins the weights so that only the boundary bin is selected.
    const useHist = dense && topP < 1;
    let n: number;
    let total = 0;
    let lmax: number;
    // Dense only: weights are computed for t <= tCut, t = (lmax - logit) · scale (see exp2Scaled).
    let tCut = 0;
    let scale = 0;
    if (!dense) {
      n = selectTopK(l, V, topK, idx, s.vals);
      lmax = -Infinity;
      for (let j = 0; j < n; j++) if (l[idx[j]] > lmax) lmax = l[idx[j]];
      this.checkMax(lmax);
      for (let j = 0; j < n; j++) total += w[j] = expNonPositive((l[idx[j]] - lmax) * invT);
    } else {
      n = V;
      lmax = maxLogit(l);
      this.checkMax(lmax);
      // Skip the exp where the token is negligible, or certain to fail min-p when top-p does not
      // need its mass; the small margin leaves the exact min-p test to the weights.
      let floorNats = -NEGLIGIBLE_NATS;
      if (minP > 0 && topP >= 1) floorNats = Math.max(floorNats, Math.log(minP) - 1e-6);
      tCut = -floorNats * EXP_K;
      scale = invT * EXP_K;
      total = useHist ? denseWeightsBinned(l, lmax, scale, tCut, w, hist) : denseWeights(l, lmax, scale, tCut, w);
    }
    let tau = 0;
    let kept = total;
    if (topP < 1) {
      const target = topP * total;
      if (!useHist) {
        tau = nucleusThreshold(idx, w, n, target);
      } else {
        // The first bin where the running mass reaches the target holds the nucleus boundary: the
        // bins above it are kept whole, only the boundary bin's tokens are selected among, and the
        // candidates shrink to those bins.
        let acc = 0;
        let b = 0;
        for (; b < HIST_SIZE - 1; b++) {
          const mass = hist[4 * b] + hist[4 * b + 1] + (hist[4 * b + 2] + hist[4 * b + 3]);
          if (acc + mass >= target) break;
          acc += mass;
        }
        const { sub, vals } = s;
        compactBins(l, lmax, scale, tCut, b, idx, w, sub, vals, binCounts);
        dense = false;
        n = binCounts[0];
        const q = binCounts[1];
        tau = q > 0 ? nucleusThreshold(sub, vals, q, target - acc) : 0;
        kept = acc + massAtLeast(vals, q, tau);
      }
    }
    if (minP > tau) {
      tau = minP;
      kept = dense ? zeroBelow(w, n, tau) : massAtLeast(w, n, tau);
    } else if (tau > 0 && !useHist) {
      kept = massAtLeast(w, n, tau); // top-k lists only: dense weights never get a top-p tau here
    }
    this.dense = dense;
    this.n = n;
    this.tau = tau;
    this.keptMass = kept;
  }

  private checkMax(lmax: number): void {
    if (!Number.isFinite(lmax)) {
      throw new Error(`TokenSampler.next: the largest logit is ${String(lmax)}; the model output is not usable`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Log-probabilities of the raw model distribution.

/** Σ exp(l[i] - max) for max >= every l[i]; -Infinity and NaN entries add 0. */
function sumExp(l: Float32Array, max: number): number {
  const V = l.length;
  const V4 = V & ~3;
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i < V4; i += 4) {
    const t0 = (max - l[i]) * EXP_K;
    const t1 = (max - l[i + 1]) * EXP_K;
    const t2 = (max - l[i + 2]) * EXP_K;
    const t3 = (max - l[i + 3]) * EXP_K;
    s0 += (t0 < EXP_T_MAX ? exp2Scaled(t0) : 0) + (t1 < EXP_T_MAX ? exp2Scaled(t1) : 0);
    s1 += (t2 < EXP_T_MAX ? exp2Scaled(t2) : 0) + (t3 < EXP_T_MAX ? exp2Scaled(t3) : 0);
  }
  for (; i < V; i++) {
    const t = (max - l[i]) * EXP_K;
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
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
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
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  const lse = logSumExp(logits);
  return ids.slice(0, k).map((id) => ({ id, logprob: logits[id] - lse }));
}
