// The engine measurements of bench/engine.ts, each on a loaded CompiledModel. Every timing is a
// median over repetitions; A/B comparisons alternate their order (AB, BA, AB, …) so slow drift of
// the machine (thermal, other load) falls on both sides.
import type { CompiledModel } from '../../main/core/engine/model.ts';
import { generate, type GenerateRow } from '../../main/core/engine/generate.ts';
import type { RowSteering } from '../../main/core/engine/steering.ts';
import { captureActivations, type CapturePair } from '../../main/core/engine/capture.ts';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A deterministic stream of uint32s (the same prompts and vectors every run). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
}

export function randomTokens(rnd: () => number, n: number, vocab: number, first?: number): number[] {
  return Array.from({ length: n }, (_, i) => (i === 0 && first !== undefined ? first : rnd() % vocab));
}

/** A "persona": one nonzero vector per block, each of unit norm. */
export function randomPersona(rnd: () => number, numLayers: number, hidden: number): Map<number, Float32Array> {
  const m = new Map<number, Float32Array>();
  for (let b = 0; b < numLayers; b++) {
    const v = Float32Array.from({ length: hidden }, () => rnd() / 2 ** 32 - 0.5);
    const n = Math.hypot(...v);
    m.set(
      b,
      v.map((x) => x / n),
    );
  }
  return m;
}

const steerWith = (persona: Map<number, Float32Array>, alpha: number, positions: 'all' | 'generated' = 'all'): RowSteering => ({
  terms: [{ vectors: persona, alpha, scale: 'raw', positions }],
});

async function timedGenerate(model: CompiledModel, rows: GenerateRow[], newTokens: number) {
  const t0 = performance.now();
  // No stop tokens: every run produces exactly `newTokens` tokens.
  const r = await generate(model, { rows, maxNewTokens: newTokens, stopTokenIds: [] });
  const wallMs = performance.now() - t0;
  for (const row of r.rows)
    if (row.tokens.length !== newTokens) throw new Error(`bench: a row produced ${row.tokens.length} tokens, expected ${newTokens}`);
  return { wallMs, decodeTokPerS: (r.steps * 1000) / r.decodeMs, prefillMs: r.prefillMs };
}

/** Alternates a and b `reps` times each (AB, BA, AB, …); returns both sides' samples. */
async function interleave<T>(reps: number, a: () => Promise<T>, b: () => Promise<T>): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}

export interface SteeringCost {
  unsteeredTokPerS: number;
  steeredTokPerS: number;
  /** median steered ÷ median unsteered tok/s. */
  ratio: number;
  /** Median, lowest and highest of the per-pair ratios (each pair ran back to back): the noise. */
  pairedRatio: number;
  pairedRange: [number, number];
}

/** 1. Decode tok/s of greedy generate() with and without steering on every layer. */
export async function steeringCost(
  model: CompiledModel,
  prompt: number[],
  persona: Map<number, Float32Array>,
  newTokens: number,
  reps: number,
): Promise<SteeringCost> {
  const greedy = { greedy: true };
  await timedGenerate(model, [{ prompt, sampling: greedy }], newTokens); // warm-up
  const r = await interleave(
    reps,
    () => timedGenerate(model, [{ prompt, sampling: greedy }], newTokens),
    () => timedGenerate(model, [{ prompt, sampling: greedy, steering: steerWith(persona, 1) }], newTokens),
  );
  const off = r.a.map((x) => x.decodeTokPerS);
  const on = r.b.map((x) => x.decodeTokPerS);
  return {
    unsteeredTokPerS: median(off),
    steeredTokPerS: median(on),
    ratio: median(on) / median(off),
    pairedRatio: median(on.map((x, i) => x / off[i]!)),
    pairedRange: [Math.min(...on.map((x, i) => x / off[i]!)), Math.max(...on.map((x, i) => x / off[i]!))],
  };
}

/**
 * 1b. The same comparison one decode step at a time: `model.forward` at context 32 with zero
 * steer inputs vs the persona on every layer, alternating every step, so drift cancels at the
 * scale of one step. Returns the tok/s ratio steered ÷ unsteered (= unsteered ms ÷ steered ms).
 */
