// The app's one contract (renderer ↔ main): every call the studio's UI can make, with its args,
// result and streamed events, declared once with zod. Main's handler map (main/server/handlers.ts,
// reused by Electron main) is typed from it — a missing handler fails to compile — and so is the
// renderer's client, over the preload bridge or a WebSocket (browser mode). Types and schemas only:
// no Node imports, so the renderer can import it (type-only) and the browser can run it.
//
// Names, ids and paths: a model is named as everywhere else (main/core/model-ref.ts: a folder, or a
// library model by id, name or content hash); a persona by id or exact name; paths are on the
// machine running main (the server, in browser mode).
import { z } from 'zod';
import { defineContract, type ArgsInput, type ResultOutput } from '../main/core/rpc/contract.ts';

const id = z.string().min(1);
const path = z.string().min(1);
const count = z.number().int().nonnegative();
const progress = z.object({ stage: z.string(), done: count, total: count, etaMs: z.number().nullable().optional() });

export const PRECISIONS = ['fp32', 'fp16', 'int8', 'int4'] as const;
export const COMPILE_PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml'] as const;
export const VECTOR_FORMATS = ['studio', 'gguf', 'persona-vectors', 'toolkit', 'safetensors'] as const;

export const modelSchema = z.object({
  id,
  name: z.string(),
  source: z.string(),
  sourceKind: z.enum(['path', 'hub']),
  contentHash: z.string().nullable(),
  architecture: z.string(),
  hiddenSize: count,
  numLayers: count,
  createdAt: z.string(),
  variants: z.array(z.object({ id, label: z.string(), path: z.string(), precision: z.string(), createdAt: z.string() })),
});

export const personaSchema = z.object({
  id,
  name: z.string(),
  description: z.string(),
  notes: z.string(),
  tags: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable(),
  modelIds: z.array(z.string()),
});

export const vectorSummarySchema = z.object({
  id,
  personaId: z.string(),
  libraryModelId: z.string(),
  modelId: z.string(),
  hiddenSize: count,
  numLayers: count,
  method: z.string().nullable(),
  reduction: z.string().nullable(),
  counts: z.object({ positive: count, negative: count }).nullable(),
  layers: z.array(z.object({ layer: count, norm: z.number(), separation: z.record(z.string(), z.number()).nullable() })),
  createdAt: z.string(),
});

export const promptSetSchema = z.object({
  id,
  name: z.string(),
  description: z.string(),
  latestVersion: z.number().int().positive(),
  createdAt: z.string(),
});

const promptItems = z.array(z.string());
export const promptSetVersionSchema = z.object({
  id,
  promptSetId: z.string(),
  version: z.number().int().positive(),
  contentHash: z.string(),
  note: z.string(),
  items: z.object({ positive: promptItems, negative: promptItems, evaluation: promptItems, baseline: promptItems, questions: promptItems }),
  spec: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
});

export const engineStatusSchema = z
  .object({ dir: z.string(), provider: z.string(), providerReason: z.string(), precision: z.string(), hasTokenizer: z.boolean() })
  .nullable();

const sampling = z
  .object({
    greedy: z.boolean().optional(),
    temperature: z.number().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    topK: z.number().int().min(0).optional(),
    minP: z.number().min(0).max(1).optional(),
    repetitionPenalty: z.number().gt(0).optional(),
    seed: z.number().int().min(0).optional(),
  })
  .default({});

/** Steering as the CLI's --persona P=α / --layers / --alpha-mode / --ablate (core/steering/persona-steering.ts). */
export const steeringSchema = z.object({
  personas: z.array(z.object({ persona: id, alpha: z.number().min(-1000).max(1000).default(1) })).max(16),
  /** all, b, a-b or a comma list; default: layer 2L/3 in norm mode, every layer the vector has in raw mode. */
  layers: z.string().min(1).optional(),
  alphaMode: z.enum(['norm', 'raw']).default('norm'),
  ablate: z.array(id).max(16).default([]),
});

const chatPrompt = z.object({
  /** The user message (chat template applied), or with `raw` the literal text. */
  prompt: z.string(),
  system: z.string().optional(),
  raw: z.boolean().default(false),
});

