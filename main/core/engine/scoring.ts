// Log-probabilities under the (optionally steered) model: continuation scoring for perplexity and
// logprob judges, next-token distributions for KL(steered ‖ unsteered).
//
// Positions: logits at position t predict token t+1. For prompt p (P tokens) and continuation c
// (n tokens), c[j] = s[P+j] of s = p ++ c is predicted at position P-1+j, so the n predicting
// positions are P-1 … P+n-2: the last n positions of s without its final token. A batch feeds each
// row's s[0 .. P+n-2] left-padded to one length S with logits_to_keep K = the batch's longest
// continuation; row r's c[j] is then read at kept index K-n+j (n ≤ P+n-1 ≤ S, so it always fits).
//
// Steering follows generate(): terms with positions 'all' steer every position; terms with
// positions 'generated' leave the prompt unsteered, so c[0] comes from the unsteered prompt and
// c[1..] from steered continuation positions. Rows with such terms run in two passes (prompt,
// then the continuation on the prompt's KV cache, right-padded), exactly as generation sees them.
//
// A row may also ask for its residual stream at some blocks, averaged over the continuation's
// positions (capture's 'response-mean'): the same forward then reads the whole of s (the final
// token too, whose logits predict nothing) and keeps K+1 logits, so the index K-n+j still holds —
// one pass gives a sweep both the perplexity and the projection of a reply.
import type { CompiledModel } from './model.ts';
import { logSoftmax, logSumExp } from './sampling/logprobs.ts';
import { parseRowSteering, steerInputs, ablateInputs, type RowSteering, type SteeringContext } from './steering.ts';
import { checkTokens, forEachBatch, kvBytesPerToken, leftPad, planBatches, resolveLimits, type BatchOptions } from './capture.ts';

export interface ScoreRow {
  prompt: number[];
  continuation: number[];
  /** Blocks whose residual stream, averaged over the continuation's positions, to return (one-pass rows only). */
  hiddenLayers?: number[];
}

export interface ScoredRow {
  /** log p(c[j] | p, c[<j]) per continuation token. */
  tokenLogprobs: Float32Array;
  sum: number;
  mean: number;
  /** exp(−mean). */
  perplexity: number;
  /** Per asked block: mean of h_b over the continuation's positions (as capture's 'response-mean'). */
  hidden?: Map<number, Float32Array>;
}

export interface ScoringOptions extends BatchOptions {
  /** One steering for every row, or one per row (undefined = unsteered). */
  steering?: RowSteering | (RowSteering | undefined)[];
  /** Needed by steering terms with scale 'norm'. */
  residualNorms?: Float32Array | null;
}

type Parsed = ReturnType<typeof parseRowSteering>[number];

function parseSteering(fn: string, model: CompiledModel, count: number, opts: ScoringOptions): { parsed: Parsed[]; ctx: SteeringContext } {
  const ctx: SteeringContext = { numLayers: model.arch.numLayers, hidden: model.arch.hidden, residualNorms: opts.residualNorms ?? null };
  const s = opts.steering;
  if (Array.isArray(s) && s.length !== count) throw new Error(`${fn}: steering has ${s.length} entries for ${count} rows`);
  const perRow = Array.isArray(s) ? s : new Array<RowSteering | undefined>(count).fill(s);
  return { parsed: parseRowSteering(perRow, ctx), ctx };
}

const promptOnlyUnsteered = (p: Parsed): boolean => p.terms.some((t) => t.positions === 'generated');

/** log-probability of `token` under one row of logits. */
function logprobAt(logits: Float32Array, offset: number, vocab: number, token: number): number {
  const row = logits.subarray(offset, offset + vocab);
  return row[token]! - logSumExp(row);
}