export async function stepSteeringCost(
  model: CompiledModel,
  persona: Map<number, Float32Array>,
  steps: number,
  seed = 17,
): Promise<{ unsteeredMs: number; steeredMs: number; ratio: number }> {
  const { numLayers, vocabSize } = model.arch;
  const rnd = lcg(seed);
  const cache = model.newCache(1);
  const n = 32;
  await model.forward({
    batch: 1,
    seq: n,
    ids: BigInt64Array.from(randomTokens(rnd, n, vocabSize), BigInt),
    mask: new BigInt64Array(n).fill(1n),
    positions: BigInt64Array.from({ length: n }, (_, j) => BigInt(j)),
    cache,
    keep: 1,
  });
  const steer = Array.from({ length: numLayers }, (_, b) => persona.get(b));
  const step = async (on: boolean) => {
    const t0 = performance.now();
    await model.forward({
      batch: 1,
      seq: 1,
      ids: BigInt64Array.of(7n),
      mask: BigInt64Array.of(1n),
      positions: BigInt64Array.of(BigInt(n)),
      cache,
      keep: 1,
      steer: on ? steer : undefined,
    });
    const ms = performance.now() - t0;
    cache.truncate(n);
    return ms;
  };
  await step(false);
  await step(true);
  const r = await interleave(
    steps,
    () => step(false),
    () => step(true),
  );
  const unsteeredMs = median(r.a);
  const steeredMs = median(r.b);
  return { unsteeredMs, steeredMs, ratio: unsteeredMs / steeredMs };
}

export interface SteeringBaselineCost {
  /** Median ms of one decode step at context 32: the graph compiled without steering inputs. */
  plainMs: number;
  /** The steerable graph fed zeros (what an unsteered row costs). */
  zeroMs: number;
  /** The steerable graph with the persona on every layer. */
  steeredMs: number;
  /** tok/s of the steerable graph ÷ the plain graph's: zeros, and steered. */
  zeroRatio: number;
  steeredRatio: number;
  /** The fastest step of each (plain, zeros, steered): on a loaded machine, the least disturbed. */
  bestMs: [number, number, number];
  /** generate() decode tok/s, steered on the steerable graph ÷ the plain graph, interleaved runs. */
  generateRatio: number;
}

/**
 * 1c. What the steering inputs cost at all: against the same model compiled with
 * `steerable: false` (no steer/ablate inputs, no intervention nodes). One decode step at context
 * 32 on each, round robin (plain, steerable with zeros, steerable steered), so drift cancels at the
 * scale of one step; then whole greedy generate() runs, plain vs steered, interleaved.
 */
