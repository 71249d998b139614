// A stored evaluation (kind 'eval', saved by evaluate.ts) read back as the EvalReport it was made
// from, so its report can be written again — another format, another place — without re-running
// the model. The library keeps every part of the report: metrics (steeredAt, the columns), settings
// (with provenance and the questions) and the samples (seed and judge scores among their scores).
// Numbers that were not finite (an all-empty column's perplexity) were stored as null and come back
// as null: the HTML shows them as "—", the JSON as null.
import { z } from 'zod';
import type { Library } from '../library/index.ts';
import { StudioError, zodIssueLine } from '../errors.ts';
import { EVAL_KIND, type EvalReport } from './evaluate.ts';

const column = z.looseObject({ alpha: z.number().nullable(), emptyReplies: z.number() });
const storedMetrics = z.object({
  steeredAt: z.looseObject({ layer: z.number(), alpha: z.number(), source: z.string(), note: z.string() }),
  unsteered: column,
  steered: z.array(column),
});
const storedSettings = z.looseObject({
  seed: z.number(),
  alphas: z.array(z.number()),
  provenance: z.looseObject({ judge: z.string().nullable(), persona: z.looseObject({ name: z.string() }) }),
  questions: z.array(z.string()),
});

/** The report of stored evaluation `id`; `label` names the argument in messages. */
export function storedEvalReport(lib: Library, id: string, label = 'evaluation'): EvalReport {
  const e = lib.evaluations.get(id);
  if (!e) throw new StudioError('not-found', `${label} ${JSON.stringify(id)}: no stored evaluation has that id`);
  if (e.kind !== EVAL_KIND)
    throw new StudioError('usage', `${label} ${JSON.stringify(id)}: a stored ${e.kind}, not an evaluation (kind ${EVAL_KIND})`);
  const m = storedMetrics.safeParse(e.metrics);
  const s = storedSettings.safeParse(e.settings);
  if (!m.success || !s.success)
    throw new StudioError('format', `${zodIssueLine((m.error ?? s.error)!, `${label} ${id}: stored evaluation`)}; run it again`);
  const { provenance, questions, ...settings } = s.data;
  const judged = provenance.judge !== null;
  return {
    format: 'persona-studio/eval-report',
    version: 1,
    provenance: provenance as unknown as EvalReport['provenance'],
    steeredAt: m.data.steeredAt as unknown as EvalReport['steeredAt'],
    settings: settings as unknown as EvalReport['settings'],
    questions,
    unsteered: m.data.unsteered as unknown as EvalReport['unsteered'],
    steered: m.data.steered as unknown as EvalReport['steered'],
    samples: lib.evaluations.samples(id).map((x) => ({
      question: x.prompt,
      seed: x.scores.seed ?? settings.seed,
      alpha: x.alpha,
      text: x.output,
      judge: judged ? { trait: x.scores.trait ?? null, coherence: x.scores.coherence ?? null } : null,
    })),
  };
}
