// Evaluating a persona: steered at its stored recommendation (the newest sweep's; else the default
// layer and α, and the report says so) against the unsteered model, on held-out questions. The
// replies and their scores come from the sweep's machinery run over that one layer — the same
// seeds in every column, the same batch checkpoint (kill and rerun resumes), the same metrics:
// trait (projection, the unsteered model re-reading the reply), coherence (perplexity under the
// unsteered model), KL on neutral prompts, markers — plus the judge's trait and coherence scores
// when a judge is given (cached, so a rerun asks only what it has not asked). More α at the same
// layer (`alphas`) give α curves. The one path the CLI (`eval`) and the app (`eval.run`) use; the
// result is stored in the library as an evaluation of kind 'eval'.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Library } from '../library/index.ts';
import type { Engine } from '../engine/engine.ts';
import type { EngineArgs, EngineResult } from '../engine/protocol.ts';
import { resolveModel } from '../model-ref.ts';
import { StudioError } from '../errors.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { ensureNorms } from '../steering/calibration.ts';
import { defaultLayer } from '../steering/layers.ts';
import { DEFAULT_ALPHA } from '../steering/persona-steering.ts';
import { neutralPrompts, runSweep, type SweepBackend, type SweepResult } from './sweep.ts';
import { storedRecommendation } from './sweep-store.ts';
import { evaluationQuestions } from './questions.ts';
import { cachedJudge, endpointJudge, localJudge, type Judge } from './judge.ts';

export const EVAL_KIND = 'eval';

export const evalSettingsSchema = z.strictObject({
  /** Steer here instead of the recommendation's layer. */
  layer: z.int().nonnegative().optional(),
  /** Steer with this α instead of the recommendation's. */
  alpha: z.number().min(-1000).max(1000).optional(),
  /** More α at the same layer, for α curves (the steered α is always included). */
  alphas: z.array(z.number().min(-1000).max(1000)).max(16).default([]),
  samples: z.int().min(1).max(64).default(1).describe('replies per question per column'),
  maxNewTokens: z.int().min(1).max(4096).default(48),
  temperature: z.number().min(0).max(5).default(0.7),
  topP: z.number().gt(0).max(1).default(0.9),
  seed: z.int().min(0).default(1),
  batchSize: z.int().min(1).max(64).default(64),
});
export type EvalSettings = z.output<typeof evalSettingsSchema>;

/** `local`: the loaded model judges; `endpoint`: any OpenAI-compatible server (key from PERSONA_STUDIO_JUDGE_KEY). */
export const judgeSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local') }),
  z.strictObject({ kind: z.literal('endpoint'), url: z.url(), model: z.string().min(1).optional() }),
]);
export type JudgeSpec = z.infer<typeof judgeSpecSchema>;

export interface JudgeSummary {
  /** Mean judge scores 0–100 over the replies it scored; null when it scored none. */
  trait: number | null;
  coherence: number | null;
  scored: number;
  total: number;
}

export interface EvalColumn {
  /** null: unsteered. */
  alpha: number | null;
  projection: number;
  traitGain: number;
  perplexity: number;
  kl: number;
  markerScore: number | null;
  meanTokens: number;
  emptyReplies: number;
  judge: JudgeSummary | null;
}

export interface EvalSample {
  question: string;
  seed: number;
  /** null: unsteered. */
  alpha: number | null;
  text: string;
  judge: { trait: number | null; coherence: number | null } | null;
}

export interface SteeredAt {
  layer: number;
  alpha: number;
  source: 'recommendation' | 'default' | 'given';
  /** In words: where the layer and α came from. */
  note: string;
  recommendation: { evaluationId: string; rule: string } | null;
}

