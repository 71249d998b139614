// A library persona's sweep, from names to a stored evaluation: resolve the model and the persona's
// vectors, pick the questions (given ones, a prompt set, else the persona's own prompt set's held-out
// questions), run the sweep resumably (a checkpoint folder per model, vectors, questions and settings
// under the data dir's jobs/), build the report and save it (sweep-store.ts). The CLI's `sweep` and
// the app's `sweep.run` are two faces on this.
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Library } from '../library/index.ts';
import { resolveModel } from '../model-ref.ts';
import { StudioError } from '../errors.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { ensureNorms } from '../steering/calibration.ts';
import { parseLayers } from '../steering/layers.ts';
import { evaluationQuestions, type QuestionSource } from './questions.ts';
import type { Engine } from '../engine/engine.ts';
import type { ModelStatus } from '../engine/protocol.ts';
import { runSweep, neutralPrompts, type SweepBackend, type SweepProgress, type SweepResult } from './sweep.ts';
import { sweepReport, type SweepReport } from './sweep-report.ts';
import { saveSweep } from './sweep-store.ts';

export const DEFAULT_SWEEP_ALPHAS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];

export interface PersonaSweepOptions {
  model: string;
  persona: string;
  /** all, b, a-b or a list (default: every layer the persona has). */
  layers?: string;
  alphas?: number[];
  /** A file of questions, one per line (or JSON list). */
  questionsFile?: string;
  /** Questions given inline. */
  questions?: string[];
  /** A prompt-set file, or a library prompt set by name or id. */
  promptSet?: string;
  samples?: number;
  maxNewTokens?: number;
  seed?: number;
  rule?: { maxPerplexityIncrease?: number; maxKl?: number };
  /** How the faces name their inputs in errors (`--model` for the CLI, `model` for the app). */
  labels?: { model: string; persona: string; layers: string; questions: string; promptSet: string };
  /** The provider to compile a checkpoint for (resolveModel's). */
  provider?: string;
  signal?: AbortSignal;
  onProgress?: (p: SweepProgress) => void;
  onCompileProgress?: (done: number, total: number) => void;
}

const CLI_LABELS = { model: '--model', persona: '--persona', layers: '--layers', questions: '--questions', promptSet: '--prompt-set' };

/** Questions: the inline ones (the app's sweep.run), else evaluationQuestions' rule (files, prompt sets, the persona's own set). */
function questionSource(
  o: PersonaSweepOptions,
  lib: Library,
  provenance: { promptSetId?: string | null | undefined; promptSetVersion?: number | null | undefined },
  L: typeof CLI_LABELS,
): QuestionSource {
  if (o.questions) {
    if (o.questionsFile !== undefined || o.promptSet !== undefined)
      throw new StudioError('usage', `sweep: give ${L.questions} or ${L.promptSet}, not both`);
    const qs = o.questions.map((q) => q.trim()).filter(Boolean);
    if (qs.length === 0) throw new StudioError('usage', `${L.questions}: no questions (all are empty)`);
    return { questions: qs, markers: null, from: `${qs.length} given questions` };
  }
  return evaluationQuestions(lib, { questions: o.questionsFile, promptSet: o.promptSet }, provenance, 'sweep', L);
}

export interface PersonaSweepResult {
  result: SweepResult;
  report: SweepReport;
  evaluationId: string;
  personaName: string;
  modelName: string;
  questionCount: number;
}

/**
 * Runs and saves a persona's sweep. `load` puts the model in `engine` (the app's shared engine
 * loads only when another model is loaded). Cancel keeps the finished batches: the same call resumes.
 */
export async function runPersonaSweep(
  lib: Library,
  dataDir: string,
  engine: Engine,
  load: (dir: string) => Promise<ModelStatus>,
  o: PersonaSweepOptions,
): Promise<PersonaSweepResult> {
  const L = o.labels ?? CLI_LABELS;
  const started = performance.now();
  const resolved = await resolveModel(lib, dataDir, o.model, {
    compile: true,
    label: L.model,
    provider: o.provider,
    onCompileProgress: o.onCompileProgress,
  });
  const model = resolved.record;
  if (!model)
    throw new StudioError(
      'not-found',
      `${L.model} ${o.model}: sweeps need the model in the library (compile it with persona-studio models compile)`,
    );
  const named = lib.personas.named(o.persona);
  if (named.length > 1)
    throw new StudioError('usage', `${L.persona} ${JSON.stringify(o.persona)}: ${named.length} personas have that name; give the id`);
  const persona = named[0];
  if (!persona) throw new StudioError('not-found', `${L.persona} ${JSON.stringify(o.persona)}: no library persona has that id or name`);
  const vec = lib.vectors.latest(persona.id, model.id);
  if (!vec)
    throw new StudioError(
      'not-found',
      `${L.persona} ${JSON.stringify(o.persona)}: the persona has no vectors for model ${JSON.stringify(model.name)}`,
    );
  const layers = o.layers !== undefined ? parseLayers(o.layers, model.numLayers, L.layers) : vec.layers.map((l) => l.layer);
  const missing = layers.filter((b) => !vec.layers.some((l) => l.layer === b));
  if (missing.length) throw new StudioError('steering', `${L.layers}: the persona has no vector at layer ${missing.join(', ')}`);
  const src = questionSource(o, lib, vec.provenance, L);
  const settings = {
    layers,
    alphas: o.alphas ?? DEFAULT_SWEEP_ALPHAS,
    samples: o.samples,
    maxNewTokens: o.maxNewTokens,
    seed: o.seed,
    rule: { maxPerplexityIncrease: o.rule?.maxPerplexityIncrease, maxKl: o.rule?.maxKl },
  };

  const status = await load(resolved.dir!);
  if (!status.hasTokenizer) throw new StudioError('model-load', `${L.model} ${o.model}: sweeps need the model's tokenizer`);
  const tok = TextTokenizer.load(resolved.dir!);
  const norms = await ensureNorms(resolved.dir!, model.numLayers, tok, (sequences) => engine.residualNorms({ sequences }));
  const backend: SweepBackend = {
    generate: (r, opts) => engine.generate(r, opts),
    score: (a, opts) => engine.score(a, opts),
    distribution: (a, opts) => engine.distribution(a, opts),
  };
  // One checkpoint folder per (model, vectors, questions, settings): the same call resumes.
  const key = createHash('sha256')
    .update(JSON.stringify({ m: model.id, v: vec.id, q: src.questions, settings }))
    .digest('hex')
    .slice(0, 16);
  const result = await runSweep(
    backend,
    {
      vectors: new Map(vec.layers.map((l) => [l.layer, l.vector])),
      questions: src.questions,
      neutralPrompts: neutralPrompts(tok),
      markers: src.markers,
      residualNorms: norms,
      chat: tok.hasChatTemplate,
    },
    settings,
    { checkpointDir: path.join(dataDir, 'jobs', `sweep-${key}`), signal: o.signal, onProgress: o.onProgress },
  );
  const report = sweepReport(result, {
    model: { name: model.name, id: model.id, contentHash: model.contentHash ?? null },
    persona: { name: persona.name, id: persona.id, vectorId: vec.id },
    questionsFrom: src.from,
    appVersion: lib.appVersion,
    createdAt: new Date().toISOString(),
    wallMs: performance.now() - started,
  });
  const evaluationId = saveSweep(lib, report, { personaId: persona.id, vectorId: vec.id, modelId: model.id });
  return { result, report, evaluationId, personaName: persona.name, modelName: model.name, questionCount: src.questions.length };
}