const generationArgs = {
  model: id,
  ...chatPrompt.shape,
  sampling,
  maxNewTokens: z.number().int().min(1).max(32768).default(128),
};

const tokenEvent = z.object({ row: count, index: count, text: z.string() });
const finish = z.enum(['eos', 'length', 'stop', 'cancelled']);

// ---- ui-b: steering ops ----
const chatMessage = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });

export const chatArgsSchema = z.object({
  model: id,
  system: z.string().optional(),
  /** The conversation so far, ending with the user's turn (the CLI chat's history plus the new line). */
  messages: z
    .array(chatMessage)
    .min(1)
    .refine((m) => m[m.length - 1]!.role === 'user', 'the last message must be the user turn to answer'),
  /** The start of the reply, kept as it is; generation continues after it (prefilled with the prompt). */
  continueFrom: z.string().default(''),
  steering: steeringSchema.optional(),
  /** The seed is offset by the number of assistant turns in `messages`, as the CLI chat does per turn. */
  sampling,
  maxNewTokens: z.number().int().min(1).max(32768).default(256),
  /** Names this reply so `chat.steer` can change its steering while it streams. */
  stream: z.string().min(1).max(100).optional(),
});

/** A comparison as saved: the compare call's settings… */
export const comparisonConfigSchema = z.object({
  model: id,
  prompt: z.string(),
  system: z.string().optional(),
  steering: steeringSchema,
  alphas: z.array(z.number()).min(1),
  maxNewTokens: z.number().int().positive(),
  sampling: z.record(z.string(), z.unknown()).default({}),
});
/** …and its answer: one column per α, with the seed every column shared. */
export const comparisonResultsSchema = z.object({
  seed: count,
  steering: z.array(z.string()),
  columns: z.array(z.object({ alpha: z.number(), text: z.string(), finish })),
});
export const savedComparisonSchema = z.object({
  id,
  name: z.string(),
  config: comparisonConfigSchema,
  results: comparisonResultsSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});

const maybe = z.number().nullable(); // a stored metric: non-finite numbers (an all-empty cell's perplexity) are null
export const sweepCellSchema = z.object({
  layer: count,
  alpha: z.number(),
  traitGain: maybe,
  perplexity: maybe,
  kl: maybe,
  markerScore: maybe,
  projection: maybe,
  meanTokens: z.number(),
  emptyReplies: count,
});
export const sweepRecommendationSchema = z.object({
  layer: count.nullable(),
  alpha: z.number().nullable(),
  rule: z.string(),
  reason: z.string(),
  traitGain: maybe,
  perplexity: maybe,
  kl: maybe,
});
/** A stored sweep (an evaluation of kind 'sweep'), without its samples. */
export const sweepSummarySchema = z.object({
  id,
  name: z.string(),
  personaId: z.string(),
  vectorId: z.string(),
  modelId: z.string(),
  createdAt: z.string(),
  layers: z.array(count),
  alphas: z.array(z.number()),
  recommendation: sweepRecommendationSchema,
  /** The (layer, α) steering uses for this sweep's vector set now (from this or a newer sweep or choice), or null. */
  inUse: z.object({ layer: count, alpha: z.number(), evaluationId: z.string() }).nullable(),
});
export const sweepSchema = sweepSummarySchema.extend({
  baseline: z.object({ perplexity: maybe, markerScore: maybe }),
  cells: z.array(sweepCellSchema),
  /** Every reply: layer null is the unsteered baseline. */
  samples: z.array(z.object({ layer: count.nullable(), alpha: z.number(), question: z.string(), seed: count, text: z.string() })),
  questionsFrom: z.string(),
});

