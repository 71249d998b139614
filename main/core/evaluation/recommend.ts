// The recommended (layer, α) of a sweep, by a rule stated in words next to the choice: the largest
// trait gain among the cells that keep the model coherent (perplexity of the replies within a share
// of the unsteered replies') and close to the unsteered model on neutral prompts (KL bound).
import { z } from 'zod';

export const recommendRuleSchema = z.strictObject({
  /** A cell's reply perplexity may be at most (1 + this) × the unsteered replies'. */
  maxPerplexityIncrease: z.number().min(0).max(100).default(0.5),
  /** Mean KL(unsteered ‖ steered) on neutral prompts, nats. */
  maxKl: z.number().min(0).default(1),
  /** Trait gain (projection rise as a share of the layer's residual norm) a cell must exceed. */
  minTraitGain: z.number().default(0),
});
export type RecommendRule = z.output<typeof recommendRuleSchema>;

export interface Recommendation {
  layer: number | null;
  alpha: number | null;
  /** The rule in words, with its numbers. */
  rule: string;
  /** Why this cell, or why none. */
  reason: string;
  traitGain: number | null;
  perplexity: number | null;
  kl: number | null;
}

interface CellLike {
  layer: number;
  alpha: number;
  traitGain: number;
  perplexity: number;
  kl: number;
}

export function ruleText(r: RecommendRule): string {
  return (
    `the largest trait gain (projection rise over the unsteered replies, as a share of the layer's residual norm) among α > 0 cells ` +
    `whose reply perplexity stays within ${Math.round(r.maxPerplexityIncrease * 100)}% of the unsteered replies' and whose KL on ` +
    `neutral prompts stays under ${r.maxKl} nats, above ${r.minTraitGain}; ties go to the smaller α`
  );
}

export function recommend(cells: CellLike[], baselinePerplexity: number, r: RecommendRule): Recommendation {
  const rule = ruleText(r);
  const pplCap = baselinePerplexity * (1 + r.maxPerplexityIncrease);
  const ok = cells.filter(
    (c) => c.alpha > 0 && Number.isFinite(c.traitGain) && c.perplexity <= pplCap && c.kl <= r.maxKl && c.traitGain > r.minTraitGain,
  );
  if (ok.length === 0) {
    const positive = cells.filter((c) => c.alpha > 0);
    const why = !positive.length
      ? 'no α > 0 was swept'
      : `none of the ${positive.length} α > 0 cells passed (perplexity cap ${pplCap.toFixed(2)}, KL ≤ ${r.maxKl}, gain > ${r.minTraitGain})`;
    return { layer: null, alpha: null, rule, reason: why, traitGain: null, perplexity: null, kl: null };
  }
  ok.sort((a, b) => b.traitGain - a.traitGain || a.alpha - b.alpha || a.layer - b.layer);
  const best = ok[0]!;
  return {
    layer: best.layer,
    alpha: best.alpha,
    rule,
    reason: `layer ${best.layer}, α ${best.alpha}: trait gain ${best.traitGain.toFixed(3)}, perplexity ${best.perplexity.toFixed(2)} (unsteered ${baselinePerplexity.toFixed(2)}), KL ${best.kl.toFixed(3)}; ${ok.length} of ${cells.length} cells passed`,
    traitGain: best.traitGain,
    perplexity: best.perplexity,
    kl: best.kl,
  };
}