export async function steeringBaselineCost(
  plain: CompiledModel,
  steerable: CompiledModel,
  prompt: number[],
  persona: Map<number, Float32Array>,
  steps: number,
  newTokens: number,
  reps: number,
  seed = 17,
): Promise<SteeringBaselineCost> {
  const { numLayers, vocabSize } = steerable.arch;
  const n = 32;
  const ids = BigInt64Array.from(randomTokens(lcg(seed), n, vocabSize), BigInt);
  const prefilled = async (m: CompiledModel) => {
    const cache = m.newCache(1);
    await m.forward({
      batch: 1,
      seq: n,
      ids,
      mask: new BigInt64Array(n).fill(1n),
      positions: BigInt64Array.from({ length: n }, (_, j) => BigInt(j)),
      cache,
      keep: 1,
    });
    return cache;
  };
  const [plainCache, steerableCache] = [await prefilled(plain), await prefilled(steerable)];
  const steer = Array.from({ length: numLayers }, (_, b) => persona.get(b));
  const step = async (m: CompiledModel, cache: Awaited<ReturnType<typeof prefilled>>, on: boolean) => {
    const t0 = performance.now();
    await m.forward({
      batch: 1,
      seq: 1,
      ids: BigInt64Array.of(7n),
      mask: BigInt64Array.of(1n),
      positions: BigInt64Array.of(BigInt(n)),
      cache,
      keep: 1,
      steer: on ? steer : undefined,
    });
    const ms = performance.now() - t0;
    cache.truncate(n);
    return ms;
  };
  const variants = [
    () => step(plain, plainCache, false),
    () => step(steerable, steerableCache, false),
    () => step(steerable, steerableCache, true),
  ];
  for (const v of variants) await v(); // warm-up
  const times: number[][] = [[], [], []];
  for (let i = 0; i < steps; i++) {
    // rotate the order every step so no variant always runs first
    for (let k = 0; k < 3; k++) {
      const j = (i + k) % 3;
      times[j]!.push(await variants[j]!());
    }
  }
  const [plainMs, zeroMs, steeredMs] = times.map(median) as [number, number, number];

  const greedy = { greedy: true };
  await timedGenerate(plain, [{ prompt, sampling: greedy }], newTokens);
  const r = await interleave(
    reps,
    () => timedGenerate(plain, [{ prompt, sampling: greedy }], newTokens),
    () => timedGenerate(steerable, [{ prompt, sampling: greedy, steering: steerWith(persona, 1) }], newTokens),
  );
  const generateRatio = median(r.b.map((x) => x.decodeTokPerS)) / median(r.a.map((x) => x.decodeTokPerS));
  const bestMs = times.map((t) => Math.min(...t)) as [number, number, number];
  return { plainMs, zeroMs, steeredMs, zeroRatio: plainMs / zeroMs, steeredRatio: plainMs / steeredMs, bestMs, generateRatio };
}

export interface AlphaBatchCost {
  singleMs: number;
  batchMs: number;
  ratio: number;
  alphas: number[];
  /** Where the time goes: prefill ms and decode ms per step, single row vs the batch. */
  single: { prefillMs: number; stepMs: number };
  batch: { prefillMs: number; stepMs: number };
}

/**
 * 2. One generate() with one row per α vs one single-row generate() of the same length (wall time).
 * positions 'all' steers the prompt too (every row has its own prefill); 'generated' leaves the
 * prompt unsteered, so the rows share one prefill.
 */
export async function alphaBatchCost(
  model: CompiledModel,
  prompt: number[],
  persona: Map<number, Float32Array>,
  newTokens: number,
  reps: number,
  positions: 'all' | 'generated' = 'all',
  alphas = [-2, -1, 0, 1, 2],
): Promise<AlphaBatchCost> {
  const greedy = { greedy: true };
  const batch = alphas.map((a) => ({ prompt, sampling: greedy, steering: steerWith(persona, a, positions) }));
  await timedGenerate(model, batch, newTokens); // warm-up (batch-5 shapes)
  const r = await interleave(
    reps,
    () => timedGenerate(model, [{ prompt, sampling: greedy, steering: steerWith(persona, 1, positions) }], newTokens),
    () => timedGenerate(model, batch, newTokens),
  );
  const singleMs = median(r.a.map((x) => x.wallMs));
  const batchMs = median(r.b.map((x) => x.wallMs));
  const split = (xs: Array<{ prefillMs: number; decodeTokPerS: number }>) => ({
    prefillMs: median(xs.map((x) => x.prefillMs)),
    stepMs: 1000 / median(xs.map((x) => x.decodeTokPerS)),
  });
  return { singleMs, batchMs, ratio: batchMs / singleMs, alphas, single: split(r.a), batch: split(r.b) };
}

export interface ContextCost {
  contexts: Array<{ context: number; msPerToken: number }>;
  ratio: number;
}

/**
 * 3. Decode ms/token at a short and a long context: the cache is filled with random tokens by
 * chunked forwards, then single-token steps are timed and rolled back so the context stays put.
 */
