// Domain types of the library, with zod schemas for everything that crosses a boundary (files,
// IPC, the database's JSON columns). Float data travels as Float32Array and is checked by hand.
import { z } from 'zod';
import { fromZod } from '../errors.ts';

export const METHODS = ['mean-diff', 'pca', 'arithmetic'] as const;
/** How token activations were pooled before the difference was taken. */
export const REDUCTIONS = ['response-mean', 'last-prompt', 'all-tokens', 'prompt-mean'] as const;
export const methodSchema = z.enum(METHODS);
export const reductionSchema = z.enum(REDUCTIONS);
export type Method = z.infer<typeof methodSchema>;
export type Reduction = z.infer<typeof reductionSchema>;

const finite = z.number().refine(Number.isFinite, 'must be finite');

/** Samples behind a vector. Unknown keys are kept, so newer files lose nothing here. */
export const countsSchema = z.looseObject({
  positive: z.int().nonnegative(),
  negative: z.int().nonnegative(),
  positiveTokens: z.int().nonnegative().optional(),
  negativeTokens: z.int().nonnegative().optional(),
});
export type Counts = z.infer<typeof countsSchema>;

/** Per-layer separation statistics (e.g. cohenD, auc, projectionGap): named finite numbers. */
export const separationSchema = z.record(z.string().min(1).max(64), finite);
export type Separation = z.infer<typeof separationSchema>;

export const lineageTermSchema = z.object({
  vectorId: z.string(),
  personaId: z.string(),
  personaName: z.string(),
  coef: finite,
});
export const lineageSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('combine'), terms: z.array(lineageTermSchema).min(1) }),
  z.object({ op: z.literal('orthogonalize'), base: lineageTermSchema, against: lineageTermSchema }),
]);
export type Lineage = z.infer<typeof lineageSchema>;

export const importSourceSchema = z.object({
  format: z.string(),
  file: z.string(),
  importedAt: z.string(),
  warnings: z.array(z.string()),
});

export const provenanceSchema = z.looseObject({
  promptSetHash: z.string().nullable(),
  promptSetId: z.string().nullable().optional(),
  promptSetVersion: z.int().positive().nullable().optional(),
  settings: z.record(z.string(), z.unknown()),
  seed: z.int().nullable(),
  appVersion: z.string(),
  createdAt: z.string(),
  source: importSourceSchema.nullable().optional(),
  lineage: lineageSchema.nullable().optional(),
});
export type Provenance = z.infer<typeof provenanceSchema>;

/** One layer's raw direction. `layer` b = residual stream right after decoder block b. */
export interface LayerVector {
  layer: number;
  vector: Float32Array;
  /** L2 norm of `vector`, stored so lists and α scaling need not touch the floats. */
  norm: number;
  separation: Separation | null;
}

/** A persona's directions for one model: the unit of storage, import and export. */
export interface PersonaVectorSet {
  /** Hub id, path or name of the model the vectors were computed on. */
  modelId: string;
  /** Content hash of that model's weights, when known. */
  modelHash: string | null;
  hiddenSize: number;
  numLayers: number;
  /** Sorted by layer; absent layers are simply missing. */
  layers: LayerVector[];
  method: Method | null;
  reduction: Reduction | null;
  counts: Counts | null;
  provenance: Provenance;
}

/** Metadata of a vector set without the floats (what lists and files' JSON carry). */
export const vectorSetMetaSchema = z.object({
  modelId: z.string(),
  modelHash: z.string().nullable(),
  hiddenSize: z
    .int()
    .positive()
    .max(1 << 20),
  numLayers: z.int().positive().max(4096),
  method: methodSchema.nullable(),
  reduction: reductionSchema.nullable(),
  counts: countsSchema.nullable(),
  provenance: provenanceSchema,
});
export type VectorSetMeta = z.infer<typeof vectorSetMetaSchema>;

export const layerMetaSchema = z.object({
  layer: z.int().nonnegative(),
  norm: finite.nonnegative(),
  separation: separationSchema.nullable(),
});

/** L2 norm accumulated in float64. */
export function l2norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** A layer with its norm computed. */
export function layerVector(layer: number, vector: Float32Array, separation: Separation | null = null): LayerVector {
  return { layer, vector, norm: l2norm(vector), separation };
}

/**
 * Checks a set's invariants (layers in range, sorted and unique, right length, finite values,
 * norms matching) and throws one line naming the first problem. `what` names the set in messages.
 */
export function validateVectorSet(set: PersonaVectorSet, what = 'vector set'): void {
  const meta = vectorSetMetaSchema.safeParse(set);
  if (!meta.success) {
    throw fromZod('format', meta.error, what, ': ');
  }
  if (set.layers.length === 0) throw new Error(`${what}: has no layers`);
  let prev = -1;
  for (const l of set.layers) {
    if (!Number.isInteger(l.layer) || l.layer < 0 || l.layer >= set.numLayers) {
      throw new Error(`${what}: layer ${l.layer} is outside 0..${set.numLayers - 1}`);
    }
    if (l.layer <= prev) throw new Error(`${what}: layers must be sorted and unique (layer ${l.layer} after ${prev})`);
    prev = l.layer;
    if (!(l.vector instanceof Float32Array)) throw new Error(`${what}: layer ${l.layer} is not a Float32Array`);
    if (l.vector.length !== set.hiddenSize) {
      throw new Error(`${what}: layer ${l.layer} has ${l.vector.length} values, hidden size is ${set.hiddenSize}`);
    }
    for (let i = 0; i < l.vector.length; i++) {
      if (!Number.isFinite(l.vector[i]!)) throw new Error(`${what}: layer ${l.layer} value ${i} is ${l.vector[i]}`);
    }
    const n = l2norm(l.vector);
    if (Math.abs(n - l.norm) > 1e-6 * Math.max(1, n))
      throw new Error(`${what}: layer ${l.layer} norm ${l.norm} does not match its values (${n})`);
    if (l.separation !== null) {
      const s = separationSchema.safeParse(l.separation);
      if (!s.success) throw new Error(`${what}: layer ${l.layer} separation: ${s.error.issues[0]!.message}`);
    }
  }
}

