// persona-studio sweep: a persona's layer × α sweep with a stored recommendation and a report
// (the work is core's runPersonaSweep, shared with the app's sweep.run).
import fs from 'node:fs';
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { StudioError } from '../../core/errors.ts';
import { oneLine } from '../../core/formats/index.ts';
import { runPersonaSweep } from '../../core/evaluation/persona-sweep.ts';
import { reportHtml, reportJson } from '../../core/evaluation/sweep-report.ts';
import type { Parsed } from '../args.ts';
import type { SWEEP_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

type Flags = Parsed<typeof SWEEP_FLAGS>['flags'];

export async function sweepCommand(f: Flags, ctx: CliContext): Promise<number> {
  if (!f.model) throw new StudioError('usage', 'sweep: --model is required');
  if (!f.persona) throw new StudioError('usage', 'sweep: --persona is required (a library persona by id or name)');
  if (f.report && !/\.(html?|json)$/i.test(f.report))
    throw new StudioError('usage', `--report ${JSON.stringify(f.report)}: expected a .html or .json file name`);
  const lib = Library.open({ dataDir: ctx.dataDir });
  const engine = new Engine({ inProcess: true }); // single-shot: no worker start (see EngineOptions)
  const ac = new AbortController();
  const onSigint = () =>
    ac.abort(new StudioError('cancelled', 'sweep: cancelled (finished batches are kept; run the same command to resume)'));
  process.once('SIGINT', onSigint);
  try {
    const bars = { generate: progressPrinter('sweep: generating'), score: progressPrinter('sweep: scoring') };
    const {
      result,
      report: rep,
      evaluationId,
      personaName,
      modelName,
      questionCount,
    } = await runPersonaSweep(
      lib,
      ctx.dataDir,
      engine,
      (dir) => engine.load(dir, { provider: f.provider ?? 'auto', threads: f.threads ?? 0 }),
      {
        model: f.model,
        persona: f.persona,
        layers: f.layers,
        alphas: f.alphas,
        questionsFile: f.questions,
        promptSet: f['prompt-set'],
        samples: f.samples,
        maxNewTokens: f['max-new-tokens'],
        seed: f.seed,
        rule: { maxPerplexityIncrease: f['max-ppl-increase'], maxKl: f['max-kl'] },
        provider: f.provider,
        signal: ac.signal,
        onProgress: (p) => bars[p.stage](p.done, p.total),
        onCompileProgress: progressPrinter('compiling'),
      },
    );
    if (result.resumedBatches) ctx.stderr(`resumed: ${result.resumedBatches} generation batches were already done\n`);
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
        `sweep of ${oneLine(personaName)} on ${oneLine(modelName)}: ${result.cells.length} cells × ${questionCount} questions (evaluation ${evaluationId})\n`,
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
