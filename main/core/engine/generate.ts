// The generation loop: one left-padded batched prefill (in chunks through the KV cache when the
// prompt is long), then one decode step per token for all rows at once. Each row has its own prompt, steering, sampler and stop state; rows that finish
// keep their slot (their outputs are ignored) so the KV cache never has to be re-packed.
import { totalmem } from 'node:os';
import type { CompiledModel, ForwardOutput } from './model.ts';
import { TokenSampler } from './sampling/token-sampler.ts';
import type { SamplingParamsInput } from './sampling/params.ts';
import { parseRowSteering, steerInputs, ablateInputs, type RowSteering } from './steering.ts';
import { kvBytesPerToken } from './capture.ts';
import { StudioError } from '../errors.ts';

export type FinishReason = 'eos' | 'length' | 'stop' | 'cancelled';

export interface TokenEvent {
  row: number;
  token: number;
  /** 0-based index among this row's generated tokens. */
  index: number;
  /** Wall time of the step that produced it (prefill for index 0). */
  ms: number;
  /** Projection of this token's residual stream onto the row's monitor direction. */
  projection?: number;
}

export interface GenerateRow {
  prompt: number[];
  steering?: RowSteering;
  sampling?: SamplingParamsInput;
  /** Unit-normalised on use: the live trait meter reads h_b · v/|v| for each generated token. */
  monitor?: { layer: number; vector: Float32Array };
}

export interface GenerateRequest {
  rows: GenerateRow[];
  maxNewTokens: number;
  stopTokenIds: number[];
  /** Called after each token; return true to stop that row (e.g. a stop string was completed). */
  onToken?: (e: TokenEvent) => boolean | void;
  signal?: AbortSignal;
  residualNorms?: Float32Array | null;
  padId?: number;
  /** Most bytes the run's KV cache may reach (default: half this machine's memory). */
  kvBudgetBytes?: number;
  /** Most prompt tokens per prefill run (default: what PREFILL_SCORES_BYTES allows; see prefillChunkSize). */
  prefillChunk?: number;
}