export async function scoreContinuation(model: CompiledModel, rows: ScoreRow[], opts: ScoringOptions = {}): Promise<ScoredRow[]> {
  const fn = 'scoreContinuation';
  const { vocabSize: V, maxPositions, numLayers, hidden: H } = model.arch;
  const limits = resolveLimits(fn, opts);
  if (!Array.isArray(rows)) throw new Error(`${fn}: rows must be an array`);
  rows.forEach((r, i) => {
    checkTokens(`${fn}: row ${i} prompt`, r.prompt, V);
    checkTokens(`${fn}: row ${i} continuation`, r.continuation, V);
    if (r.prompt.length === 0) throw new Error(`${fn}: row ${i} has an empty prompt (start from BOS)`);
    if (r.continuation.length === 0) throw new Error(`${fn}: row ${i} has an empty continuation`);
    if (r.prompt.length + r.continuation.length > maxPositions)
      throw new Error(
        `${fn}: row ${i} has ${r.prompt.length + r.continuation.length} tokens, more than the model's ${maxPositions} positions`,
      );
    for (const b of r.hiddenLayers ?? [])
      if (!Number.isInteger(b) || b < 0 || b >= numLayers)
        throw new Error(`${fn}: row ${i} hiddenLayers: ${b} is not a block of this ${numLayers}-layer model`);
  });
  const { parsed, ctx } = parseSteering(fn, model, rows.length, opts);
  rows.forEach((r, i) => {
    if (r.hiddenLayers?.length && promptOnlyUnsteered(parsed[i]!))
      throw new Error(`${fn}: row ${i} asks for hidden states under steering that spares the prompt (two passes); capture them apart`);
  });
  const hiddenOut: (Map<number, Float32Array> | undefined)[] = rows.map((r) => (r.hiddenLayers?.length ? new Map() : undefined));
  const ablate = (idx: number[]) =>
    ablateInputs(
      idx.map((i) => parsed[i]!),
      ctx,
    );
  const pad = opts.padId ?? 0;
  const logprobs = rows.map((r) => new Float32Array(r.continuation.length));

  const onePass = async (idx: number[]): Promise<void> => {
    const layers = [...new Set(idx.flatMap((i) => rows[i]!.hiddenLayers ?? []))].sort((a, b) => a - b);
    // With hidden states asked for, every row is read whole (see the header).
    const whole = layers.length > 0;
    const padded = leftPad(
      idx.map((i) => [...rows[i]!.prompt, ...(whole ? rows[i]!.continuation : rows[i]!.continuation.slice(0, -1))]),
      pad,
    );
    const K = Math.max(...idx.map((i) => rows[i]!.continuation.length));
    const keep = whole ? K + 1 : K;
    const out = await model.forward({
      ...padded,
      cache: null,
      keep,
      hidden: layers,
      steer: steerInputs(
        idx.map((i) => parsed[i]!),
        ctx,
        'prompt',
      ),
      ablate: ablate(idx),
    });
    const S = padded.seq;
    idx.forEach((i, r) => {
      const c = rows[i]!.continuation;
      for (let j = 0; j < c.length; j++) logprobs[i]![j] = logprobAt(out.logits, (r * keep + K - c.length + j) * V, V, c[j]!);
      for (const b of rows[i]!.hiddenLayers ?? []) {
        // The continuation's tokens are the row's last n positions: S-n … S-1.
        const h = out.hidden.get(b)!;
        const sum = new Float64Array(H);
        for (let t = S - c.length; t < S; t++) {
          const base = (r * S + t) * H;
          for (let k = 0; k < H; k++) sum[k]! += h[base + k]!;
        }
        hiddenOut[i]!.set(
          b,
          Float32Array.from(sum, (x) => x / c.length),
        );
      }
    });
  };

  const twoPass = async (idx: number[]): Promise<void> => {
    const B = idx.length;
    const first = leftPad(
      idx.map((i) => rows[i]!.prompt),
      pad,
    );
    const sel = idx.map((i) => parsed[i]!);
    const abl = ablate(idx);
    const Sc = Math.max(...idx.map((i) => rows[i]!.continuation.length)) - 1;
    const cache = model.newCache(B);
    cache.reserve(first.seq + Sc);
    const out1 = await model.forward({ ...first, cache, keep: 1, steer: steerInputs(sel, ctx, 'prompt'), ablate: abl });
    idx.forEach((i, r) => {
      logprobs[i]![0] = logprobAt(out1.logits, r * V, V, rows[i]!.continuation[0]!);
    });
    if (Sc === 0) return;
    // The continuation minus its last token, right-padded: real tokens continue each row's
    // positions after its prompt; padding is masked out (and only ever follows real tokens).
    const ids = new BigInt64Array(B * Sc).fill(BigInt(pad));
    const positions = new BigInt64Array(B * Sc);
    const mask = new BigInt64Array(B * Sc);
    idx.forEach((i, r) => {
      const { prompt, continuation: c } = rows[i]!;
      for (let j = 0; j < c.length - 1; j++) {
        ids[r * Sc + j] = BigInt(c[j]!);
        positions[r * Sc + j] = BigInt(prompt.length + j);
        mask[r * Sc + j] = 1n;
      }
    });
    const out2 = await model.forward({
      batch: B,
      seq: Sc,
      ids,
      mask,
      positions,
      cache,
      keep: Sc,
      steer: steerInputs(sel, ctx, 'generated'),
      ablate: abl,
    });
    idx.forEach((i, r) => {
      const c = rows[i]!.continuation;
      for (let j = 1; j < c.length; j++) logprobs[i]![j] = logprobAt(out2.logits, (r * Sc + j - 1) * V, V, c[j]!);
    });
  };

  // Rows whose steering spares the prompt need two passes; plan them apart from the rest.
  const two = rows.map((_, i) => i).filter((i) => promptOnlyUnsteered(parsed[i]!));
  const one = rows.map((_, i) => i).filter((i) => !promptOnlyUnsteered(parsed[i]!));
  const plan = (set: number[], bytesPerToken: number): number[][] =>
    planBatches(
      set.map((i) => rows[i]!.prompt.length + rows[i]!.continuation.length - (rows[i]!.hiddenLayers?.length ? 0 : 1)),
      limits,
      bytesPerToken,
      set.map((i) => rows[i]!.continuation.length + (rows[i]!.hiddenLayers?.length ? 1 : 0)),
      V * 4,
    ).map((b) => b.map((j) => set[j]!));
  // One-pass rows that ask for hidden states copy out [seq, hidden] per asked block.
  const hiddenBlocks = new Set(rows.flatMap((r) => r.hiddenLayers ?? [])).size;
  const onePassBatches = plan(one, hiddenBlocks * H * 4);
  await forEachBatch([...onePassBatches, ...plan(two, kvBytesPerToken(model))], opts, (idx, k) =>
    k < onePassBatches.length ? onePass(idx) : twoPass(idx),
  );

  return logprobs.map((tokenLogprobs, i) => {
    let sum = 0;
    for (const x of tokenLogprobs) sum += x;
    const mean = sum / tokenLogprobs.length;
    const hidden = hiddenOut[i];
    return { tokenLogprobs, sum, mean, perplexity: Math.exp(-mean), ...(hidden && { hidden }) };
  });
}

