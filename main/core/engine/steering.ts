// Turning persona steering specs into the per-layer [batch, hidden] inputs of the graph.
//
// α scaling: in 'norm' mode a term adds α · n_b · v_b/|v_b| at layer b, where n_b is the model's
// typical residual-stream norm at layer b (mean over tokens of a calibration text). α = 0.1 then
// means "a tenth of the usual residual size" on every layer and every model. 'raw' adds α · v_b as
// stored (for interop with tools that ship pre-scaled vectors, e.g. llama.cpp control vectors).
import { z } from 'zod';
import { float32Array } from '../rpc/schemas.ts';
import { StudioError } from '../errors.ts';

const f32 = float32Array();

export const steeringTermSchema = z.object({
  /** Raw per-layer vectors, keyed by block index. */
  vectors: z.map(z.number().int().nonnegative(), f32),
  alpha: z.number().finite(),
  /** Blocks to apply at; default: every block the term has a vector for. */
  layers: z.array(z.number().int().nonnegative()).optional(),
  scale: z.enum(['norm', 'raw']).default('norm'),
  /** 'generated': leave the prompt unsteered and steer only newly generated tokens. */
  positions: z.enum(['all', 'generated']).default('all'),
});
export type SteeringTerm = z.input<typeof steeringTermSchema>;

export const rowSteeringSchema = z.object({
  terms: z.array(steeringTermSchema).default([]),
  /** Directions projected out of the residual stream after the given blocks (all blocks by default). */
  ablate: z
    .array(z.object({ vectors: z.map(z.number().int().nonnegative(), f32), layers: z.array(z.number().int().nonnegative()).optional() }))
    .default([]),
});
export type RowSteering = z.input<typeof rowSteeringSchema>;
type ParsedRow = z.output<typeof rowSteeringSchema>;

export interface SteeringContext {
  numLayers: number;
  hidden: number;
  residualNorms?: Float32Array | null;
}

function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** `what` (e.g. "steering row 0") names the thing; layer b must be a block of the model. */
function checkLayer(what: string, b: number, ctx: SteeringContext): void {
  if (!Number.isInteger(b) || b < 0 || b >= ctx.numLayers) {
    throw new StudioError('steering', `${what}: layer ${b} does not exist (model has ${ctx.numLayers} layers)`);
  }
}

function checkVector(what: string, b: number, v: Float32Array, ctx: SteeringContext): void {
  checkLayer(what, b, ctx);
  if (v.length !== ctx.hidden)
    throw new StudioError('steering', `${what}: layer ${b} vector has ${v.length} values, model hidden size is ${ctx.hidden}`);
}

/**
 * Validates every row's steering against the model, so nothing a row asks for is silently ignored:
 * every layer named (vector keys and `layers` of terms and ablations) must be a block of the model,
 * every vector the model's hidden size, and every layer asked for must have a vector to use.
 */
export function parseRowSteering(rows: (RowSteering | undefined)[], ctx: SteeringContext): ParsedRow[] {
  return rows.map((r, row) => {
    const result = rowSteeringSchema.safeParse(r ?? {});
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new StudioError('steering', `steering row ${row}: ${issue.path.join('.') || 'value'}: ${issue.message}`);
    }
    const parsed = result.data;
    for (const term of parsed.terms) {
      const what = `steering row ${row}`;
      for (const [b, v] of term.vectors) checkVector(what, b, v, ctx);
      for (const b of term.layers ?? []) {
        checkLayer(what, b, ctx);
        if (!term.vectors.has(b)) throw new StudioError('steering', `${what}: layer ${b} requested but the persona has no vector there`);
      }
      if (term.scale === 'norm' && !ctx.residualNorms) {
        throw new StudioError(
          'steering',
          `${what}: scale 'norm' needs the model's residual norms (calibrate the model first) or use scale 'raw'`,
        );
      }
    }
    for (const a of parsed.ablate) {
      const what = `ablation row ${row}`;
      for (const [b, v] of a.vectors) checkVector(what, b, v, ctx);
      // One direction given alone applies at every layer asked for; several apply at their own layers.
      const single = a.vectors.size === 1;
      for (const b of a.layers ?? []) {
        checkLayer(what, b, ctx);
        if (!single && !a.vectors.has(b))
          throw new StudioError('steering', `${what}: layer ${b} requested but no direction is given for it`);
      }
    }
    return parsed;
  });
}

/**
 * Per-layer steer inputs for one phase of a run ('prompt' = prefill, 'generated' = decode steps);
 * undefined where no row steers that layer (the model feeds shared zeros).
 */
export function steerInputs(rows: ParsedRow[], ctx: SteeringContext, phase: 'prompt' | 'generated'): (Float32Array | undefined)[] {
  const { numLayers, hidden } = ctx;
  const out: (Float32Array | undefined)[] = new Array(numLayers).fill(undefined);
  rows.forEach((row, r) => {
    for (const term of row.terms) {
      if (phase === 'prompt' && term.positions === 'generated') continue;
      const layers = term.layers ?? [...term.vectors.keys()];
      for (const b of layers) {
        const v = term.vectors.get(b)!;
        const n = norm(v);
        if (n === 0) continue;
        const k = term.scale === 'raw' ? term.alpha : (term.alpha * ctx.residualNorms![b]!) / n;
        const dst = (out[b] ??= new Float32Array(rows.length * hidden));
        const base = r * hidden;
        for (let i = 0; i < hidden; i++) dst[base + i]! += k * v[i]!;
      }
    }
  });
  return out;
}

/** Per-layer unit directions to ablate (one direction per row and layer; the last one given wins). */
export function ablateInputs(rows: ParsedRow[], ctx: SteeringContext): (Float32Array | undefined)[] {
  const { numLayers, hidden } = ctx;
  const out: (Float32Array | undefined)[] = new Array(numLayers).fill(undefined);
  rows.forEach((row, r) => {
    for (const a of row.ablate) {
      const single = a.vectors.size === 1 ? [...a.vectors.values()][0]! : null;
      const layers = a.layers ?? (single ? [...Array(numLayers).keys()] : [...a.vectors.keys()]);
      for (const b of layers) {
        const v = (a.vectors.get(b) ?? single)!; // parseRowSteering checked there is one
        const n = norm(v);
        if (n === 0) continue;
        const dst = (out[b] ??= new Float32Array(rows.length * hidden));
        for (let i = 0; i < hidden; i++) dst[r * hidden + i] = v[i]! / n;
      }
    }
  });
  return out;
}
