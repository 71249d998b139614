// persona-studio sweep: a persona's layer × α sweep with a stored recommendation and a report.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { resolveModel } from '../../core/model-ref.ts';
import { StudioError } from '../../core/errors.ts';
import { oneLine } from '../../core/formats/index.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { ensureNorms } from '../../core/steering/calibration.ts';
import { parseLayers } from '../../core/steering/layers.ts';
import { readPromptSetFile, type PromptSetFile } from '../../core/authoring/prompt-set-file.ts';
import { readPromptList } from '../../core/authoring/prompt-lists.ts';
import { promptSetFromVersion } from '../../core/authoring/prompt-set-library.ts';
import { runSweep, neutralPrompts, type SweepBackend } from '../../core/evaluation/sweep.ts';
import { reportHtml, reportJson, sweepReport } from '../../core/evaluation/sweep-report.ts';
import { saveSweep } from '../../core/evaluation/sweep-store.ts';
import type { Parsed } from '../args.ts';
import type { SWEEP_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

type Flags = Parsed<typeof SWEEP_FLAGS>['flags'];

export const DEFAULT_SWEEP_ALPHAS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];

function libraryPromptSet(lib: Library, ref: string): PromptSetFile | null {
  const stored = lib.promptSets.find(ref);
  return stored ? promptSetFromVersion(stored.name, stored.description, lib.promptSets.version(stored.id)) : null;
}

/** Questions (held-out first) and markers: --questions, --prompt-set, else the persona's own prompt set. */
function questionSource(
  f: Flags,
  lib: Library,
  provenance: { promptSetId?: string | null | undefined; promptSetVersion?: number | null | undefined },
): { questions: string[]; markers: PromptSetFile['markers'] | null; from: string } {
  if (f.questions && f['prompt-set']) throw new StudioError('usage', 'sweep: give --questions or --prompt-set, not both');
  if (f.questions) return { questions: readPromptList(f.questions), markers: null, from: f.questions };
  let set: PromptSetFile | null = null;
  let from = '';
  if (f['prompt-set']) {
    const ref = f['prompt-set'];
    set = fs.existsSync(ref) ? readPromptSetFile(ref) : libraryPromptSet(lib, ref);
    if (!set)
      throw new StudioError(
        'not-found',
        `--prompt-set ${JSON.stringify(ref)}: no such file, and no library prompt set has that name or id`,
      );
    from = ref;
  } else if (provenance.promptSetId) {
    const ps = lib.promptSets.get(provenance.promptSetId);
    if (ps) {
      set = promptSetFromVersion(ps.name, ps.description, lib.promptSets.version(ps.id, provenance.promptSetVersion ?? undefined));
      from = `the persona's prompt set ${ps.name}`;
    }
  }
  if (!set) throw new StudioError('usage', 'sweep: the persona has no prompt set in the library; give --questions F or --prompt-set F');
  const questions = set.heldout.questions.length ? set.heldout.questions : set.questions;
  if (questions.length === 0)
    throw new StudioError(
      'usage',
      `sweep: prompt set ${JSON.stringify(set.name)} has no questions (kind "${set.kind}"); give --questions F`,
    );
  return { questions, markers: set.markers ?? null, from: `${from}${set.heldout.questions.length ? ' (held-out questions)' : ''}` };
}