/**
 * Per prompt, the log-softmax over the vocabulary of the next token — the distribution generate()
 * samples the first new token from (so 'generated'-only steering terms do not change it).
 */
export async function nextTokenDistribution(model: CompiledModel, prompts: number[][], opts: ScoringOptions = {}): Promise<Float32Array[]> {
  const fn = 'nextTokenDistribution';
  const { vocabSize: V, maxPositions } = model.arch;
  const limits = resolveLimits(fn, opts);
  if (!Array.isArray(prompts)) throw new Error(`${fn}: prompts must be an array of token arrays`);
  prompts.forEach((p, i) => {
    checkTokens(`${fn}: prompt ${i}`, p, V);
    if (p.length === 0) throw new Error(`${fn}: prompt ${i} is empty (start from BOS)`);
    if (p.length > maxPositions)
      throw new Error(`${fn}: prompt ${i} has ${p.length} tokens, more than the model's ${maxPositions} positions`);
  });
  const { parsed, ctx } = parseSteering(fn, model, prompts.length, opts);
  const out: Float32Array[] = new Array(prompts.length);
  const batches = planBatches(
    prompts.map((p) => p.length),
    limits,
    0,
    prompts.map(() => 1),
    V * 4,
  );
  await forEachBatch(batches, opts, async (idx) => {
    const sel = idx.map((i) => parsed[i]!);
    const res = await model.forward({
      ...leftPad(
        idx.map((i) => prompts[i]!),
        opts.padId,
      ),
      cache: null,
      keep: 1,
      steer: steerInputs(sel, ctx, 'prompt'),
      ablate: ablateInputs(sel, ctx),
    });
    idx.forEach((i, r) => {
      out[i] = logSoftmax(res.logits.subarray(r * V, (r + 1) * V));
    });
  });
  return out;
}

/**
 * KL(P ‖ Q) = Σ p (log p − log q) in nats, from two log-probability vectors (e.g. log-softmax).
 * Terms with p = 0 contribute 0; q = 0 where p > 0 gives Infinity. Float rounding of nearly equal
 * distributions can give a tiny negative sum, returned as 0.
 */
export function klDivergence(logP: Float32Array, logQ: Float32Array): number {
  if (logP.length !== logQ.length) throw new Error(`klDivergence: distributions have ${logP.length} and ${logQ.length} entries`);
  let s = 0;
  for (let i = 0; i < logP.length; i++) {
    const lp = logP[i]!;
    if (lp === -Infinity) continue;
    const lq = logQ[i]!;
    if (lq === -Infinity) return Infinity;
    s += Math.exp(lp) * (lp - lq);
  }
  if (Number.isNaN(s)) throw new Error('klDivergence: a distribution contains NaN');
  return Math.max(0, s);
}
