// Activation capture for persona vectors: run (prompt, response) pairs through the model once,
// read the residual stream after the requested blocks and pool it to one row per pair.
//
// Token reductions, with P = prompt length, R = response length, the pair's sequence
// s = prompt ++ response and h_b[t] = the residual stream right after block b at position t of s
// (the state computed *at* token s[t], i.e. `hidden_states.{b}` = HF hidden_states[b+1]):
//   'response-mean'  mean of h_b[t] for t in [P, P+R): the positions of the response tokens.
//                    This is persona_vectors' response average (hidden_states[:, prompt_len:].mean).
//   'last-prompt'    h_b[P-1]: the state at the last prompt token (the one that predicts the
//                    first response token). The response is not run: by causality it cannot
//                    change this state.
//   'all-tokens'     mean of h_b[t] for t in [0, P+R): every token of prompt and response.
//
// Memory stays bounded: pairs are sorted by length and run in left-padded batches (one forward
// each, no KV cache), and only the pooled rows survive a batch — or, with keepRows: false,
// only per-layer sums and sums of squares.
import type { CompiledModel, ForwardOutput } from './model.ts';
import { parseRowSteering, steerInputs, ablateInputs, type RowSteering, type SteeringContext } from './steering.ts';

export type Reduction = 'response-mean' | 'last-prompt' | 'all-tokens';
export const REDUCTIONS: readonly Reduction[] = ['response-mean', 'last-prompt', 'all-tokens'];

export interface CapturePair {
  prompt: number[];
  response: number[];
}

/** Batching and control shared by every batched pass over a model (capture, norms, scoring). */
export interface BatchOptions {
  /** Rows per forward (default 8). */
  batchSize?: number;
  /** Cap on padded tokens per forward (rows × longest row). */
  maxTokensPerBatch?: number;
  /**
   * Cap on what one forward copies out of onnxruntime (hidden states fetched, logits kept, the KV
   * cache where one is kept); default 512 MiB. A single row over it still runs alone.
   */
  memoryBudgetBytes?: number;
  padId?: number;
  /** Checked before every batch; an aborted signal rejects with its reason. */
  signal?: AbortSignal;
  /** Called after each batch with the number of items done so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface CaptureOptions extends BatchOptions {
  reduction: Reduction;
  /** Blocks to capture (default: all). */
  layers?: number[];
  /** false: keep only per-layer sums and sums of squares (for very large runs). Default true. */
  keepRows?: boolean;
  /** The same steering applied to every pair (to measure steered activations); positions 'all' only. */
  steering?: RowSteering;
  /** Needed by steering terms with scale 'norm'. */
  residualNorms?: Float32Array | null;
}

export interface CaptureResult {
  reduction: Reduction;
  /** Captured blocks, ascending. */
  layers: number[];
  hidden: number;
  /** Number of pairs. */
  count: number;
  /** Per layer: [count × hidden], row i = pair i in input order; null when keepRows is false. */
  rows: Map<number, Float32Array> | null;
  /** Per layer: Σ over pairs of the pooled rows (as stored, float32), elementwise. */
  sums: Map<number, Float64Array>;
  /** Per layer: Σ over pairs of the squared pooled rows, elementwise (variance without the rows). */
  sumSquares: Map<number, Float64Array>;
  /** Tokens pooled per pair, input order. */
  tokens: Int32Array;
}

export const DEFAULT_BATCH_SIZE = 8;
export const DEFAULT_MEMORY_BUDGET = 512 * 2 ** 20;

// ---------------------------------------------------------------------------------------------
// Shared batching helpers (also used by scoring.ts).

export function checkTokens(where: string, tokens: number[], vocab: number): void {
  if (!Array.isArray(tokens)) throw new Error(`${where}: expected an array of token ids`);
  for (const t of tokens) {
    if (!Number.isInteger(t) || t < 0 || t >= vocab)
      throw new Error(`${where}: token id ${String(t)} is outside the vocabulary (0..${vocab - 1})`);
  }
}

export interface ResolvedLimits {
  batchSize: number;
  maxTokens: number;
  budget: number;
}

