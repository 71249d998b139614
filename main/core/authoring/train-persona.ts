// Training a persona from a prompt set: generate responses under the positive and negative prompts
// (batched through the engine), capture each response's pooled residual stream at every layer, and
// take per layer the difference of means or the first principal component of paired differences,
// with separation statistics on the held-out split. This is persona_vectors' recipe for
// system-prompt sets and the contrastive-prompt-file recipe for plain prompt sets.
//
// Resumable: every finished generation batch is appended to `responses.jsonl` in the checkpoint
// folder (next to a `plan.json` naming the settings it belongs to), so a killed run continues where
// it stopped; capture is recomputed (it costs a small fraction of generation).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { generateText, type TextGenerateRequest, type TextGenerateResult } from '../engine/text-generation.ts';
import { captureActivations, type CaptureResult, type CapturePair } from '../engine/capture.ts';
import type { CompiledModel } from '../engine/model.ts';
import type { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import type { ChatMessage } from '../../../native-models/tokenizer/chat-template.ts';
import type { PromptSetFile } from './prompt-set-file.ts';
import { meanDifference, pcaOfDifferences } from '../steering/directions.ts';
import { StudioError } from '../errors.ts';
import { openBatchCheckpoint } from '../jobs/batch-checkpoint.ts';
import { separation } from '../steering/separation.ts';

export const trainSettingsSchema = z.strictObject({
  method: z.enum(['mean-diff', 'pca']).default('mean-diff').describe('difference of means, or PCA of paired differences'),
  reduction: z.enum(['response-mean', 'last-prompt', 'all-tokens']).default('response-mean').describe('how each response is pooled'),
  maxPairs: z.int().min(2).max(100_000).default(128).describe('training pairs per side (prompts × questions are cycled up to this)'),
  samples: z.int().min(1).max(64).default(1).describe('responses sampled per pair'),
  maxNewTokens: z.int().min(1).max(4096).default(64).describe('response length cap'),
  temperature: z.number().min(0).max(5).default(0.7),
  topP: z.number().gt(0).max(1).default(0.9),
  seed: z.int().min(0).default(1),
  batchSize: z.int().min(1).max(64).default(16).describe('generation rows per batch'),
});
export type TrainSettings = z.output<typeof trainSettingsSchema>;

/** What training needs of an engine: the host-side `Engine` and the in-process functions both fit. */
export interface PersonaBackend {
  generate(req: TextGenerateRequest, opts: { signal?: AbortSignal }): Promise<TextGenerateResult>;
  capture(
    args: { pairs: CapturePair[]; reduction: TrainSettings['reduction']; keepRows?: boolean },
    opts: { signal?: AbortSignal },
  ): Promise<CaptureResult>;
}

export interface TrainProgress {
  stage: 'generate' | 'capture';
  done: number;
  total: number;
  etaMs: number | null;
}

export interface TrainedLayer {
  layer: number;
  vector: Float32Array;
  /** auc, cohenD, projectionGap (held-out, or training when there is no held-out split); explainedVariance and agreement for PCA. */
  separation: Record<string, number>;
}
export interface TrainedPersona {
  layers: TrainedLayer[];
  hidden: number;
  method: TrainSettings['method'];
  reduction: TrainSettings['reduction'];
  counts: {
    positive: number;
    negative: number;
    positiveTokens: number;
    negativeTokens: number;
    heldoutPositive: number;
    heldoutNegative: number;
  };
  separationOn: 'heldout' | 'train';
  settings: TrainSettings;
  promptSetHash: string;
  /** Generation batches found in the checkpoint and not run again. */
  resumedBatches: number;
  /** What a judge filter kept, when one was given. */
  filtered: { positiveKept: number; positiveTotal: number; negativeKept: number; negativeTotal: number } | null;
}

interface PlanRow {
  side: 'positive' | 'negative';
  split: 'train' | 'heldout';
  messages: ChatMessage[] | null;
  text: string | null;
  seed: number;
}

function promptSetHash(set: PromptSetFile): string {
  const { kind, positive, negative, questions, heldout } = set;
  return createHash('sha256').update(JSON.stringify({ kind, positive, negative, questions, heldout })).digest('hex');
}

/**
 * The rows to generate. Pair i of a split uses question i mod Q with positive prompt i mod P and
 * negative prompt i mod N, so positive and negative pair i answer the same question (PCA pairs them).
 */
export function planRows(set: PromptSetFile, s: TrainSettings, chat: boolean): PlanRow[] {
  const rows: PlanRow[] = [];
  const add = (split: 'train' | 'heldout', pos: string[], neg: string[], questions: string[], maxPairs: number) => {
    const n = Math.min(
      maxPairs,
      set.kind === 'system-prompts' ? Math.max(pos.length, neg.length) * Math.max(1, questions.length) : Math.max(pos.length, neg.length),
    );
    for (const [side, prompts] of [
      ['positive', pos],
      ['negative', neg],
    ] as const) {
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < s.samples; k++) {
          const seed = s.seed + (split === 'heldout' ? 1_000_003 : 0) + i * s.samples + k;
          const p = prompts[i % prompts.length]!;
          if (set.kind === 'system-prompts') {
            rows.push({
              side,
              split,
              seed,
              text: null,
              messages: [
                { role: 'system', content: p },
                { role: 'user', content: questions[i % questions.length]! },
              ],
            });
          } else {
            rows.push({
              side,
              split,
              seed,
              ...(chat ? { messages: [{ role: 'user', content: p }], text: null } : { messages: null, text: p }),
            });
          }
        }
      }
    }
  };
  add('train', set.positive, set.negative, set.questions, s.maxPairs);
  const h = set.heldout;
  if (h.positive.length || h.negative.length || h.questions.length) {
    add(
      'heldout',
      h.positive.length ? h.positive : set.positive,
      h.negative.length ? h.negative : set.negative,
      h.questions.length ? h.questions : set.questions,
      Math.max(8, Math.ceil(s.maxPairs / 4)),
    );
  }
  return rows;
}

