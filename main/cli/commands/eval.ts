// persona-studio eval: a persona steered at its recommendation vs unsteered (core/evaluation/evaluate.ts).
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { resolveJudgeKey } from '../../core/settings/settings-store.ts';
import { fileSecretStore } from '../../core/settings/secret-store.ts';
import { StudioError } from '../../core/errors.ts';
import { oneLine } from '../../core/formats/index.ts';
import { evaluatePersona, evaluationEngine, type EvalColumn, type JudgeSpec } from '../../core/evaluation/evaluate.ts';
import { evalReportHtml, evalReportJson } from '../../core/evaluation/eval-report.ts';
import { reportKind, writeReport } from '../../core/evaluation/report-file.ts';
import type { Parsed } from '../args.ts';
import type { EVAL_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

type Flags = Parsed<typeof EVAL_FLAGS>['flags'];

/** --judge local|URL (+ --judge-model): the judge, or one line naming the flag. */
export function judgeFromFlags(judge: string | undefined, judgeModel: string | undefined): JudgeSpec | undefined {
  if (judge === undefined) {
    if (judgeModel !== undefined) throw new StudioError('usage', '--judge-model: needs --judge URL');
    return undefined;
  }
  if (judge === 'local') {
    if (judgeModel !== undefined) throw new StudioError('usage', '--judge-model: only for --judge URL (a local judge is the loaded model)');
    return { kind: 'local' };
  }
  let url: URL;
  try {
    url = new URL(judge);
  } catch {
    throw new StudioError('usage', `--judge ${JSON.stringify(judge)}: expected local or an http(s) URL of an OpenAI-compatible server`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new StudioError('usage', `--judge ${JSON.stringify(judge)}: expected an http(s) URL`);
  return { kind: 'endpoint', url: judge, ...(judgeModel ? { model: judgeModel } : {}) };
}

const fmt = (x: number | null | undefined, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');

export async function evalCommand(f: Flags, ctx: CliContext): Promise<number> {
  if (!f.model) throw new StudioError('usage', 'eval: --model is required');
  if (!f.persona) throw new StudioError('usage', 'eval: --persona is required (a library persona by id or name)');
  if (f.report) reportKind(f.report);
  const judge = judgeFromFlags(f.judge, f['judge-model']);
  const lib = Library.open({ dataDir: ctx.dataDir });
  const engine = new Engine({ inProcess: true }); // single-shot: no worker start (see EngineOptions)
  const ac = new AbortController();
  const onSigint = () =>
    ac.abort(new StudioError('cancelled', 'eval: cancelled (finished batches are kept; run the same command to resume)'));
  process.once('SIGINT', onSigint);
  try {
    const bars = {
      generate: progressPrinter('eval: generating'),
      score: progressPrinter('eval: scoring'),
      judge: progressPrinter('eval: judging'),
    };
    const {
      report: rep,
      evaluationId,
      resumedBatches,
    } = await evaluatePersona(
      lib,
      ctx.dataDir,
      evaluationEngine(engine, (dir) => engine.load(dir, { provider: f.provider ?? 'auto', threads: f.threads ?? 0 })),
      {
        model: f.model,
        judgeKey: resolveJudgeKey(fileSecretStore(ctx.dataDir)),
        persona: f.persona,
        questions: f.questions,
        promptSet: f['prompt-set'],
        judge,
        provider: f.provider,
        settings: {
          layer: f.layer,
          alpha: f.alpha,
          alphas: f.alphas ?? [],
          samples: f.samples,
          maxNewTokens: f['max-new-tokens'],
          seed: f.seed,
        },
        signal: ac.signal,
        onProgress: (p) => bars[p.stage](p.done, p.total),
        onCompileProgress: progressPrinter('compiling'),
      },
    );
    if (resumedBatches) ctx.stderr(`resumed: ${resumedBatches} generation batches were already done\n`);
    const written = f.report
      ? await writeReport(f.report, { html: () => evalReportHtml(rep), json: () => evalReportJson(rep) }, { signal: ac.signal })
      : null;
    if (f.json) ctx.stdout(`${evalReportJson(rep)}\n`);
    else {
      const at = rep.steeredAt;
      const p = rep.provenance;
      ctx.stdout(
        `eval of ${oneLine(p.persona.name)} on ${oneLine(p.model.name)}: ${rep.questions.length} questions × ${rep.settings.samples} (evaluation ${evaluationId})\n`,
      );
      ctx.stdout(`steered at layer ${at.layer}, α ${at.alpha}: ${at.note}\n`);
      const line = (c: EvalColumn) =>
        `  ${(c.alpha === null ? 'unsteered' : `α ${c.alpha}`).padEnd(10)}  gain ${fmt(c.traitGain, 4).padStart(8)}  ppl ${fmt(c.perplexity, 2).padStart(8)}  KL ${fmt(c.kl, 3)}${c.markerScore !== null ? `  markers ${fmt(c.markerScore, 2)}` : ''}${c.judge ? `  judge trait ${fmt(c.judge.trait, 1)} coherence ${fmt(c.judge.coherence, 1)} (${c.judge.scored}/${c.judge.total} scored)` : ''}\n`;
      ctx.stdout(line(rep.unsteered));
      for (const c of rep.steered) ctx.stdout(line(c));
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