/** `seed` is the sampler's seed (drawn at random when none was given): record it to reproduce the row. */
export interface GeneratedRow {
  tokens: number[];
  finish: FinishReason;
  projections: number[];
  seed: number;
}
export interface GenerateResult {
  rows: GeneratedRow[];
  prefillMs: number;
  decodeMs: number;
  steps: number;
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

/**
 * Most bytes one prefill run's attention scores may take in one layer. The graph materialises
 * scores as [rows, heads, run tokens, cache slots + run tokens] float32 (plus a few copies of that
 * size: mask, softmax); a one-shot prefill of S tokens is S×S per head, which grew as the square of
 * the prompt (measured on a 4-head model: 2,002 tokens 0.74 GB RSS, 4,002 2.3 GB, 8,002 8.5 GB and
 * 137 s). Longer prompts run in chunks through the KV cache instead, each bounded by this.
 */
export const PREFILL_SCORES_BYTES = 64 * 2 ** 20;

/** Prompt tokens per prefill run for `rows` rows over a context of `total` positions. */
export function prefillChunkSize(rows: number, heads: number, total: number, budgetBytes = PREFILL_SCORES_BYTES): number {
  return Math.max(1, Math.min(total, Math.floor(budgetBytes / (rows * heads * total * 4))));
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 3 : 0)} MiB`;

/** Rows `rows` of a row-major [*, width] array (undefined stays undefined). */
function takeRows(src: Float32Array | undefined, rows: number[], width: number): Float32Array | undefined {
  if (!src) return undefined;
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(src.subarray(r * width, (r + 1) * width), i * width));
  return out;
}

/**
 * For each row, the first row whose prefill it would repeat exactly: the same prompt and the same
 * values in every per-layer [batch, hidden] input of the prefill.
 */
function prefillRepresentatives(prompts: number[][], inputs: (Float32Array | undefined)[], hidden: number): number[] {
  const same = (a: number, b: number): boolean => {
    const pa = prompts[a]!;
    const pb = prompts[b]!;
    if (pa.length !== pb.length || pa.some((t, j) => t !== pb[j])) return false;
    for (const x of inputs) {
      if (!x) continue;
      for (let i = 0; i < hidden; i++) if (x[a * hidden + i] !== x[b * hidden + i]) return false;
    }
    return true;
  };
  const rep: number[] = [];
  for (let r = 0; r < prompts.length; r++) {
    let u = 0;
    while (u < r && !(rep[u] === u && same(u, r))) u++;
    rep.push(u);
  }
  return rep;
}

export async function generate(model: CompiledModel, req: GenerateRequest): Promise<GenerateResult> {
  const { numLayers, hidden, vocabSize } = model.arch;
  const B = req.rows.length;
  if (B === 0) return { rows: [], prefillMs: 0, decodeMs: 0, steps: 0 };
  for (const [r, row] of req.rows.entries()) {
    if (row.prompt.length === 0) throw new Error(`generate: row ${r} has an empty prompt (start from BOS)`);
    for (const t of row.prompt)
      if (!Number.isInteger(t) || t < 0 || t >= vocabSize)
        throw new Error(`generate: row ${r} has token id ${t} outside the vocabulary (0..${vocabSize - 1})`);
    if (row.monitor) {
      const { layer, vector } = row.monitor;
      if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers)
        throw new StudioError('steering', `monitor row ${r}: layer ${layer} does not exist (model has ${numLayers} layers)`);
      if (vector.length !== hidden)
        throw new StudioError('steering', `monitor row ${r}: vector has ${vector.length} values, model hidden size is ${hidden}`);
    }
  }
  const maxPos = model.arch.maxPositions;
  const longest = Math.max(...req.rows.map((r) => r.prompt.length));
  if (longest + req.maxNewTokens > maxPos) {
    throw new Error(`generate: prompt of ${longest} tokens + ${req.maxNewTokens} new tokens exceeds the model's ${maxPos} positions`);
  }
  // The cache grows as tokens come; refuse up front a run whose cache could outgrow memory
  // rather than let the allocation take the whole process (Electron main included) down.
  const kvBytes = B * (longest + req.maxNewTokens) * kvBytesPerToken(model);
  const kvBudget = req.kvBudgetBytes ?? totalmem() / 2;
  if (kvBytes > kvBudget) {
    throw new Error(
      `generate: ${B} row(s) × ${longest + req.maxNewTokens} positions of KV cache need up to ${mib(kvBytes)}, more than the ${mib(kvBudget)} allowed (half this machine's memory by default); ask for fewer rows or new tokens`,
    );
  }
  const ctx = { numLayers, hidden, residualNorms: req.residualNorms ?? null };
  const steering = parseRowSteering(
    req.rows.map((r) => r.steering),
    ctx,
  );
  const ablate = ablateInputs(steering, ctx);
  // Stream 0 for every row: a row with a given seed samples the same whether run alone or in a batch.
  const samplers = req.rows.map((r) => new TokenSampler(r.sampling ?? {}, vocabSize));
  const monitors = req.rows.map((r) => (r.monitor ? { layer: r.monitor.layer, u: unit(r.monitor.vector) } : null));
  const monitorLayers = [...new Set(monitors.filter((m) => m !== null).map((m) => m!.layer))];
  const stop = new Set(req.stopTokenIds);
  const pad = BigInt(req.padId ?? 0);

  // Rows with the same prompt and the same prompt-phase steering and ablation (several samples of
  // one prompt, an α comparison that steers generated tokens only) share one prefill: the distinct
  // rows run, then their cache, logits and hidden states are copied to the rows that repeat them.
  const promptSteer = steerInputs(steering, ctx, 'prompt');
  const rep = prefillRepresentatives(
    req.rows.map((r) => r.prompt),
    [...promptSteer, ...ablate],
    hidden,
  );
  const distinct = rep.flatMap((u, r) => (u === r ? [r] : []));
  const slotOf = rep.map((u) => distinct.indexOf(u));
  const U = distinct.length;
  const shared = U < B;
  const distinctRows = (x: Float32Array | undefined) => (shared ? takeRows(x, distinct, hidden) : x);

  // Left-padded prefill of the distinct rows (duplicates have the same length, so S is unchanged).
  const S = longest;
  const ids = new BigInt64Array(U * S).fill(pad);
  const mask = new BigInt64Array(U * S);
  const positions = new BigInt64Array(U * S);
  distinct.forEach((r, i) => {
    const prompt = req.rows[r]!.prompt;
    const off = S - prompt.length;
    prompt.forEach((t, j) => {
      ids[i * S + off + j] = BigInt(t);
      mask[i * S + off + j] = 1n;
      positions[i * S + off + j] = BigInt(j);
    });
  });
  const nextPos = req.rows.map((r) => r.prompt.length);
  const out: GeneratedRow[] = samplers.map((s) => ({ tokens: [], finish: 'length', projections: [], seed: s.seed }));
  const done = new Array<boolean>(B).fill(false);

  const pick = (logits: Float32Array, hiddenOut: Map<number, Float32Array>, seq: number, ms: number): void => {
    for (let r = 0; r < B; r++) {
      if (done[r]) continue;
      const token = samplers[r]!.next(logits.subarray(r * vocabSize, (r + 1) * vocabSize), out[r]!.tokens, req.rows[r]!.prompt);
      let projection: number | undefined;
      const m = monitors[r];
      if (m) {
        const h = hiddenOut.get(m.layer)!;
        const base = (r * seq + seq - 1) * hidden;
        projection = 0;
        for (let i = 0; i < hidden; i++) projection += h[base + i]! * m.u[i]!;
        out[r]!.projections.push(projection);
      }
      out[r]!.tokens.push(token);
      const stopRequested = req.onToken?.({ row: r, token, index: out[r]!.tokens.length - 1, ms, projection }) === true;
      if (stop.has(token)) {
        done[r] = true;
        out[r]!.finish = 'eos';
      } else if (stopRequested) {
        done[r] = true;
        out[r]!.finish = 'stop';
      } else if (out[r]!.tokens.length >= req.maxNewTokens) {
        done[r] = true;
        out[r]!.finish = 'length';
      }
    }
  };

  const t0 = performance.now();
  if (req.signal?.aborted) return { rows: out.map((o) => ({ ...o, finish: 'cancelled' })), prefillMs: 0, decodeMs: 0, steps: 0 };
  const prefillCache = model.newCache(U);
  prefillCache.reserve(S + 1); // every slot the run will fill, so chunks never resize the cache
  const chunk = req.prefillChunk ?? prefillChunkSize(U, model.arch.numHeads, prefillCache.capacity);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`generate: prefillChunk ${chunk} must be a positive integer`);
  const prefillSteer = promptSteer.map(distinctRows);
  const prefillAblate = ablate.map(distinctRows);
  // Columns [c0, c1) of every row of a row-major [U, S] array.
  const cols = (src: BigInt64Array, c0: number, c1: number): BigInt64Array => {
    if (c0 === 0 && c1 === S) return src;
    const outCols = new BigInt64Array(U * (c1 - c0));
    for (let i = 0; i < U; i++) outCols.set(src.subarray(i * S + c0, i * S + c1), i * (c1 - c0));
    return outCols;
  };
  let first: ForwardOutput | undefined;
  let lastSeq = S;
  for (let c0 = 0; c0 < S; c0 += chunk) {
    const c1 = Math.min(S, c0 + chunk);
    if (c0 > 0 && req.signal) {
      // Let a cancel (or another request's turn) land between chunks of a long prompt.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (req.signal.aborted)
        return { rows: out.map((o) => ({ ...o, finish: 'cancelled' })), prefillMs: performance.now() - t0, decodeMs: 0, steps: 0 };
    }
    const last = c1 === S;
    lastSeq = c1 - c0;
    first = await model.forward({
      batch: U,
      seq: lastSeq,
      ids: cols(ids, c0, c1),
      mask: cols(mask, c0, c1),
      positions: cols(positions, c0, c1),
      cache: prefillCache,
      keep: 1,
      steer: prefillSteer,
      ablate: prefillAblate,
      hidden: last ? monitorLayers : [],
    });
  }
  const cache = shared ? prefillCache.gatherRows(slotOf) : prefillCache;
  const firstLogits = shared ? takeRows(first!.logits, slotOf, vocabSize)! : first!.logits;
  const firstHidden = shared ? new Map([...first!.hidden].map(([b, h]) => [b, takeRows(h, slotOf, lastSeq * hidden)!])) : first!.hidden;
  const prefillMs = performance.now() - t0;
  pick(firstLogits, firstHidden, lastSeq, prefillMs);

  const decodeSteer = steerInputs(steering, ctx, 'generated');
  let steps = 0;
  const t1 = performance.now();
  while (!done.every(Boolean) && req.maxNewTokens > 1) {
    // onnxruntime-node runs synchronously, so without this a cancel message would wait for the end.
    if (req.signal) await new Promise<void>((resolve) => setImmediate(resolve));
    if (req.signal?.aborted) {
      for (let r = 0; r < B; r++)
        if (!done[r]) {
          done[r] = true;
          out[r]!.finish = 'cancelled';
        }
      break;
    }
    const ts = performance.now();
    const stepIds = new BigInt64Array(B);
    const stepPos = new BigInt64Array(B);
    const stepMask = new BigInt64Array(B).fill(1n);
    for (let r = 0; r < B; r++) {
      const gen = out[r]!.tokens;
      stepIds[r] = BigInt(gen[gen.length - 1]!);
      stepPos[r] = BigInt(nextPos[r]!++);
    }
    const res = await model.forward({
      batch: B,
      seq: 1,
      ids: stepIds,
      mask: stepMask,
      positions: stepPos,
      cache,
      keep: 1,
      steer: decodeSteer,
      ablate,
      hidden: monitorLayers,
    });
    steps++;
    pick(res.logits, res.hidden, 1, performance.now() - ts);
  }
  return { rows: out, prefillMs, decodeMs: performance.now() - t1, steps };
}