export async function contextCost(model: CompiledModel, contexts: number[], steps: number, seed = 7): Promise<ContextCost> {
  const rnd = lcg(seed);
  const { vocabSize } = model.arch;
  const cache = model.newCache(1);
  let len = 0;
  const rows: ContextCost['contexts'] = [];
  for (const context of contexts) {
    while (len < context) {
      const n = Math.min(256, context - len);
      await model.forward({
        batch: 1,
        seq: n,
        ids: BigInt64Array.from(randomTokens(rnd, n, vocabSize), BigInt),
        mask: new BigInt64Array(n).fill(1n),
        positions: BigInt64Array.from({ length: n }, (_, j) => BigInt(len + j)),
        cache,
        keep: 1,
      });
      len += n;
    }
    const step = async () => {
      const t0 = performance.now();
      await model.forward({
        batch: 1,
        seq: 1,
        ids: BigInt64Array.of(7n),
        mask: BigInt64Array.of(1n),
        positions: BigInt64Array.of(BigInt(len)),
        cache,
        keep: 1,
      });
      const ms = performance.now() - t0;
      cache.truncate(len);
      return ms;
    };
    await step();
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) ms.push(await step());
    rows.push({ context, msPerToken: median(ms) });
  }
  return { contexts: rows, ratio: rows.at(-1)!.msPerToken / rows[0]!.msPerToken };
}

/** 4. Prefill tok/s of one prompt of `length` tokens into a fresh cache (as generate() does). */
export async function prefillRate(
  model: CompiledModel,
  length: number,
  reps: number,
  seed = 11,
): Promise<{ length: number; tokPerS: number }> {
  const rnd = lcg(seed);
  const ids = BigInt64Array.from(randomTokens(rnd, length, model.arch.vocabSize), BigInt);
  const run = async () => {
    const cache = model.newCache(1);
    cache.reserve(length + 1);
    const t0 = performance.now();
    await model.forward({
      batch: 1,
      seq: length,
      ids,
      mask: new BigInt64Array(length).fill(1n),
      positions: BigInt64Array.from({ length }, (_, j) => BigInt(j)),
      cache,
      keep: 1,
    });
    return performance.now() - t0;
  };
  await run();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) ms.push(await run());
  return { length, tokPerS: (length * 1000) / median(ms) };
}

export interface CaptureRate {
  pairs: number;
  tokens: number;
  seconds: number;
  pairsPerS: number;
  tokPerS: number;
  layers: number;
  /** Highest RSS seen after any batch minus the RSS just before the capture, and the result's own size. */
  rssGrowthMiB: number;
  resultMiB: number;
}

/** 5. captureActivations over `count` random pairs of ~`pairTokens` tokens, every layer, response mean. */
export async function captureRate(model: CompiledModel, count: number, pairTokens: number, seed = 13): Promise<CaptureRate> {
  const rnd = lcg(seed);
  const V = model.arch.vocabSize;
  const pairs: CapturePair[] = Array.from({ length: count }, () => {
    const total = pairTokens - 8 + (rnd() % 17); // pairTokens ± 8
    const p = Math.max(1, Math.round(total * (0.3 + (rnd() % 40) / 100)));
    return { prompt: randomTokens(rnd, p, V), response: randomTokens(rnd, total - p, V) };
  });
  const tokens = pairs.reduce((n, p) => n + p.prompt.length + p.response.length, 0);
  await captureActivations(model, pairs.slice(0, 4), { reduction: 'response-mean' }); // warm-up
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  const t0 = performance.now();
  const r = await captureActivations(model, pairs, {
    reduction: 'response-mean',
    onProgress: () => {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const resultMiB = (r.layers.length * count * model.arch.hidden * 4) / 2 ** 20;
  return {
    pairs: count,
    tokens,
    seconds,
    pairsPerS: count / seconds,
    tokPerS: tokens / seconds,
    layers: r.layers.length,
    rssGrowthMiB: (rssMax - rss0) / 2 ** 20,
    resultMiB,
  };
}

/** 7 (our side). Greedy decode tok/s of one unsteered row: the figure compared with llama.cpp. */
export async function decodeRate(model: CompiledModel, prompt: number[], newTokens: number, reps: number): Promise<number> {
  await timedGenerate(model, [{ prompt, sampling: { greedy: true } }], newTokens);
  const rates: number[] = [];
  for (let i = 0; i < reps; i++)
    rates.push((await timedGenerate(model, [{ prompt, sampling: { greedy: true } }], newTokens)).decodeTokPerS);
  return median(rates);
}