interface Done {
  i: number;
  prompt: number[];
  response: number[];
  /** The response as text (for a judge filter); absent in checkpoints written before it existed. */
  text?: string;
}

/** Keeps training pairs a judge agrees with (persona_vectors' filter): see trainPersona's `filter`. */
export interface JudgeFilter {
  trait: string;
  score(
    aspect: 'trait' | 'coherence',
    trait: string,
    question: string,
    response: string,
    signal?: AbortSignal,
  ): Promise<{ score: number | null }>;
  /** Positive responses need a trait score ≥ this, negative ones below it (default 50). */
  threshold?: number;
  /** Both need a coherence score ≥ this (default 50). */
  minCoherence?: number;
}

export async function trainPersona(
  backend: PersonaBackend,
  set: PromptSetFile,
  input: z.input<typeof trainSettingsSchema>,
  opts: {
    chat: boolean;
    checkpointDir?: string;
    signal?: AbortSignal;
    onProgress?: (p: TrainProgress) => void;
    stopIds?: number[];
    /** Drop training responses a judge scores against their side (unscored ones too), counts reported. */
    filter?: JudgeFilter;
  },
): Promise<TrainedPersona> {
  const s = trainSettingsSchema.parse(input);
  const rows = planRows(set, s, opts.chat);
  const hash = promptSetHash(set);
  const planHash = createHash('sha256')
    .update(JSON.stringify({ hash, s, chat: opts.chat }))
    .digest('hex');
  const dir = opts.checkpointDir;
  const checkpoint = openBatchCheckpoint<Done>(dir, planHash, { settings: s, promptSetHash: hash, rows: rows.length });
  const done = checkpoint.done;
  const todo = rows.map((_, i) => i).filter((i) => !done.has(i));
  const resumedBatches = Math.ceil((rows.length - todo.length) / s.batchSize);
  const t0 = performance.now();
  const report = (stage: TrainProgress['stage'], d: number, total: number, since: number, base: number) => {
    const rate = (d - base) / (performance.now() - since);
    opts.onProgress?.({ stage, done: d, total, etaMs: d > base && rate > 0 ? (total - d) / rate : null });
  };
  report('generate', rows.length - todo.length, rows.length, t0, rows.length - todo.length);
  for (let b = 0; b < todo.length; b += s.batchSize) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
    const idx = todo.slice(b, b + s.batchSize);
    const r = await backend.generate(
      {
        rows: idx.map((i) => {
          const row = rows[i]!;
          return {
            prompt: row.messages ? { messages: row.messages } : { text: row.text! },
            sampling: { temperature: s.temperature, topP: s.topP, seed: row.seed },
          };
        }),
        maxNewTokens: s.maxNewTokens,
      },
      { signal: opts.signal },
    );
    const batch: Done[] = idx.map((i, k) => {
      const out = r.rows[k]!;
      const response = out.finish === 'eos' ? out.tokens.slice(0, -1) : out.tokens;
      return { i, prompt: out.promptTokens, response, text: out.text };
    });
    for (const d of batch) done.set(d.i, d);
    checkpoint.append(batch);
    report('generate', rows.length - todo.length + Math.min(b + s.batchSize, todo.length), rows.length, t0, rows.length - todo.length);
  }

  // Capture each split and side; rows whose response came out empty are dropped from both sides of a pair.
  const t1 = performance.now();
  const pick = (side: PlanRow['side'], split: PlanRow['split']) =>
    rows
      .map((r, i) => ({ r, i }))
      .filter(({ r }) => r.side === side && r.split === split)
      .map(({ i }) => done.get(i)!);
  const groups = {
    trainPos: pick('positive', 'train'),
    trainNeg: pick('negative', 'train'),
    heldPos: pick('positive', 'heldout'),
    heldNeg: pick('negative', 'heldout'),
  };
  // Responses that came out empty have no tokens to pool (last-prompt pools the prompt: it keeps
  // them); PCA pairs rows by index, so an empty response drops its whole pair.
  const keep = (a: Done[], b: Done[]): [Done[], Done[]] => {
    const ok = (d: Done | undefined) => d !== undefined && (s.reduction === 'last-prompt' || d.response.length > 0);
    if (s.method !== 'pca') return [a.filter(ok), b.filter(ok)];
    const n = Math.min(a.length, b.length);
    const both = Array.from({ length: n }, (_, k) => ok(a[k]) && ok(b[k]));
    return [a.slice(0, n).filter((_, k) => both[k]), b.slice(0, n).filter((_, k) => both[k])];
  };
  let [trainPos, trainNeg] = keep(groups.trainPos, groups.trainNeg);
  let filtered: TrainedPersona['filtered'] = null;
  if (opts.filter) {
    const f = opts.filter;
    const threshold = f.threshold ?? 50;
    const minCoh = f.minCoherence ?? 50;
    const question = (d: Done) => {
      const row = rows[d.i]!;
      return row.messages ? row.messages[row.messages.length - 1]!.content : (row.text ?? '');
    };
    const passes = async (d: Done, side: 'positive' | 'negative') => {
      const t = (await f.score('trait', f.trait, question(d), d.text ?? '', opts.signal)).score;
      if (t === null || (side === 'positive' ? t < threshold : t >= threshold)) return false;
      const c = (await f.score('coherence', f.trait, question(d), d.text ?? '', opts.signal)).score;
      return c !== null && c >= minCoh;
    };
    const okPos: boolean[] = [];
    const okNeg: boolean[] = [];
    for (const d of trainPos) okPos.push(await passes(d, 'positive'));
    for (const d of trainNeg) okNeg.push(await passes(d, 'negative'));
    const before = { positive: trainPos.length, negative: trainNeg.length };
    if (s.method === 'pca') {
      // pairs stay aligned: a pair goes when either side fails
      const both = okPos.map((ok, k) => ok && okNeg[k] === true);
      trainPos = trainPos.filter((_, k) => both[k]);
      trainNeg = trainNeg.filter((_, k) => both[k]);
    } else {
      trainPos = trainPos.filter((_, k) => okPos[k]);
      trainNeg = trainNeg.filter((_, k) => okNeg[k]);
    }
    filtered = {
      positiveKept: trainPos.length,
      positiveTotal: before.positive,
      negativeKept: trainNeg.length,
      negativeTotal: before.negative,
    };
    if (trainPos.length === 0 || trainNeg.length === 0)
      throw new StudioError(
        'usage',
        `training: the judge filter kept ${trainPos.length} positive and ${trainNeg.length} negative responses; lower the threshold or check the judge`,
      );
  }
  const [heldPos, heldNeg] = keep(groups.heldPos, groups.heldNeg);
  if (trainPos.length === 0 || trainNeg.length === 0)
    throw new Error('training: every response came out empty; raise max new tokens or check the prompts');
  const parts = [trainPos, trainNeg, heldPos, heldNeg];
  const totalPairs = parts.reduce((a, p) => a + p.length, 0);
  let captured = 0;
  const captures: (CaptureResult | null)[] = [];
  for (const part of parts) {
    if (part.length === 0) {
      captures.push(null);
      continue;
    }
    captures.push(
      await backend.capture(
        { pairs: part.map((d) => ({ prompt: d.prompt, response: d.response })), reduction: s.reduction, keepRows: true },
        { signal: opts.signal },
      ),
    );
    captured += part.length;
    report('capture', captured, totalPairs, t1, 0);
  }
  const [cp, cn, hp, hn] = captures as [CaptureResult, CaptureResult, CaptureResult | null, CaptureResult | null];
  const hidden = cp.hidden;
  const onHeld = hp !== null && hn !== null;
  const layers: TrainedLayer[] = cp.layers.map((b) => {
    const P = cp.rows!.get(b)!;
    const N = cn.rows!.get(b)!;
    let vector: Float32Array;
    const extra: Record<string, number> = {};
    if (s.method === 'pca') {
      const n = Math.min(P.length, N.length) / hidden;
      const pca = pcaOfDifferences(P.subarray(0, n * hidden), N.subarray(0, n * hidden), hidden);
      vector = pca.vector;
      extra.explainedVariance = pca.explainedVariance;
      extra.agreement = pca.agreement;
    } else {
      vector = meanDifference(P, N, hidden);
    }
    const sep = onHeld ? separation(hp.rows!.get(b)!, hn.rows!.get(b)!, hidden, vector) : separation(P, N, hidden, vector);
    return { layer: b, vector, separation: { ...sep, ...extra } };
  });
  const tokens = (ds: Done[]) => ds.reduce((a, d) => a + d.response.length, 0);
  return {
    layers,
    hidden,
    method: s.method,
    reduction: s.reduction,
    counts: {
      positive: trainPos.length,
      negative: trainNeg.length,
      positiveTokens: tokens(trainPos),
      negativeTokens: tokens(trainNeg),
      heldoutPositive: heldPos.length,
      heldoutNegative: heldNeg.length,
    },
    separationOn: onHeld ? 'heldout' : 'train',
    settings: s,
    promptSetHash: hash,
    resumedBatches,
    filtered,
  };
}

/** The backend for in-process use (tests, benchmarks, the CLI's single-shot commands). */
export function inProcessBackend(model: CompiledModel, tokenizer: TextTokenizer | null): PersonaBackend {
  return {
    generate: (req, o) => generateText(model, tokenizer, req, { signal: o.signal }),
    capture: (a, o) => captureActivations(model, a.pairs, { reduction: a.reduction, keepRows: a.keepRows, signal: o.signal }),
  };
}