export interface EvalReport {
  format: 'persona-studio/eval-report';
  version: 1;
  provenance: {
    model: { name: string; id: string; contentHash: string | null };
    persona: { name: string; id: string; vectorId: string; description: string };
    vectors: { method: string | null; reduction: string | null; promptSetHash: string | null; seed: number | null; createdAt: string };
    questionsFrom: string;
    judge: string | null;
    appVersion: string;
    createdAt: string;
    wallMs: number;
    /** The checkpoint's plan hash: the same settings, questions and vectors give the same hash. */
    planHash: string;
  };
  steeredAt: SteeredAt;
  settings: EvalSettings & { layer: number; alpha: number; alphas: number[] };
  questions: string[];
  unsteered: EvalColumn;
  /** One column per α at the steered layer, ascending. */
  steered: EvalColumn[];
  samples: EvalSample[];
}

export interface EvalProgress {
  stage: 'generate' | 'score' | 'judge';
  done: number;
  total: number;
  etaMs: number | null;
}

/** What an evaluation needs of the host: load a compiled model (the engine may be shared), then the sweep's calls. */
export interface EvaluationEngine extends SweepBackend {
  load(dir: string): Promise<{ hasTokenizer: boolean }>;
  /** Roles' candidate directions (roles.ts). */
  capture(args: EngineArgs<'capture'>, opts: { signal?: AbortSignal }): Promise<EngineResult<'capture'>>;
  residualNorms(args: { sequences: number[][] }): Promise<Float32Array>;
}

/** The engine as evaluations and roles use it, with the face's own `load` (its provider, threads, cache). */
export function evaluationEngine(engine: Engine, load: EvaluationEngine['load']): EvaluationEngine {
  return {
    load,
    residualNorms: (a) => engine.residualNorms(a),
    generate: (r, o) => engine.generate(r, o),
    capture: (a, o) => engine.capture(a, o),
    score: (a, o) => engine.score(a, o),
    distribution: (a, o) => engine.distribution(a, o),
  };
}

export interface EvaluateRequest {
  model: string;
  persona: string;
  questions?: string;
  promptSet?: string;
  judge?: JudgeSpec;
  /** An endpoint judge's key (settings' resolveJudgeKey: the environment variable, else the stored key). */
  judgeKey?: string;
  settings: z.input<typeof evalSettingsSchema>;
  /** Names of the fields in messages (the CLI's flags or the app's fields). */
  labels?: { model: string; persona: string; questions: string; promptSet: string; layer: string };
  provider?: string;
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  onCompileProgress?: (done: number, total: number) => void;
}

export interface EvaluationOutcome {
  report: EvalReport;
  evaluationId: string;
  resumedBatches: number;
}

