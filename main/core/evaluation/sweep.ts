// Layer × α sweeps of a persona: at every (layer, α) cell, seeded replies to held-out questions
// (batched through the engine, many cells per generate()), scored by
//  - trait expression: the UNSTEERED model re-reads prompt + reply (the residual at the cell's
//    layer, averaged over the reply's positions) and the mean projection on the unit direction is
//    compared with the unsteered replies', as a share of the layer's residual norm (so layers of
//    different residual size compare);
//  - coherence: perplexity of the replies under the unsteered model — from the same re-read: one
//    forward per reply gives both (scoreContinuation's hiddenLayers), where a scoring pass and a
//    capture pass per layer took two;
//  - KL(unsteered ‖ steered) of the next-token distribution on neutral prompts;
//  - the prompt set's lexical markers, where it has them.
// Then a recommended (layer, α) by a stated rule (recommend.ts).
//
// Resumable as persona training is: every finished generation batch is appended to
// `responses.jsonl` in the checkpoint folder next to a `plan.json` naming the settings; scoring is
// recomputed (a few forward passes against the many of generation).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { generateText, type TextGenerateRequest, type TextGenerateResult } from '../engine/text-generation.ts';
import { klDivergence, nextTokenDistribution, scoreContinuation, type ScoreRow, type ScoredRow } from '../engine/scoring.ts';
import { dot } from '../steering/directions.ts';
import type { CompiledModel } from '../engine/model.ts';
import type { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { CALIBRATION_TEXTS } from '../steering/calibration.ts';
import type { RowSteering } from '../engine/steering.ts';
import { StudioError } from '../errors.ts';
import { openBatchCheckpoint } from '../jobs/batch-checkpoint.ts';
import { markerStats } from './markers.ts';
import { recommend, recommendRuleSchema, type Recommendation } from './recommend.ts';

export const sweepSettingsSchema = z.strictObject({
  layers: z.array(z.int().nonnegative()).min(1),
  alphas: z.array(z.number().min(-1000).max(1000)).min(1),
  samples: z.int().min(1).max(64).default(1).describe('replies per question per cell'),
  maxNewTokens: z.int().min(1).max(4096).default(48),
  temperature: z.number().min(0).max(5).default(0.7),
  topP: z.number().gt(0).max(1).default(0.9),
  seed: z.int().min(0).default(1),
  /** Rows per generate(): the engine takes up to 64. */
  batchSize: z.int().min(1).max(64).default(64),
  rule: recommendRuleSchema.default(recommendRuleSchema.parse({})),
});
export type SweepSettings = z.output<typeof sweepSettingsSchema>;

/** What a sweep needs of an engine: the host-side `Engine` fits, and so do the in-process functions. */
export interface SweepBackend {
  generate(req: TextGenerateRequest, opts: { signal?: AbortSignal }): Promise<TextGenerateResult>;
  score(args: { rows: ScoreRow[] }, opts: { signal?: AbortSignal }): Promise<ScoredRow[]>;
  distribution(
    args: { prompts: number[][]; steering?: RowSteering | (RowSteering | undefined)[]; residualNorms?: Float32Array | null },
    opts: { signal?: AbortSignal },
  ): Promise<Float32Array[]>;
}

export interface SweepInput {
  /** The persona's raw direction per layer (every swept layer must be present). */
  vectors: Map<number, Float32Array>;
  questions: string[];
  /** Neutral prompts as token ids (KL is measured on their next-token distribution). */
  neutralPrompts: number[][];
  markers?: { positive: string[]; negative: string[] } | null;
  /** The `norm` α scale's per-layer residual norms. */
  residualNorms: Float32Array;
  /** Questions as chat messages (a tokenizer with a chat template), else as plain text. */
  chat: boolean;
}

export interface SweepProgress {
  stage: 'generate' | 'score';
  done: number;
  total: number;
  etaMs: number | null;
}

export interface CellMetrics {
  /** Mean projection of the replies (re-read unsteered) on the unit direction at `layer`. */
  projection: number;
  /**
   * (projection − unsteered projection) / the layer's typical residual norm: the rise as a share of
   * the residual's size (a fixed scale, unlike the replies' spread, so it does not carry sampling
   * noise from a few baseline replies; and layers of different residual size compare).
   */
  traitGain: number;
  perplexity: number;
  /** Mean KL(unsteered ‖ steered) in nats over the neutral prompts. */
  kl: number;
  markerScore: number | null;
  meanTokens: number;
  emptyReplies: number;
}
export interface SweepCell extends CellMetrics {
  layer: number;
  alpha: number;
}
export interface SweepSample {
  /** null: the unsteered baseline. */
  layer: number | null;
  alpha: number;
  question: string;
  seed: number;
  text: string;
}
export interface SweepResult {
  settings: SweepSettings;
  questions: string[];
  /** The unsteered replies (α 0): perplexity, markers, length, and mean and spread of the projection at each swept layer. */
  baseline: {
    perplexity: number;
    markerScore: number | null;
    meanTokens: number;
    emptyReplies: number;
    projection: Record<number, number>;
    spread: Record<number, number>;
  };
  cells: SweepCell[];
  samples: SweepSample[];
  recommendation: Recommendation;
  planHash: string;
  resumedBatches: number;
  /** Time in the backend's calls, for benchmarks. */
  engineMs: number;
}

interface PlanRow {
  /** -1: the unsteered baseline. */
  cell: number;
  question: number;
  seed: number;
}

interface Done {
  i: number;
  prompt: number[];
  response: number[];
  text: string;
}

/** Cells in (layer, α) order; every cell answers every question `samples` times with the same seeds. */
export function planSweep(s: SweepSettings, questions: number): { cells: { layer: number; alpha: number }[]; rows: PlanRow[] } {
  const cells = s.layers.flatMap((layer) => s.alphas.map((alpha) => ({ layer, alpha })));
  const rows: PlanRow[] = [];
  // The same seeds in every cell (common random numbers): differences between cells are the steering's.
  for (let c = -1; c < cells.length; c++)
    for (let q = 0; q < questions; q++)
      for (let k = 0; k < s.samples; k++) rows.push({ cell: c, question: q, seed: s.seed + q * s.samples + k });
  return { cells, rows };
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (!(n > 0)) throw new StudioError('steering', 'sweep: the persona direction is zero at a swept layer');
  return Float32Array.from(v, (x) => x / n);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

export function sweepPlanHash(s: SweepSettings, input: SweepInput): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ s, q: input.questions, chat: input.chat }));
  // The arrays' own bytes: a Float32Array read from disk or the library may view a larger shared
  // buffer (Node's Buffer pool), whose other bytes would make every run's hash different.
  const bytes = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  for (const b of s.layers) h.update(bytes(input.vectors.get(b)!));
  h.update(bytes(input.residualNorms));
  return h.digest('hex');
}