const steeringOps = {
  /**
   * One chat reply, streamed with each token's trait projection. A `chat.steer` on its stream cuts
   * the running generation and continues the same reply from the text already streamed under the
   * new steering (the rest of the reply is produced under it; the tokens shown are kept).
   */
  chat: {
    args: chatArgsSchema,
    result: z.object({
      /** The whole reply, continueFrom included. */
      text: z.string(),
      tokens: count,
      finish,
      seed: count,
      steering: z.array(z.string()),
      /** Projection of each generated token's residual stream on the meter's direction (empty without one). */
      projections: z.array(z.number()),
      /** Where the steering changed mid-reply: at which generated token, and to what. */
      restyles: z.array(z.object({ index: count, steering: z.array(z.string()) })),
      prefillMs: z.number(),
      decodeMs: z.number(),
    }),
    events: {
      token: z.object({ index: count, text: z.string(), projection: z.number().optional() }),
      /**
       * The trait meter: the persona and layer whose direction the projections are on, and that
       * layer's typical residual norm (projection / scale compares across layers; null in raw mode).
       */
      meter: z.object({ persona: z.string(), layer: count, scale: z.number().nullable() }),
      /** The steering changed mid-reply (chat.steer): tokens from `index` on are under it. */
      restyle: z.object({ index: count, steering: z.array(z.string()) }),
    },
  },
  /**
   * Saves a finished comparison (what `compare` was asked and answered) in the library's comparisons;
   * `compare.list` gives them back, newest first.
   */
  'compare.save': {
    args: z.object({ name: z.string().trim().min(1).max(200), config: comparisonConfigSchema, results: comparisonResultsSchema }),
    result: savedComparisonSchema,
  },
  'compare.list': { args: z.object({}), result: z.array(savedComparisonSchema) },
  /**
   * A persona's layer × α sweep (the CLI's `sweep`), saved in the library with its recommendation.
   * Progress per stage with an ETA; cancel keeps the finished batches: the same call resumes.
   * Questions: given, a prompt set (library name/id or a file on the server), else the held-out
   * questions of the persona's own prompt set.
   */
  'sweep.run': {
    args: z.object({
      model: id,
      persona: id,
      /** all, b, a-b or a list; default every layer the persona has. */
      layers: z.string().min(1).optional(),
      alphas: z.array(z.number().min(-1000).max(1000)).min(1).max(32).optional(),
      questions: z.array(z.string()).min(1).max(500).optional(),
      promptSet: id.optional(),
      samples: z.number().int().min(1).max(64).optional(),
      maxNewTokens: z.number().int().min(1).max(4096).optional(),
      seed: z.number().int().min(0).optional(),
      rule: z
        .object({ maxPerplexityIncrease: z.number().min(0).max(100).optional(), maxKl: z.number().min(0).max(1000).optional() })
        .optional(),
    }),
    result: z.object({ sweep: sweepSchema, resumedBatches: count }),
    events: { progress },
  },
  /** Stored sweeps, newest first. */
  'sweep.list': { args: z.object({ persona: id.optional(), model: id.optional() }), result: z.array(sweepSummarySchema) },
  'sweep.get': { args: z.object({ sweep: id }), result: sweepSchema },
  /** Makes a cell of a stored sweep what steering uses for its persona's vectors (when no layer or α is given). */
  'sweep.use': {
    args: z.object({ sweep: id, layer: count, alpha: z.number() }),
    result: z.object({ choiceId: id, inUse: z.object({ layer: count, alpha: z.number(), evaluationId: z.string() }) }),
  },
  /** Changes the steering of a running chat reply (its `stream`); false when no such reply is running. */
  'chat.steer': { args: z.object({ stream: z.string().min(1), steering: steeringSchema }), result: z.object({ applied: z.boolean() }) },
} as const;