const CLI_LABELS = { model: '--model', persona: '--persona', questions: '--questions', promptSet: '--prompt-set', layer: '--layer' };

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export async function evaluatePersona(
  lib: Library,
  dataDir: string,
  engine: EvaluationEngine,
  req: EvaluateRequest,
): Promise<EvaluationOutcome> {
  const started = performance.now();
  const labels = req.labels ?? CLI_LABELS;
  const s = evalSettingsSchema.parse(req.settings);
  const judgeSpec = req.judge ? judgeSpecSchema.parse(req.judge) : undefined;
  const resolved = await resolveModel(lib, dataDir, req.model, {
    compile: true,
    label: labels.model,
    provider: req.provider,
    signal: req.signal,
    onCompileProgress: req.onCompileProgress,
  });
  const model = resolved.record;
  if (!model)
    throw new StudioError(
      'not-found',
      `${labels.model} ${req.model}: evaluations need the model in the library (compile it with persona-studio models compile)`,
    );
  const persona = lib.personas.resolve(req.persona, { prefix: `${labels.persona}: ` });
  const vec = lib.vectors.latest(persona.id, model.id);
  if (!vec)
    throw new StudioError(
      'not-found',
      `${labels.persona} ${JSON.stringify(req.persona)}: the persona has no vectors for model ${JSON.stringify(model.name)}`,
    );

  // Where to steer: what was asked, else the stored recommendation, else the defaults — said so.
  const rec = storedRecommendation(lib, persona.id, vec.id);
  const layer = s.layer ?? rec?.layer ?? defaultLayer(model.numLayers);
  const alpha = s.alpha ?? rec?.alpha ?? DEFAULT_ALPHA;
  if (!vec.layers.some((l) => l.layer === layer))
    throw new StudioError('steering', `${labels.layer} ${layer}: the persona has no vector at layer ${layer}`);
  const source: SteeredAt['source'] = s.layer !== undefined || s.alpha !== undefined ? 'given' : rec ? 'recommendation' : 'default';
  const note =
    source === 'recommendation'
      ? `the stored recommendation of sweep ${rec!.evaluationId}`
      : source === 'given'
        ? `as asked${rec ? ` (the stored recommendation is layer ${rec.layer}, α ${rec.alpha})` : ''}`
        : `no sweep recommendation is stored for these vectors: the default layer (two thirds of the depth) and α ${DEFAULT_ALPHA}; run persona-studio sweep for a measured one`;
  const steeredAt: SteeredAt = {
    layer,
    alpha,
    source,
    note,
    recommendation: rec ? { evaluationId: rec.evaluationId, rule: rec.rule } : null,
  };
  const alphas = [...new Set([alpha, ...s.alphas])].sort((a, b) => a - b);

  const src = evaluationQuestions(lib, { questions: req.questions, promptSet: req.promptSet }, vec.provenance, 'eval', labels);
  const status = await engine.load(resolved.dir!);
  if (!status.hasTokenizer) throw new StudioError('model-load', `${labels.model} ${req.model}: evaluations need the model's tokenizer`);
  const tok = TextTokenizer.load(resolved.dir!);
  const norms = await ensureNorms(resolved.dir!, model.numLayers, tok, (sequences) => engine.residualNorms({ sequences }));

  const sweepSettings = {
    layers: [layer],
    alphas,
    samples: s.samples,
    maxNewTokens: s.maxNewTokens,
    temperature: s.temperature,
    topP: s.topP,
    seed: s.seed,
    batchSize: s.batchSize,
  };
  // One checkpoint folder per (model, vectors, questions, settings): the same request resumes.
  const key = createHash('sha256')
    .update(JSON.stringify({ m: model.id, v: vec.id, q: src.questions, sweepSettings }))
    .digest('hex')
    .slice(0, 16);
  const jobDir = path.join(dataDir, 'jobs', `eval-${key}`);
  const r: SweepResult = await runSweep(
    engine,
    {
      vectors: new Map(vec.layers.filter((l) => l.layer === layer).map((l) => [l.layer, l.vector])),
      questions: src.questions,
      neutralPrompts: neutralPrompts(tok),
      markers: src.markers,
      residualNorms: norms,
      chat: tok.hasChatTemplate,
    },
    sweepSettings,
    { checkpointDir: jobDir, signal: req.signal, onProgress: req.onProgress },
  );

  const samples: EvalSample[] = r.samples.map((x) => ({
    question: x.question,
    seed: x.seed,
    alpha: x.layer === null ? null : x.alpha,
    text: x.text,
    judge: null,
  }));
  let judgeId: string | null = null;
  if (judgeSpec) {
    const judge: Judge =
      judgeSpec.kind === 'local'
        ? localJudge(model.contentHash ?? model.id, {
            distribution: (a) => engine.distribution(a, { signal: req.signal }),
            encodeChat: (prompt) =>
              tok.hasChatTemplate ? tok.encodeChat([{ role: 'user', content: prompt }], { addGenerationPrompt: true }) : tok.encode(prompt),
            tokenText: (id) => tok.decode([id]),
          })
        : endpointJudge(
            { url: judgeSpec.url, ...(judgeSpec.model ? { model: judgeSpec.model } : {}) },
            req.judgeKey === undefined ? {} : { key: req.judgeKey },
          );
    judgeId = judge.id;
    const cj = cachedJudge(judge, path.join(jobDir, 'judge.jsonl'));
    const trait = persona.description.trim() || persona.name;
    const t0 = performance.now();
    let done = 0;
    for (const x of samples) {
      if (req.signal?.aborted) throw req.signal.reason ?? new StudioError('cancelled', 'eval: cancelled');
      const t = await cj.score('trait', trait, x.question, x.text, req.signal);
      const c = await cj.score('coherence', trait, x.question, x.text, req.signal);
      x.judge = { trait: t.score, coherence: c.score };
      done++;
      const rate = done / (performance.now() - t0);
      req.onProgress?.({ stage: 'judge', done, total: samples.length, etaMs: rate > 0 ? (samples.length - done) / rate : null });
    }
  }
  const judgeOf = (alphaOf: number | null): JudgeSummary | null => {
    if (!judgeSpec) return null;
    const xs = samples.filter((x) => x.alpha === alphaOf);
    const tr = xs.map((x) => x.judge?.trait).filter((v): v is number => typeof v === 'number');
    const co = xs.map((x) => x.judge?.coherence).filter((v): v is number => typeof v === 'number');
    return { trait: mean(tr), coherence: mean(co), scored: Math.min(tr.length, co.length), total: xs.length };
  };
  const unsteered: EvalColumn = {
    alpha: null,
    projection: r.baseline.projection[layer]!,
    traitGain: 0,
    perplexity: r.baseline.perplexity,
    kl: 0,
    markerScore: r.baseline.markerScore,
    meanTokens: r.baseline.meanTokens,
    emptyReplies: r.baseline.emptyReplies,
    judge: judgeOf(null),
  };
  const steered: EvalColumn[] = r.cells.map((c) => ({
    alpha: c.alpha,
    projection: c.projection,
    traitGain: c.traitGain,
    perplexity: c.perplexity,
    kl: c.kl,
    markerScore: c.markerScore,
    meanTokens: c.meanTokens,
    emptyReplies: c.emptyReplies,
    judge: judgeOf(c.alpha),
  }));

  const report: EvalReport = {
    format: 'persona-studio/eval-report',
    version: 1,
    provenance: {
      model: { name: model.name, id: model.id, contentHash: model.contentHash ?? null },
      persona: { name: persona.name, id: persona.id, vectorId: vec.id, description: persona.description },
      vectors: {
        method: vec.method,
        reduction: vec.reduction,
        promptSetHash: vec.provenance.promptSetHash,
        seed: vec.provenance.seed,
        createdAt: vec.createdAt,
      },
      questionsFrom: src.from,
      judge: judgeId,
      appVersion: lib.appVersion,
      createdAt: new Date().toISOString(),
      wallMs: performance.now() - started,
      planHash: r.planHash,
    },
    steeredAt,
    settings: { ...s, layer, alpha, alphas },
    questions: src.questions,
    unsteered,
    steered,
    samples,
  };
  const evaluationId = saveEvaluation(lib, report, model.id);
  return { report, evaluationId, resumedBatches: r.resumedBatches };
}

