// A sweep in the library: an evaluation of kind 'sweep' on the persona's vector set (grid, per-cell
// metrics with the recommendation, settings with provenance, and every sample). The newest sweep of
// a vector set with a recommendation is what steering uses when no α or layer is given — so the
// recommendation travels with the persona in backups and archives without a schema change.
import type { Library } from '../library/index.ts';
import type { SweepReport } from './sweep-report.ts';
import { StudioError } from '../errors.ts';

export const SWEEP_KIND = 'sweep';
/**
 * A (layer, α) the user chose from a stored sweep (the app's "Use recommendation" / "Use this
 * cell"): an evaluation row with only the choice, newer than the sweep, so steering takes it.
 */
export const SWEEP_CHOICE_KIND = 'sweep-choice';

export interface StoredRecommendation {
  layer: number;
  alpha: number;
  evaluationId: string;
  rule: string;
}

export function saveSweep(lib: Library, rep: SweepReport, ids: { personaId: string; vectorId: string; modelId: string }): string {
  const e = lib.evaluations.create({
    name: `sweep of ${rep.provenance.persona.name}`,
    kind: SWEEP_KIND,
    personaId: ids.personaId,
    vectorId: ids.vectorId,
    modelId: ids.modelId,
    grid: { layers: rep.settings.layers, alphas: rep.settings.alphas },
    // Non-finite numbers (an all-empty cell's perplexity) are stored as null.
    metrics: JSON.parse(
      JSON.stringify({ baseline: rep.baseline, cells: rep.cells, recommendation: rep.recommendation }, (_k, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? null : v,
      ),
    ) as unknown,
    settings: { ...rep.settings, provenance: rep.provenance, questions: rep.questions },
    samples: rep.samples.map((s) => ({ layer: s.layer, alpha: s.alpha, prompt: s.question, output: s.text, scores: { seed: s.seed } })),
  });
  return e.id;
}

/** Stores a chosen cell of the sweep `evaluationId` as what steering uses for its vector set. */
export function saveSweepChoice(lib: Library, evaluationId: string, cell: { layer: number; alpha: number }): string {
  const sweep = lib.evaluations.require(evaluationId);
  if (sweep.kind !== SWEEP_KIND) throw new StudioError('usage', `evaluation ${evaluationId} is a ${sweep.kind}, not a sweep`);
  const grid = sweep.grid as { layers?: number[]; alphas?: number[] };
  if (!grid.layers?.includes(cell.layer) || !grid.alphas?.includes(cell.alpha))
    throw new StudioError('usage', `layer ${cell.layer}, α ${cell.alpha}: not a cell of sweep ${evaluationId}`);
  const rec = (sweep.metrics as { recommendation?: { layer?: unknown; alpha?: unknown } } | null)?.recommendation;
  const recommended = rec?.layer === cell.layer && rec?.alpha === cell.alpha;
  const e = lib.evaluations.create({
    name: `${sweep.name}: layer ${cell.layer}, α ${cell.alpha}`,
    kind: SWEEP_CHOICE_KIND,
    personaId: sweep.personaId,
    vectorId: sweep.vectorId,
    modelId: sweep.modelId,
    grid: { layers: [cell.layer], alphas: [cell.alpha] },
    metrics: {
      recommendation: { layer: cell.layer, alpha: cell.alpha, rule: recommended ? 'the sweep’s recommendation' : 'chosen by the user' },
    },
    settings: { sweep: evaluationId },
  });
  return e.id;
}

/** The (layer, α) of the newest sweep (or choice from one) of this vector set that made one, or null. */
export function storedRecommendation(lib: Library, personaId: string, vectorId: string): StoredRecommendation | null {
  for (const e of lib.evaluations.list({ personaId })) {
    if ((e.kind !== SWEEP_KIND && e.kind !== SWEEP_CHOICE_KIND) || e.vectorId !== vectorId) continue;
    const r = (e.metrics as { recommendation?: { layer?: unknown; alpha?: unknown; rule?: unknown } } | null)?.recommendation;
    if (r && typeof r.layer === 'number' && typeof r.alpha === 'number')
      return { layer: r.layer, alpha: r.alpha, evaluationId: e.id, rule: typeof r.rule === 'string' ? r.rule : '' };
  }
  return null;
}