export function resolveLimits(fn: string, o: BatchOptions): ResolvedLimits {
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new Error(`${fn}: batchSize must be a positive integer, got ${String(o.batchSize)}`);
  const maxTokens = o.maxTokensPerBatch ?? Infinity;
  if (!(maxTokens >= 1)) throw new Error(`${fn}: maxTokensPerBatch must be at least 1, got ${String(o.maxTokensPerBatch)}`);
  const budget = o.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  if (!(budget > 0)) throw new Error(`${fn}: memoryBudgetBytes must be positive, got ${String(o.memoryBudgetBytes)}`);
  if (o.padId !== undefined && !Number.isInteger(o.padId)) throw new Error(`${fn}: padId must be an integer, got ${String(o.padId)}`);
  return { batchSize, maxTokens, budget };
}

/** Bytes of KV cache per token, for passes that keep a cache. */
export function kvBytesPerToken(model: CompiledModel): number {
  const { numLayers, numKvHeads, headDim } = model.arch;
  return numLayers * 2 * numKvHeads * headDim * (model.manifest.kvDtype === 'float16' ? 2 : 4);
}

/**
 * Groups items (index = position in `lens`) into batches, longest first so each batch pads to its
 * first item. A batch grows while rows ≤ batchSize, rows × longest ≤ maxTokens and
 * rows × (longest × bytesPerToken + mostKept × bytesPerKept) ≤ budget; every batch has ≥ 1 row.
 */
