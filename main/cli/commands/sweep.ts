// persona-studio sweep: a persona's layer × α sweep with a stored recommendation and a report.
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
import { evaluationQuestions } from '../../core/evaluation/questions.ts';
import { runSweep, neutralPrompts, type SweepBackend } from '../../core/evaluation/sweep.ts';
import { reportHtml, reportJson, sweepReport } from '../../core/evaluation/sweep-report.ts';
import { saveSweep } from '../../core/evaluation/sweep-store.ts';
import { reportKind, writeReport } from '../../core/evaluation/report-file.ts';
import type { Parsed } from '../args.ts';
import type { SWEEP_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

type Flags = Parsed<typeof SWEEP_FLAGS>['flags'];

export const DEFAULT_SWEEP_ALPHAS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];

export async function sweepCommand(f: Flags, ctx: CliContext): Promise<number> {
  if (!f.model) throw new StudioError('usage', 'sweep: --model is required');
  if (!f.persona) throw new StudioError('usage', 'sweep: --persona is required (a library persona by id or name)');
  if (f.report) reportKind(f.report);
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
    const src = evaluationQuestions(lib, { questions: f.questions, promptSet: f['prompt-set'] }, vec.provenance, 'sweep');
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
    const written = f.report
      ? await writeReport(f.report, { html: () => reportHtml(rep), json: () => reportJson(rep) }, { signal: ac.signal })
      : null;
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
      if (written && !written.fallback) ctx.stdout(`report: ${written.path}\n`);
    }
    if (written?.fallback) throw new StudioError('not-found', written.fallback);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    lib.close();
    await engine.close();
  }
}