export const appContract = defineContract({
  /** The library's models with their compiled variants. */
  'models.list': { args: z.object({}), result: z.array(modelSchema) },
  /** Compiles a Hugging Face checkpoint folder into the data dir's cache and records it in the library. */
  'models.compile': {
    args: z.object({ checkpointDir: path, precision: z.enum(PRECISIONS).optional(), provider: z.enum(COMPILE_PROVIDERS).optional() }),
    result: z.object({ modelId: id, name: z.string(), dir: z.string(), cached: z.boolean(), numLayers: count, hiddenSize: count }),
    events: { progress },
  },
  /** The model the engine has loaded, or null. */
  'models.status': { args: z.object({}), result: engineStatusSchema },

  'personas.list': {
    args: z.object({ search: z.string().optional(), tag: z.string().optional(), model: id.optional(), trash: z.boolean().default(false) }),
    result: z.array(personaSchema),
  },
  'personas.show': { args: z.object({ persona: id }), result: z.object({ persona: personaSchema, vectors: z.array(vectorSummarySchema) }) },
  'personas.rename': { args: z.object({ persona: id, name: z.string().trim().min(1).max(200) }), result: personaSchema },
  /** Moves a persona to the trash (restore undoes it). */
  'personas.delete': { args: z.object({ persona: id }), result: z.null() },
  'personas.restore': { args: z.object({ persona: id }), result: z.null() },
  /** Imports a vector file (any format the library reads) for a library model. */
  'personas.import': {
    args: z.object({
      file: path,
      model: id,
      format: z.enum(VECTOR_FORMATS).optional(),
      name: z.string().trim().min(1).max(200).optional(),
      layerShift: z.number().int().min(-1).max(1).optional(),
    }),
    result: z.object({ persona: personaSchema, format: z.string(), warnings: z.array(z.string()) }),
  },
  'personas.export': {
    args: z.object({
      persona: id,
      format: z.enum(VECTOR_FORMATS),
      path: path.optional(),
      dir: path.optional(),
      layer: z.number().int().nonnegative().optional(),
    }),
    result: z.object({ files: z.array(z.string()), warnings: z.array(z.string()) }),
  },
  /**
   * Trains a persona from a prompt set (a library prompt set by name or id, or a prompt-set file on
   * the server) and saves it with its vectors. Cancel keeps the finished batches: the same call resumes.
   */
  'personas.train': {
    args: z.object({
      model: id,
      name: z.string().trim().min(1).max(200),
      promptSet: id,
      settings: z
        .object({
          method: z.enum(['mean-diff', 'pca']).optional(),
          reduction: z.enum(['response-mean', 'last-prompt', 'all-tokens']).optional(),
          maxPairs: z.number().int().min(2).max(100_000).optional(),
          samples: z.number().int().min(1).max(64).optional(),
          maxNewTokens: z.number().int().min(1).max(4096).optional(),
          seed: z.number().int().min(0).optional(),
          batchSize: z.number().int().min(1).max(64).optional(),
        })
        .default({}),
    }),
    result: z.object({
      persona: personaSchema,
      vectorId: id,
      resumedBatches: count,
      counts: z.object({ positive: count, negative: count }),
      separationOn: z.string(),
      layers: z.array(z.object({ layer: count, auc: z.number().nullable(), cohenD: z.number().nullable() })),
    }),
    events: { progress },
  },

  'promptSets.list': { args: z.object({}), result: z.array(promptSetSchema) },
  /** One version of a prompt set (the latest by default). */
  'promptSets.show': {
    args: z.object({ promptSet: id, version: z.number().int().positive().optional() }),
    result: z.object({ promptSet: promptSetSchema, version: promptSetVersionSchema }),
  },

  /** One reply, streamed token by token, optionally steered. */
  generate: {
    args: z.object({ ...generationArgs, steering: steeringSchema.optional() }),
    result: z.object({
      text: z.string(),
      tokens: count,
      finish,
      seed: count,
      steering: z.array(z.string()),
      prefillMs: z.number(),
      decodeMs: z.number(),
    }),
    events: { token: tokenEvent },
  },
  /** Several α in one batched run with the same seed: one column (row) per α. */
  compare: {
    args: z.object({ ...generationArgs, steering: steeringSchema, alphas: z.array(z.number().min(-1000).max(1000)).min(2).max(16) }),
    result: z.object({
      seed: count,
      steering: z.array(z.string()),
      columns: z.array(z.object({ alpha: z.number(), text: z.string(), finish })),
    }),
    events: { token: tokenEvent },
  },

  // ---- ui-b: steering ops ----
  ...steeringOps,
});

export type AppContract = typeof appContract;
export type AppArgs<K extends keyof AppContract & string> = ArgsInput<AppContract, K>;
export type AppResult<K extends keyof AppContract & string> = ResultOutput<AppContract, K>;