/** Stores the evaluation (non-finite numbers as null) with its samples and their judge scores. */
function saveEvaluation(lib: Library, rep: EvalReport, modelId: string): string {
  const finite = (x: unknown) =>
    JSON.parse(JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as unknown;
  return lib.evaluations.create({
    name: `eval of ${rep.provenance.persona.name}`,
    kind: EVAL_KIND,
    personaId: rep.provenance.persona.id,
    vectorId: rep.provenance.persona.vectorId,
    modelId,
    grid: { layers: [rep.steeredAt.layer], alphas: rep.settings.alphas },
    metrics: finite({ steeredAt: rep.steeredAt, unsteered: rep.unsteered, steered: rep.steered }),
    settings: finite({ ...rep.settings, provenance: rep.provenance, questions: rep.questions }),
    samples: rep.samples.map((x) => ({
      layer: x.alpha === null ? null : rep.steeredAt.layer,
      alpha: x.alpha,
      prompt: x.question,
      output: x.text,
      // Scores are numbers: a judge's missing score is left out.
      scores: Object.fromEntries(
        Object.entries({ seed: x.seed, trait: x.judge?.trait, coherence: x.judge?.coherence }).filter(
          (e): e is [string, number] => typeof e[1] === 'number',
        ),
      ),
    })),
  }).id;
}