export function planBatches(lens: number[], limits: ResolvedLimits, bytesPerToken: number, keeps?: number[], bytesPerKept = 0): number[][] {
  const order = lens.map((_, i) => i).sort((a, b) => lens[b]! - lens[a]! || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  let kept = 0;
  for (const i of order) {
    const l = Math.max(longest, lens[i]!);
    const k = Math.max(kept, keeps?.[i] ?? 0);
    const rows = cur.length + 1;
    const fits = rows <= limits.batchSize && rows * l <= limits.maxTokens && rows * (l * bytesPerToken + k * bytesPerKept) <= limits.budget;
    if (cur.length > 0 && !fits) {
      batches.push(cur);
      cur = [];
      longest = lens[i]!;
      kept = keeps?.[i] ?? 0;
    } else {
      longest = l;
      kept = k;
    }
    cur.push(i);
  }
  if (cur.length) batches.push(cur);
  return batches;
}

export interface LeftPadded {
  batch: number;
  seq: number;
  ids: BigInt64Array;
  mask: BigInt64Array;
  positions: BigInt64Array;
  /** Per row: index in the padded row of its first real token. */
  offsets: number[];
}

/** Left-pads sequences to one length; positions start at 0 at each row's first real token. */
export function leftPad(seqs: number[][], padId = 0): LeftPadded {
  const B = seqs.length;
  const S = Math.max(...seqs.map((s) => s.length));
  const ids = new BigInt64Array(B * S).fill(BigInt(padId));
  const mask = new BigInt64Array(B * S);
  const positions = new BigInt64Array(B * S);
  const offsets: number[] = [];
  seqs.forEach((s, r) => {
    const off = S - s.length;
    offsets.push(off);
    for (let j = 0; j < s.length; j++) {
      ids[r * S + off + j] = BigInt(s[j]!);
      mask[r * S + off + j] = 1n;
      positions[r * S + off + j] = BigInt(j);
    }
  });
  return { batch: B, seq: S, ids, mask, positions, offsets };
}

/** Runs `fn` on each batch, checking the signal before each and reporting progress after. */
export async function forEachBatch(
  batches: number[][],
  o: Pick<BatchOptions, 'signal' | 'onProgress'>,
  fn: (rows: number[], batch: number) => Promise<void>,
): Promise<void> {
  const total = batches.reduce((n, b) => n + b.length, 0);
  let done = 0;
  for (const [k, rows] of batches.entries()) {
    // onnxruntime-node runs synchronously: yield to the event loop so an abort sent from
    // elsewhere (a worker message, a timer) is seen before the next batch starts.
    if (o.signal) await new Promise<void>((resolve) => setImmediate(resolve));
    o.signal?.throwIfAborted();
    await fn(rows, k);
    done += rows.length;
    o.onProgress?.(done, total);
  }
}

/** The same steer/ablate inputs repeated for `batch` rows (undefined layers stay undefined). */
function tile(one: (Float32Array | undefined)[], batch: number): (Float32Array | undefined)[] {
  return one.map((v) => {
    if (!v) return undefined;
    const out = new Float32Array(batch * v.length);
    for (let r = 0; r < batch; r++) out.set(v, r * v.length);
    return out;
  });
}

function validateLayers(fn: string, layers: number[] | undefined, numLayers: number): number[] {
  if (layers === undefined) return [...Array(numLayers).keys()];
  if (!Array.isArray(layers) || layers.length === 0) throw new Error(`${fn}: layers must be a non-empty array of block indices`);
  for (const b of layers) {
    if (!Number.isInteger(b) || b < 0 || b >= numLayers)
      throw new Error(`${fn}: layer ${String(b)} does not exist (model has blocks 0..${numLayers - 1})`);
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------

export async function captureActivations(model: CompiledModel, pairs: CapturePair[], opts: CaptureOptions): Promise<CaptureResult> {
  const fn = 'captureActivations';
  const { numLayers, hidden: H, vocabSize, maxPositions } = model.arch;
  if (!REDUCTIONS.includes(opts.reduction))
    throw new Error(`${fn}: reduction must be one of ${REDUCTIONS.join(', ')}, got ${JSON.stringify(opts.reduction)}`);
  const reduction = opts.reduction;
  const layers = validateLayers(fn, opts.layers, numLayers);
  const limits = resolveLimits(fn, opts);
  if (!Array.isArray(pairs)) throw new Error(`${fn}: pairs must be an array`);
  pairs.forEach((p, i) => {
    checkTokens(`${fn}: pair ${i} prompt`, p.prompt, vocabSize);
    checkTokens(`${fn}: pair ${i} response`, p.response, vocabSize);
    if (p.prompt.length === 0) throw new Error(`${fn}: pair ${i} has an empty prompt (start from BOS)`);
    if (reduction === 'response-mean' && p.response.length === 0)
      throw new Error(`${fn}: pair ${i} has an empty response (reduction 'response-mean' averages over response tokens)`);
    if (p.prompt.length + p.response.length > maxPositions)
      throw new Error(
        `${fn}: pair ${i} has ${p.prompt.length + p.response.length} tokens, more than the model's ${maxPositions} positions`,
      );
  });

  const ctx: SteeringContext = { numLayers, hidden: H, residualNorms: opts.residualNorms ?? null };
  let steerOne: (Float32Array | undefined)[] = [];
  let ablateOne: (Float32Array | undefined)[] = [];
  if (opts.steering) {
    const parsed = parseRowSteering([opts.steering], ctx);
    parsed[0]!.terms.forEach((t, k) => {
      if (t.positions === 'generated')
        throw new Error(
          `${fn}: steering term ${k} has positions 'generated'; capture runs prompt and response in one pass, so use positions 'all'`,
        );
    });
    steerOne = steerInputs(parsed, ctx, 'prompt');
    ablateOne = ablateInputs(parsed, ctx);
  }

  const N = pairs.length;
  const keepRows = opts.keepRows ?? true;
  const rows = keepRows ? new Map(layers.map((b) => [b, new Float32Array(N * H)])) : null;
  const sums = new Map(layers.map((b) => [b, new Float64Array(H)]));
  const sumSquares = new Map(layers.map((b) => [b, new Float64Array(H)]));
  const tokens = new Int32Array(N);

  // Which slice of each pair's sequence is run and pooled.
  const seqOf = (p: CapturePair): number[] => (reduction === 'last-prompt' ? p.prompt : [...p.prompt, ...p.response]);
  const span = (p: CapturePair): [number, number] =>
    reduction === 'response-mean'
      ? [p.prompt.length, p.prompt.length + p.response.length]
      : reduction === 'last-prompt'
        ? [p.prompt.length - 1, p.prompt.length]
        : [0, p.prompt.length + p.response.length];

  const lens = pairs.map((p) => seqOf(p).length);
  const batches = planBatches(lens, limits, layers.length * H * 4);
  const acc = new Float64Array(H);
  await forEachBatch(batches, opts, async (idx) => {
    const padded = leftPad(
      idx.map((i) => seqOf(pairs[i]!)),
      opts.padId,
    );
    const out: ForwardOutput = await model.forward({
      ...padded,
      cache: null,
      keep: 1,
      hidden: layers,
      steer: tile(steerOne, idx.length),
      ablate: tile(ablateOne, idx.length),
    });
    const S = padded.seq;
    for (const b of layers) {
      const h = out.hidden.get(b)!;
      const sum = sums.get(b)!;
      const sq = sumSquares.get(b)!;
      idx.forEach((i, r) => {
        const [from, to] = span(pairs[i]!);
        acc.fill(0);
        for (let t = from; t < to; t++) {
          const base = (r * S + padded.offsets[r]! + t) * H;
          for (let k = 0; k < H; k++) acc[k]! += h[base + k]!;
        }
        const n = to - from;
        tokens[i] = n;
        for (let k = 0; k < H; k++) {
          const v = Math.fround(acc[k]! / n);
          if (rows) rows.get(b)![i * H + k] = v;
          sum[k]! += v;
          sq[k]! += v * v;
        }
      });
    }
  });
  return { reduction, layers, hidden: H, count: N, rows, sums, sumSquares, tokens };
}

/** The mean pooled activation of one captured layer over all pairs. */
export function captureMean(result: CaptureResult, layer: number): Float32Array {
  const s = result.sums.get(layer);
  if (!s) throw new Error(`captureMean: layer ${layer} was not captured (captured: ${result.layers.join(', ')})`);
  if (result.count === 0) throw new Error('captureMean: the capture has no pairs');
  return Float32Array.from(s, (x) => x / result.count);
}

export type ResidualNormOptions = BatchOptions;

/**
 * Per block b, the mean L2 norm of the residual stream after block b over every token of the
 * calibration sequences except position 0 of each: the first token (BOS or not) acts as an
 * attention sink with a residual norm often tens of times the rest, which would dominate the mean.
 * These are the n_b of steering.ts's 'norm' scale.
 */
export async function residualNorms(model: CompiledModel, sequences: number[][], opts: ResidualNormOptions = {}): Promise<Float32Array> {
  const fn = 'residualNorms';
  const { numLayers, hidden: H, vocabSize, maxPositions } = model.arch;
  const limits = resolveLimits(fn, opts);
  if (!Array.isArray(sequences)) throw new Error(`${fn}: sequences must be an array of token arrays`);
  sequences.forEach((s, i) => {
    checkTokens(`${fn}: sequence ${i}`, s, vocabSize);
    if (s.length > maxPositions)
      throw new Error(`${fn}: sequence ${i} has ${s.length} tokens, more than the model's ${maxPositions} positions`);
  });
  const counted = sequences.reduce((n, s) => n + Math.max(0, s.length - 1), 0);
  if (counted === 0) throw new Error(`${fn}: no tokens to measure (every sequence needs at least 2 tokens; position 0 is excluded)`);
  const used = sequences.map((s, i) => i).filter((i) => sequences[i]!.length >= 2);
  const layers = [...Array(numLayers).keys()];
  const batches = planBatches(
    used.map((i) => sequences[i]!.length),
    limits,
    numLayers * H * 4,
  ).map((b) => b.map((j) => used[j]!));
  const totals = new Float64Array(numLayers);
  await forEachBatch(batches, opts, async (idx) => {
    const padded = leftPad(
      idx.map((i) => sequences[i]!),
      opts.padId,
    );
    const out = await model.forward({ ...padded, cache: null, keep: 1, hidden: layers });
    const S = padded.seq;
    for (const b of layers) {
      const h = out.hidden.get(b)!;
      idx.forEach((i, r) => {
        for (let t = 1; t < sequences[i]!.length; t++) {
          const base = (r * S + padded.offsets[r]! + t) * H;
          let ss = 0;
          for (let k = 0; k < H; k++) ss += h[base + k]! * h[base + k]!;
          totals[b]! += Math.sqrt(ss);
        }
      });
    }
  });
  return Float32Array.from(totals, (t) => t / counted);
}