// ---- library records ----

export const personaInputSchema = z.object({
  name: z.string().trim().min(1, 'name is empty').max(200),
  description: z.string().max(20_000).default(''),
  notes: z.string().max(200_000).default(''),
  tags: z.array(z.string().trim().min(1).max(64)).max(64).default([]),
});
export type PersonaInput = z.input<typeof personaInputSchema>;

export interface Persona {
  id: string;
  name: string;
  description: string;
  notes: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  /** Library model ids this persona has live vectors for. */
  modelIds: string[];
}

export const modelInputSchema = z.object({
  name: z.string().trim().min(1).max(200),
  source: z.string().min(1).max(4096),
  sourceKind: z.enum(['path', 'hub']),
  contentHash: z.string().max(200).nullable().default(null),
  architecture: z.string().min(1).max(100),
  hiddenSize: z
    .int()
    .positive()
    .max(1 << 20),
  numLayers: z.int().positive().max(4096),
});
export type ModelInput = z.input<typeof modelInputSchema>;

export interface ModelRecord {
  id: string;
  name: string;
  source: string;
  sourceKind: 'path' | 'hub';
  contentHash: string | null;
  architecture: string;
  hiddenSize: number;
  numLayers: number;
  createdAt: string;
  deletedAt: string | null;
}

export const variantInputSchema = z.object({
  label: z.string().trim().min(1).max(100),
  path: z.string().min(1).max(4096),
  precision: z.string().min(1).max(32),
  compilerVersion: z.string().max(64).default(''),
  options: z.record(z.string(), z.unknown()).default({}),
});
export type VariantInput = z.input<typeof variantInputSchema>;
export interface ModelVariant {
  id: string;
  modelId: string;
  label: string;
  path: string;
  precision: string;
  compilerVersion: string;
  options: Record<string, unknown>;
  createdAt: string;
}

export const PROMPT_KINDS = [
  'positive',
  'negative',
  'evaluation',
  'baseline',
  'questions',
  'heldout-positive',
  'heldout-negative',
  'heldout-questions',
] as const;
export const promptKindSchema = z.enum(PROMPT_KINDS);
export type PromptKind = z.infer<typeof promptKindSchema>;
const items = z.array(z.string()).max(100_000).default([]);
/** A version's prompts by kind; the held-out kinds are never trained on (see authoring/README.md). */
export const promptItemsSchema = z.object({
  positive: items,
  negative: items,
  evaluation: items,
  baseline: items,
  questions: items,
  'heldout-positive': items,
  'heldout-negative': items,
  'heldout-questions': items,
});
/** How a version's prompts are used (the prompt-set file's kind, role and markers), when known. */
export const promptSetSpecSchema = z.looseObject({
  kind: z.enum(['system-prompts', 'prompts']),
  role: z.string().optional(),
  markers: z.object({ positive: z.array(z.string()), negative: z.array(z.string()) }).optional(),
  source: z.string().optional(),
});
export type PromptSetSpec = z.infer<typeof promptSetSpecSchema>;
export type PromptItems = z.infer<typeof promptItemsSchema>;

export interface PromptSet {
  id: string;
  name: string;
  description: string;
  latestVersion: number;
  createdAt: string;
  deletedAt: string | null;
}
export interface PromptSetVersion {
  id: string;
  promptSetId: string;
  version: number;
  /** sha256 of the canonical JSON of the items: what vectors record as promptSetHash. */
  contentHash: string;
  note: string;
  items: PromptItems;
  /** Null for versions stored before the spec existed (library version 2 and older). */
  spec: PromptSetSpec | null;
  createdAt: string;
}

/** A stored vector set: the set plus where it lives in the library. */
export interface VectorRecord extends PersonaVectorSet {
  id: string;
  personaId: string;
  /** The library model (models.id) the vectors are attached to. */
  libraryModelId: string;
  createdAt: string;
  deletedAt: string | null;
}

/** A vector's metadata without floats, for lists. */
export interface VectorSummary extends VectorSetMeta {
  id: string;
  personaId: string;
  libraryModelId: string;
  layers: { layer: number; norm: number; separation: Separation | null }[];
  createdAt: string;
  deletedAt: string | null;
}

export const JOB_STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export interface Job {
  id: string;
  kind: string;
  status: JobStatus;
  progress: number;
  message: string;
  params: unknown;
  /** Whatever the job needs to resume where it stopped. */
  state: unknown;
  result: unknown;
  error: string | null;
  personaId: string | null;
  modelId: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Evaluation {
  id: string;
  name: string;
  kind: string;
  personaId: string | null;
  vectorId: string | null;
  modelId: string | null;
  /** e.g. { layers: number[], alphas: number[] } */
  grid: unknown;
  metrics: unknown;
  settings: unknown;
  createdAt: string;
}
export interface EvaluationSample {
  seq: number;
  layer: number | null;
  alpha: number | null;
  prompt: string;
  output: string;
  scores: Record<string, number>;
}

export interface Comparison {
  id: string;
  name: string;
  config: unknown;
  results: unknown;
  createdAt: string;
  updatedAt: string;
}
export interface Chat {
  id: string;
  title: string;
  modelId: string | null;
  settings: unknown;
  createdAt: string;
  updatedAt: string;
}
export interface ChatMessage {
  seq: number;
  role: 'system' | 'user' | 'assistant';
  content: string;
  meta: unknown;
  createdAt: string;
}