export async function sweepCommand(f: Flags, ctx: CliContext): Promise<number> {
  if (!f.model) throw new StudioError('usage', 'sweep: --model is required');
  if (!f.persona) throw new StudioError('usage', 'sweep: --persona is required (a library persona by id or name)');
  if (f.report && !/\.(html?|json)$/i.test(f.report))
    throw new StudioError('usage', `--report ${JSON.stringify(f.report)}: expected a .html or .json file name`);
  const started = performance.now();
  const lib = Library.open({ dataDir: ctx.dataDir });
  const engine = new Engine({ inProcess: true }); // single-shot: no worker start (see EngineOptions)
  const ac = new AbortController();
  const onSigint = () =>
    ac.abort(new StudioError('cancelled', 'sweep: cancelled (finished batches are kept; run the same command to resume)'));
  process.once('SIGINT', onSigint);
  try {
    const resolved = await resolveModel(lib, ctx.dataDir, f.model, {
      compile: true,
      label: '--model',
      provider: f.provider,
      onCompileProgress: progressPrinter('compiling'),
    });
    const model = resolved.record;
    if (!model)
      throw new StudioError(
        'not-found',
        `--model ${f.model}: sweeps need the model in the library (compile it with persona-studio models compile)`,
      );
    const named = lib.personas.named(f.persona);
    if (named.length > 1)
      throw new StudioError('usage', `--persona ${JSON.stringify(f.persona)}: ${named.length} personas have that name; give the id`);
    const persona = named[0];
    if (!persona) throw new StudioError('not-found', `--persona ${JSON.stringify(f.persona)}: no library persona has that id or name`);
    const vec = lib.vectors.latest(persona.id, model.id);
    if (!vec)
      throw new StudioError(
        'not-found',
        `--persona ${JSON.stringify(f.persona)}: the persona has no vectors for model ${JSON.stringify(model.name)}`,
      );
    const layers = f.layers !== undefined ? parseLayers(f.layers, model.numLayers) : vec.layers.map((l) => l.layer);
    const missing = layers.filter((b) => !vec.layers.some((l) => l.layer === b));
    if (missing.length) throw new StudioError('steering', `--layers: the persona has no vector at layer ${missing.join(', ')}`);
    const src = questionSource(f, lib, vec.provenance);
    const settings = {
      layers,
      alphas: f.alphas ?? DEFAULT_SWEEP_ALPHAS,
      samples: f.samples,
      maxNewTokens: f['max-new-tokens'],
      seed: f.seed,
      rule: { maxPerplexityIncrease: f['max-ppl-increase'], maxKl: f['max-kl'] },
    };

    const status = await engine.load(resolved.dir!, { provider: f.provider ?? 'auto', threads: f.threads ?? 0 });
    if (!status.hasTokenizer) throw new StudioError('model-load', `--model ${f.model}: sweeps need the model's tokenizer`);
    const tok = TextTokenizer.load(resolved.dir!);
    const norms = await ensureNorms(resolved.dir!, model.numLayers, tok, (sequences) => engine.residualNorms({ sequences }));
    const backend: SweepBackend = {
      generate: (r, o) => engine.generate(r, o),
      capture: (a, o) => engine.capture(a, o),
      score: (a, o) => engine.score(a, o),
      distribution: (a, o) => engine.distribution(a, o),
    };
    // One checkpoint folder per (model, vectors, questions, settings): the same command resumes.
    const key = createHash('sha256')
      .update(JSON.stringify({ m: model.id, v: vec.id, q: src.questions, settings }))
      .digest('hex')
      .slice(0, 16);
    const bars = { generate: progressPrinter('sweep: generating'), score: progressPrinter('sweep: scoring') };
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
      {
        checkpointDir: path.join(ctx.dataDir, 'jobs', `sweep-${key}`),
        signal: ac.signal,
        onProgress: (p) => bars[p.stage](p.done, p.total),
      },
    );
    if (result.resumedBatches) ctx.stderr(`resumed: ${result.resumedBatches} generation batches were already done\n`);
    const rep = sweepReport(result, {
      model: { name: model.name, id: model.id, contentHash: model.contentHash ?? null },
      persona: { name: persona.name, id: persona.id, vectorId: vec.id },
      questionsFrom: src.from,
      appVersion: lib.appVersion,
      createdAt: new Date().toISOString(),
      wallMs: performance.now() - started,
    });
    const evaluationId = saveSweep(lib, rep, { personaId: persona.id, vectorId: vec.id, modelId: model.id });
    if (f.report) {
      const out = /\.json$/i.test(f.report) ? reportJson(rep) : reportHtml(rep);
      const tmp = `${f.report}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, out);
      fs.renameSync(tmp, f.report);
    }
    const rec = result.recommendation;
    if (f.json) ctx.stdout(`${reportJson(rep)}\n`);
    else {
      ctx.stdout(
        `sweep of ${oneLine(persona.name)} on ${oneLine(model.name)}: ${result.cells.length} cells × ${src.questions.length} questions (evaluation ${evaluationId})\n`,
      );
      ctx.stdout(
        `unsteered: perplexity ${rep.baseline.perplexity.toFixed(3)}${rep.baseline.markerScore !== null ? `, markers ${rep.baseline.markerScore.toFixed(2)}` : ''}\n`,
      );
      for (const c of result.cells)
        ctx.stdout(
          `  layer ${String(c.layer).padStart(2)}  α ${String(c.alpha).padStart(5)}  gain ${c.traitGain.toFixed(3).padStart(7)}  ppl ${c.perplexity.toFixed(2).padStart(8)}  KL ${c.kl.toFixed(3)}${c.markerScore !== null ? `  markers ${c.markerScore.toFixed(2)}` : ''}\n`,
        );
      ctx.stdout(
        rec.layer === null
          ? `no recommendation: ${rec.reason}\n`
          : `recommended: layer ${rec.layer}, α ${rec.alpha} (stored; generate/chat/compare use it when no --alpha/--layers is given)\n  ${rec.reason}\n`,
      );
      ctx.stdout(`  rule: ${rec.rule}\n`);
      if (f.report) ctx.stdout(`report: ${f.report}\n`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    lib.close();
    await engine.close();
  }
}