export async function runSweep(
  backend: SweepBackend,
  input: SweepInput,
  settings: z.input<typeof sweepSettingsSchema>,
  opts: { checkpointDir?: string; signal?: AbortSignal; onProgress?: (p: SweepProgress) => void } = {},
): Promise<SweepResult> {
  const s = sweepSettingsSchema.parse(settings);
  for (const b of s.layers) if (!input.vectors.has(b)) throw new StudioError('steering', `sweep: the persona has no vector at layer ${b}`);
  if (input.questions.length === 0) throw new StudioError('usage', 'sweep: no questions to ask');
  if (input.neutralPrompts.length === 0) throw new StudioError('usage', 'sweep: no neutral prompts for KL');
  const units = new Map(s.layers.map((b) => [b, unit(input.vectors.get(b)!)]));
  let engineMs = 0;
  const timed = async <T>(p: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await p();
    } finally {
      engineMs += performance.now() - t;
    }
  };
  const steerOf = (c: { layer: number; alpha: number }): RowSteering => ({
    terms: [{ vectors: new Map([[c.layer, units.get(c.layer)!]]), alpha: c.alpha, scale: 'norm' }],
  });

  const { cells, rows } = planSweep(s, input.questions.length);
  const planHash = sweepPlanHash(s, input);
  const dir = opts.checkpointDir;
  const checkpoint = openBatchCheckpoint<Done>(dir, planHash, { settings: s, rows: rows.length });
  const done = checkpoint.done;
  const todo = rows.map((_, i) => i).filter((i) => !done.has(i));
  const resumedBatches = Math.ceil((rows.length - todo.length) / s.batchSize);
  const t0 = performance.now();
  const base0 = rows.length - todo.length;
  const report = (stage: SweepProgress['stage'], d: number, total: number, since: number, base: number) => {
    const rate = (d - base) / (performance.now() - since);
    opts.onProgress?.({ stage, done: d, total, etaMs: d > base && rate > 0 ? (total - d) / rate : null });
  };
  report('generate', base0, rows.length, t0, base0);
  for (let b = 0; b < todo.length; b += s.batchSize) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new StudioError('cancelled', 'sweep: cancelled');
    const idx = todo.slice(b, b + s.batchSize);
    const r = await timed(() =>
      backend.generate(
        {
          rows: idx.map((i) => {
            const row = rows[i]!;
            const q = input.questions[row.question]!;
            return {
              prompt: input.chat ? { messages: [{ role: 'user' as const, content: q }] } : { text: q },
              sampling: { temperature: s.temperature, topP: s.topP, seed: row.seed },
              steering: row.cell < 0 ? undefined : steerOf(cells[row.cell]!),
            };
          }),
          maxNewTokens: s.maxNewTokens,
          residualNorms: input.residualNorms,
        },
        { signal: opts.signal },
      ),
    );
    const batch: Done[] = idx.map((i, k) => {
      const out = r.rows[k]!;
      return { i, prompt: out.promptTokens, response: out.finish === 'eos' ? out.tokens.slice(0, -1) : out.tokens, text: out.text };
    });
    for (const d of batch) done.set(d.i, d);
    checkpoint.append(batch);
    report('generate', base0 + Math.min(b + s.batchSize, todo.length), rows.length, t0, base0);
  }

  // Scoring, with the unsteered model throughout.
  const t1 = performance.now();
  const scoreTotal = 3; // the re-read, KL, the per-layer tables
  const byCell = (c: number) => rows.map((r, i) => ({ r, d: done.get(i)! })).filter(({ r }) => r.cell === c);
  const nonEmpty = <T extends { d: Done }>(xs: T[]) => xs.filter(({ d }) => d.response.length > 0);

  // Every non-empty reply re-read once by the unsteered model: its perplexity, and its residual at
  // its cell's layer (the unsteered replies' at every swept layer, the baseline of each).
  const allScored = nonEmpty(rows.map((r, i) => ({ r, d: done.get(i)! })));
  const ppl = new Map<number, ScoredRow>();
  if (allScored.length) {
    const res = await timed(() =>
      backend.score(
        {
          rows: allScored.map(({ r, d }) => ({
            prompt: d.prompt,
            continuation: d.response,
            hiddenLayers: r.cell < 0 ? s.layers : [cells[r.cell]!.layer],
          })),
        },
        { signal: opts.signal },
      ),
    );
    allScored.forEach(({ d }, k) => ppl.set(d.i, res[k]!));
  }
  const perplexityOf = (xs: { d: Done }[]) => {
    let sum = 0;
    let n = 0;
    for (const { d } of xs) {
      const p = ppl.get(d.i);
      if (p) {
        sum += p.sum;
        n += p.tokenLogprobs.length;
      }
    }
    return n ? Math.exp(-sum / n) : Number.NaN;
  };
  report('score', 1, scoreTotal, t1, 0);

  // KL on neutral prompts: the unsteered distribution once, then every cell's steered one in one call.
  const P = input.neutralPrompts.length;
  const [base, steered] = await timed(async () => [
    await backend.distribution({ prompts: input.neutralPrompts }, { signal: opts.signal }),
    await backend.distribution(
      {
        prompts: cells.flatMap(() => input.neutralPrompts),
        steering: cells.flatMap((c) => input.neutralPrompts.map(() => steerOf(c))),
        residualNorms: input.residualNorms,
      },
      { signal: opts.signal },
    ),
  ]);
  const klOf = (c: number) => mean(input.neutralPrompts.map((_, p) => klDivergence(base[p]!, steered[c * P + p]!)));
  report('score', 2, scoreTotal, t1, 0);

  // Trait projection per layer: the baseline and that layer's cells re-read at that layer.
  const baselineRows = byCell(-1);
  const markers = input.markers ?? null;
  const markerOf = (xs: { d: Done }[]) =>
    markers
      ? markerStats(
          xs.map(({ d }) => d.text),
          markers,
        ).score
      : null;
  const baseline: SweepResult['baseline'] = {
    perplexity: perplexityOf(baselineRows),
    markerScore: markerOf(baselineRows),
    meanTokens: mean(baselineRows.map(({ d }) => d.response.length)),
    emptyReplies: baselineRows.length - nonEmpty(baselineRows).length,
    projection: {},
    spread: {},
  };
  const out: SweepCell[] = [];
  for (const layer of s.layers) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new StudioError('cancelled', 'sweep: cancelled');
    const cellIdx = cells.map((c, i) => ({ c, i })).filter(({ c }) => c.layer === layer);
    const groups = [baselineRows, ...cellIdx.map(({ i }) => byCell(i))].map(nonEmpty);
    const u = units.get(layer)!;
    const perGroup = groups.map((g) => g.map(({ d }) => dot(ppl.get(d.i)!.hidden!.get(layer)!, u)));
    const b0 = mean(perGroup[0]!);
    const spread = sd(perGroup[0]!);
    const scale = input.residualNorms[layer]!;
    baseline.projection[layer] = b0;
    baseline.spread[layer] = spread;
    cellIdx.forEach(({ c, i }, k) => {
      const all = byCell(i);
      const kept = groups[k + 1]!;
      const projection = kept.length ? mean(perGroup[k + 1]!) : Number.NaN;
      out.push({
        layer,
        alpha: c.alpha,
        projection,
        traitGain: (projection - b0) / scale,
        perplexity: perplexityOf(kept),
        kl: klOf(i),
        markerScore: markerOf(all),
        meanTokens: mean(all.map(({ d }) => d.response.length)),
        emptyReplies: all.length - kept.length,
      });
    });
  }
  report('score', scoreTotal, scoreTotal, t1, 0);

  const samples: SweepSample[] = rows.map((r, i) => ({
    layer: r.cell < 0 ? null : cells[r.cell]!.layer,
    alpha: r.cell < 0 ? 0 : cells[r.cell]!.alpha,
    question: input.questions[r.question]!,
    seed: r.seed,
    text: done.get(i)!.text,
  }));
  return {
    settings: s,
    questions: input.questions,
    baseline,
    cells: out,
    samples,
    recommendation: recommend(out, baseline.perplexity, s.rule),
    planHash,
    resumedBatches,
    engineMs,
  };
}

/** The backend for in-process use (tests, benchmarks). */
export function inProcessSweepBackend(model: CompiledModel, tokenizer: TextTokenizer | null): SweepBackend {
  return {
    generate: (req, o) => generateText(model, tokenizer, req, { signal: o.signal }),
    score: (a, o) => scoreContinuation(model, a.rows, { signal: o.signal }),
    distribution: (a, o) =>
      nextTokenDistribution(model, a.prompts, { steering: a.steering, residualNorms: a.residualNorms, signal: o.signal }),
  };
}

/** Neutral prompts for KL: the calibration texts, as the model reads a user turn. */
export function neutralPrompts(tokenizer: TextTokenizer): number[][] {
  return CALIBRATION_TEXTS.map((t) =>
    tokenizer.hasChatTemplate ? tokenizer.encodeChat([{ role: 'user', content: t }], { addGenerationPrompt: true }) : tokenizer.encode(t),
  );
}
