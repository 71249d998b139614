// Token selection for the decode loop. Order and meaning follow transformers' logits processors
// (repetition penalty → [OpenAI frequency/presence penalties] → temperature → top-k → top-p → min-p),
// computed without sorting the vocabulary: top-k is one threshold scan with periodic quickselect
// (top-k.ts); top-p over the whole vocabulary bins the weights by magnitude and selects only inside
// the bin where the nucleus ends (weights.ts, top-p.ts); every scratch buffer is reused (scratch.ts).
// One deliberate difference: tokens tied at the top-p boundary are all kept (transformers keeps
// whichever its sort happens to put first).
import { Rng, randomSeed } from '../rng.ts';
import { EXP_K, expNonPositive } from './fast-exp.ts';
import { parseSamplingParams, type SamplingParams, type SamplingParamsInput } from './params.ts';
import { scratch, type Scratch } from './scratch.ts';
import { argmax, maxLogit, selectTopK } from './top-k.ts';
import { nucleusThreshold } from './top-p.ts';
import {
  HIST_SIZE,
  NEGLIGIBLE_NATS,
  compactBins,
  denseWeights,
  denseWeightsBinned,
  massAtLeast,
  pick,
  pickDense,
  zeroBelow,
} from './weights.ts';

/** compactBins' two counts, reused. */
const binCounts = new Int32Array(2);

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
      return dense ? last : idx[last]!;
    } finally {
      for (let j = patched - 1; j >= 0; j--) logits[s.patchIds[j]!] = s.patchVals[j]!;
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
        if (s.w[j]! >= this.tau) {
          const id = this.dense ? j : s.idx[j]!;
          out[id] = logits[id]! * invT;
        }
      }
      return out;
    } finally {
      for (let j = patched - 1; j >= 0; j--) logits[s.patchIds[j]!] = s.patchVals[j]!;
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
    for (let j = 0; j < generated.length; j++) counts[generated[j]!]!++;
    let n = this.patch(l, generated, s, epoch, 0);
    if (usePrompt) n = this.patch(l, prompt, s, epoch, n);
    for (let j = 0; j < generated.length; j++) counts[generated[j]!] = 0;
    return n;
  }

  /** Penalises each not-yet-seen id of `ids`, saving its original logit at patchIds/patchVals[n…]. */
  private patch(l: Float32Array, ids: ArrayLike<number>, s: Scratch, epoch: number, n: number): number {
    const { repetitionPenalty: rp, frequencyPenalty: fp, presencePenalty: pp } = this.params;
    const { stamp, counts, patchIds, patchVals } = s;
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j]!;
      if (stamp[id] === epoch) continue;
      stamp[id] = epoch;
      const orig = l[id]!;
      let x = orig;
      if (rp !== 1) x = x < 0 ? x * rp : x / rp; // transformers: score < 0 ? score * p : score / p
      const c = counts[id]!;
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
      const id = ids[j]!;
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
      for (let j = 0; j < n; j++) if (l[idx[j]!]! > lmax) lmax = l[idx[j]!]!;
      this.checkMax(lmax);
      for (let j = 0; j < n; j++) total += w[j] = expNonPositive((l[idx[j]!]! - lmax) * invT);
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
          const mass = hist[4 * b]! + hist[4 * b + 1]! + (hist[4 * b + 2]! + hist[4 * b + 3]!);
          if (acc + mass >= target) break;
          acc += mass;
        }
        const { sub, vals } = s;
        compactBins(l, lmax, scale, tCut, b, idx, w, sub, vals, binCounts);
        dense = false;
        n = binCounts[0]!;
        const q = binCounts[1]!;
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
