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

// ---- ui-a: authoring ops (schemas) ----

/** A folder entry of the server-side file picker (browser mode cannot browse the server's disk). */
export const fileEntrySchema = z.object({ name: z.string(), path: z.string(), kind: z.enum(['dir', 'file']), size: count.nullable() });

const promptTexts = z.array(z.string());
/**
 * A prompt-set document (main/core/authoring/prompt-set-file.ts, format "persona-studio/prompt-set")
 * as it crosses the wire: its shape only; main validates it fully (each field's rules, one line
 * naming the field) with the core's schema, which the contract may not import.
 */
export const promptSetDocSchema = z.object({
  name: z.string(),
  description: z.string().default(''),
  kind: z.enum(['system-prompts', 'prompts']),
  role: z.string().optional(),
  positive: promptTexts,
  negative: promptTexts,
  questions: promptTexts.default([]),
  heldout: z
    .object({ positive: promptTexts, negative: promptTexts, questions: promptTexts })
    .default({ positive: [], negative: [], questions: [] }),
  markers: z.object({ positive: promptTexts, negative: promptTexts }).optional(),
  source: z.string().optional(),
});

const lineageTerm = z.object({ vectorId: z.string(), personaId: z.string(), personaName: z.string(), coef: z.number() });
/** How a derived vector was made (main/core/library/schema.ts lineageSchema). */
export const lineageSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('combine'), terms: z.array(lineageTerm) }),
  z.object({ op: z.literal('orthogonalize'), base: lineageTerm, against: lineageTerm }),
]);

export const trainSettingsArgs = z
  .object({
    method: z.enum(['mean-diff', 'pca']).optional(),
    reduction: z.enum(['response-mean', 'last-prompt', 'all-tokens']).optional(),
    maxPairs: z.number().int().min(2).max(100_000).optional(),
    samples: z.number().int().min(1).max(64).optional(),
    maxNewTokens: z.number().int().min(1).max(4096).optional(),
    seed: z.number().int().min(0).optional(),
    batchSize: z.number().int().min(1).max(64).optional(),
  })
  .default({});

// ---- eval: evaluation schemas (core/evaluation/evaluate.ts) ----
/** A metric that may be undefined (a column of empty replies has no perplexity): null. */
const metric = z.number().nullable();
export const judgeSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }),
  /** Any OpenAI-compatible server; its key comes from PERSONA_STUDIO_JUDGE_KEY or the settings, never from here. */
  z.object({ kind: z.literal('endpoint'), url: z.url(), model: z.string().min(1).optional() }),
]);
export const evalSettingsSchema = z.object({
  /** Steer here instead of the recommendation's layer. */
  layer: z.number().int().nonnegative().optional(),
  /** Steer with this α instead of the recommendation's. */
  alpha: z.number().min(-1000).max(1000).optional(),
  /** More α at the same layer, for α curves. */
  alphas: z.array(z.number().min(-1000).max(1000)).max(16).optional(),
  samples: z.number().int().min(1).max(64).optional(),
  maxNewTokens: z.number().int().min(1).max(4096).optional(),
  seed: z.number().int().min(0).optional(),
});
const evalColumnSchema = z.object({
  /** null: unsteered. */
  alpha: z.number().nullable(),
  projection: metric,
  traitGain: metric,
  perplexity: metric,
  kl: metric,
  markerScore: metric,
  meanTokens: metric,
  emptyReplies: count,
  judge: z.object({ trait: metric, coherence: metric, scored: count, total: count }).nullable(),
});
/** A report file written: where, as what, and (a PDF asked for without Chromium) why it is the HTML instead. */
export const reportFileSchema = z.object({ path: z.string(), kind: z.enum(['html', 'json', 'pdf']), fallback: z.string().nullable() });
export const evalReportSchema = z.object({
  format: z.literal('persona-studio/eval-report'),
  version: z.literal(1),
  provenance: z.record(z.string(), z.unknown()),
  steeredAt: z.object({
    layer: count,
    alpha: z.number(),
    source: z.enum(['recommendation', 'default', 'given']),
    note: z.string(),
    recommendation: z.object({ evaluationId: z.string(), rule: z.string() }).nullable(),
  }),
  settings: z.record(z.string(), z.unknown()),
  questions: z.array(z.string()),
  unsteered: evalColumnSchema,
  steered: z.array(evalColumnSchema),
  samples: z.array(
    z.object({
      question: z.string(),
      seed: count,
      alpha: z.number().nullable(),
      text: z.string(),
      judge: z.object({ trait: metric, coherence: metric }).nullable(),
    }),
  ),
});

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
// ---- jobs: jobs, settings, app ops (schemas) ----
export const JOB_STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export const ENGINE_PROVIDERS = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;

/** A long call's record (main/core/jobs/job-runner.ts): its progress, ETA and what resume re-issues. */
export const jobSchema = z.object({
  id,
  /** The operation that runs it, e.g. personas.train. */
  kind: z.string(),
  status: z.enum(JOB_STATUSES),
  /** Left running by a process that stopped (crash, kill, restart): paused, resumable. */
  interrupted: z.boolean(),
  stage: z.string().nullable(),
  done: count,
  total: count,
  /** done/total of the current stage. */
  progress: z.number().min(0).max(1),
  etaMs: z.number().nonnegative().nullable(),
  message: z.string(),
  params: z.unknown(),
  result: z.unknown(),
  error: z.string().nullable(),
  runs: count,
  /** Running in the server's process now: cancel stops it. */
  live: z.boolean(),
  resumable: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

/**
 * The studio's settings: one schema for defaults, docs (each field's description) and errors. Kept
 * in the data dir's settings.json; the judge's API key is not here but in the SecretStore.
 */
export const settingsSchema = z.object({
  provider: z
    .enum(ENGINE_PROVIDERS)
    .default('auto')
    .describe(
      'Execution provider the engine runs models on; auto picks the fastest one installed, else the CPU. Takes effect on the next model load.',
    ),
  threads: z
    .number()
    .int()
    .min(0)
    .max(256)
    .default(0)
    .describe('CPU threads per model session; 0 lets onnxruntime choose (all physical cores). Takes effect on the next model load.'),
  dataDir: z
    .string()
    .trim()
    .refine((s) => s === '' || /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(s), 'must be an absolute path (or empty for the default)')
    .default('')
    .describe(
      'Folder for the library, compiled models and jobs; empty: the default. Takes effect at the next start, unless that start is given --data-dir or PERSONA_STUDIO_HOME.',
    ),
  judgeUrl: z
    .union([z.literal(''), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, or empty for no endpoint judge' })])
    .default('')
    .describe('Base URL of an OpenAI-compatible server that scores replies (…/v1 is added when absent); empty: no endpoint judge.'),
  judgeModel: z.string().trim().min(1).max(200).default('default').describe('The model name sent to the judge endpoint.'),
});
export type Settings = z.output<typeof settingsSchema>;
/** Some settings to change: the same fields without their defaults (a missing field stays as it is). */
export const settingsPatchSchema = z.strictObject({
  provider: settingsSchema.shape.provider.unwrap().optional(),
  threads: settingsSchema.shape.threads.unwrap().optional(),
  dataDir: settingsSchema.shape.dataDir.unwrap().optional(),
  judgeUrl: settingsSchema.shape.judgeUrl.unwrap().optional(),
  judgeModel: settingsSchema.shape.judgeModel.unwrap().optional(),
});

const settingsView = z.object({
  settings: settingsSchema,
  /** The data dir this process uses (the setting applies at the next start). */
  dataDirInUse: z.string(),
  /** Whether a judge key is stored; the key itself never leaves main. */
  judgeKey: z.enum(['set', 'not set']),
  /** PERSONA_STUDIO_JUDGE_KEY is set in main's environment: it wins over the stored key. */
  judgeKeyFromEnv: z.boolean(),
  /** Whether a Hugging Face token (gated models) is stored; never returned either. */
  hubToken: z.enum(['set', 'not set']),
  /** HF_TOKEN is set in main's environment: it wins over the stored token. */
  hubTokenFromEnv: z.boolean(),
  /** Where the secrets are kept: 'file' (0600 in the data dir) or 'safeStorage' (Electron). */
  secretStore: z.string(),
});

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
      settings: trainSettingsArgs,
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
  // ---- ui-a: authoring ops ----
  /** Where the file picker starts: the data dir, the home folder, the shipped demo model and prompt sets. */
  'files.places': {
    args: z.object({}),
    result: z.object({ dataDir: z.string(), home: z.string(), demoModel: z.string().nullable(), promptSets: z.string().nullable() }),
  },
  /** One folder of the server's disk (absolute paths only): folders first, then files, by name. */
  'files.list': {
    args: z.object({ dir: path }),
    result: z.object({ dir: z.string(), parent: z.string().nullable(), entries: z.array(fileEntrySchema), truncated: z.boolean() }),
  },
  /** Disk used by each compiled variant (bytes of its folder; 0 when the folder is gone). */
  'models.disk': {
    args: z.object({}),
    result: z.object({
      totalBytes: count,
      variants: z.array(z.object({ variantId: id, modelId: id, path: z.string(), bytes: count, exists: z.boolean() })),
    }),
  },
  /**
   * Removes a compiled variant (its folder too when it lies in the data dir's cache). Refused when
   * personas use the model and nothing could run it afterwards; a warning when it will recompile.
   */
  'models.removeVariant': { args: z.object({ variant: id }), result: z.object({ removedBytes: count, warning: z.string().nullable() }) },
  /** Removes a model and its compiled variants; refused while personas have vectors for it. */
  'models.remove': { args: z.object({ model: id }), result: z.object({ removedBytes: count }) },
  /** Every tag with how many live personas carry it. */
  'personas.tags': { args: z.object({}), result: z.array(z.object({ tag: z.string(), count: count })) },
  /** Edits a persona's description, notes or tags (what is not given stays). */
  'personas.update': {
    args: z.object({
      persona: id,
      description: z.string().max(20_000).optional(),
      notes: z.string().max(100_000).optional(),
      tags: z.array(z.string().trim().min(1).max(100)).max(100).optional(),
    }),
    result: personaSchema,
  },
  /** Copies a persona and its vectors ("X (copy)" unless named). */
  'personas.duplicate': { args: z.object({ persona: id, name: z.string().trim().min(1).max(200).optional() }), result: personaSchema },
  /**
   * Σ coef·persona, layer by layer, saved as a new persona with its lineage: each term is the
   * persona's newest vector for `model` (default: the first term's newest vector's model).
   */
  'personas.combine': {
    args: z.object({
      name: z.string().trim().min(1).max(200),
      model: id.optional(),
      terms: z
        .array(z.object({ persona: id, coef: z.number().min(-1000).max(1000) }))
        .min(1)
        .max(16),
    }),
    result: z.object({ persona: personaSchema, vectorId: id, lineage: lineageSchema }),
  },
  /** Each live vector of a persona with the lineage it was derived by (null: trained or imported). */
  'personas.lineage': {
    args: z.object({ persona: id }),
    result: z.array(z.object({ vectorId: id, libraryModelId: id, method: z.string().nullable(), lineage: lineageSchema.nullable() })),
  },
  /** The core's training defaults and what each setting means (the form shows them; it keeps no copy). */
  'personas.trainDefaults': {
    args: z.object({}),
    result: z.object({ defaults: z.record(z.string(), z.union([z.string(), z.number()])), docs: z.record(z.string(), z.string()) }),
  },
  /** The prompt sets shipped with the studio (assets/prompt-sets). */
  'promptSets.shipped': {
    args: z.object({}),
    result: z.array(
      z.object({ file: z.string(), name: z.string(), description: z.string(), kind: z.string(), positive: count, negative: count }),
    ),
  },
  /** A library prompt set's version as a prompt-set document (held-out split, kind and markers included) for the editor. */
  'promptSets.document': { args: z.object({ promptSet: id, version: z.number().int().positive().optional() }), result: promptSetDocSchema },
  /** A prompt-set file (.json) on the server, validated. */
  'promptSets.readFile': { args: z.object({ file: path }), result: promptSetDocSchema },
  /** A prompt list on the server: .txt (one a line), .json array, .jsonl, Alpaca records. */
  'prompts.readList': { args: z.object({ file: path }), result: z.object({ prompts: z.array(z.string()) }) },
  /**
   * Drafts a prompt set from a description with the model (its answer parsed strictly, retried),
   * else our template — `source` says which and `why`. Nothing is saved: review, edit, then save.
   */
  'promptSets.fromDescription': {
    args: z.object({
      model: id,
      name: z.string().trim().min(1).max(200),
      description: z.string().trim().min(2).max(200),
      numPrompts: z.number().int().min(4).max(40).optional(),
    }),
    result: z.object({ set: promptSetDocSchema, source: z.enum(['model', 'template']), refusals: z.array(z.string()), why: z.string() }),
    events: { progress },
  },
  /** Saves a prompt set in the library: a new set, or a new version when the prompts changed. */
  'promptSets.save': {
    args: z.object({ set: promptSetDocSchema, note: z.string().max(2000).default('') }),
    result: z.object({ promptSet: promptSetSchema, version: z.number().int().positive(), added: z.boolean() }),
  },
  // ---- end ui-a ----

  // ---- eval: evaluation ops ----
  /**
   * A persona steered at its stored recommendation (else the default layer and α, said in
   * steeredAt) against the unsteered model on held-out questions: trait, coherence, KL, markers,
   * judge scores when a judge is given, samples side by side. Stored in the library; with `report`
   * (a .html, .json or .pdf path on the server) the report is written too. Cancel keeps the
   * finished batches: the same call resumes.
   */
  'eval.run': {
    args: z.object({
      model: id,
      persona: id,
      /** A prompt list file on the server. */
      questions: path.optional(),
      /** A prompt-set file on the server, or a library prompt set by name or id. */
      promptSet: id.optional(),
      judge: judgeSpecSchema.optional(),
      settings: evalSettingsSchema.default({}),
      report: path.optional(),
    }),
    result: z.object({
      evaluationId: id,
      resumedBatches: count,
      report: evalReportSchema,
      /** The report file written (a .pdf request without Chromium writes the .html and says why in `fallback`). */
      reportFile: reportFileSchema.nullable(),
    }),
    events: { progress },
  },
  /** Stored evaluations (kind eval), newest first: where each steered and when. */
  'eval.list': {
    args: z.object({ persona: id.optional(), model: id.optional() }),
    result: z.array(
      z.object({ id, name: z.string(), createdAt: z.string(), layer: count, alpha: z.number(), source: z.string(), questions: count }),
    ),
  },
  /** A stored evaluation's report, rebuilt from the library (the report eval.run answered). */
  'eval.get': { args: z.object({ evaluation: id }), result: z.object({ evaluationId: id, report: evalReportSchema }) },
  /**
   * A stored evaluation's report written again, from the library (nothing re-runs): a .html, .json
   * or .pdf path on the server, in an existing folder. PDF through a headless Chromium; without one
   * the HTML (with its print stylesheet) is written beside it and `fallback` says why. An existing
   * file is replaced only with `overwrite`.
   */
  'eval.export': {
    args: z.object({ evaluation: id, path, overwrite: z.boolean().default(false) }),
    result: reportFileSchema,
  },

  // ---- ui-b: steering ops ----
  ...steeringOps,
  // ---- jobs: jobs, settings, app ops ----
  /** Jobs, newest first: every long call (training, compiling, downloads, sweeps) with progress and ETA. */
  'jobs.list': {
    args: z.object({
      status: z.array(z.enum(JOB_STATUSES)).optional(),
      kind: z.string().optional(),
      limit: z.number().int().min(1).max(10_000).default(200),
    }),
    result: z.array(jobSchema),
  },
  /** Stops a running job (whoever started it; its checkpoint stays) or marks a paused one cancelled. */
  'jobs.cancel': { args: z.object({ id }), result: jobSchema },
  /** Re-issues a paused, cancelled or failed job's recorded args; it continues from its checkpoint. Ends with the job. */
  'jobs.resume': { args: z.object({ id }), result: jobSchema, events: { progress } },
  /** Streams job changes until cancelled: one `snapshot` of the newest jobs, then each `job` as it changes. */
  'jobs.watch': {
    args: z.object({ limit: z.number().int().min(1).max(10_000).default(200) }),
    result: z.null(),
    events: { snapshot: z.object({ jobs: z.array(jobSchema) }), job: jobSchema },
  },
  'settings.get': { args: z.object({}), result: settingsView },
  /** Changes some settings (the others stay); answers one line naming the field when one is invalid. */
  'settings.set': { args: settingsPatchSchema, result: settingsView },
  /** Stores the judge's API key (kept in main: the SecretStore), never returned. */
  'settings.setJudgeKey': { args: z.object({ key: z.string().trim().min(1).max(4096) }), result: settingsView },
  'settings.clearJudgeKey': { args: z.object({}), result: settingsView },
  /** Stores the Hugging Face access token for gated models (models.download uses it when HF_TOKEN is unset), never returned. */
  'settings.setHubToken': { args: z.object({ token: z.string().trim().min(1).max(4096) }), result: settingsView },
  'settings.clearHubToken': { args: z.object({}), result: settingsView },
  /** Memory: what the studio's process holds (the engine's model and sessions included) and the machine's. */
  'app.memory': {
    args: z.object({}),
    result: z.object({ processBytes: count, machineTotalBytes: count, machineFreeBytes: count }),
  },
  /** What the first run needs: version, data dir, the bundled demo model, the default download and whether the hub answers. */
  'app.info': {
    args: z.object({ probeHub: z.boolean().default(false) }),
    result: z.object({
      version: z.string(),
      dataDir: z.string(),
      /** The bundled demo checkpoint (compile it with models.compile; no network). */
      demoModelDir: z.string(),
      /** Shipped prompt sets (files on the server) that train a first persona. */
      promptSetFiles: z.array(z.object({ name: z.string(), description: z.string(), path: z.string() })),
      defaultModel: z.object({
        repo: z.string(),
        label: z.string(),
        licence: z.string(),
        downloadBytes: count,
        precision: z.string(),
        memoryBytes: count,
        /** Already complete in the Hugging Face cache: no download needed. */
        cached: z.boolean(),
      }),
      hub: z.object({ endpoint: z.string(), reachable: z.boolean().nullable() }),
    }),
  },
  /** Downloads a hub model (resumable, verified) into the Hugging Face cache and compiles it into the library. */
  'models.download': {
    args: z.object({ repo: z.string().min(3).max(96), revision: z.string().min(1).max(200).optional() }),
    result: z.object({ modelId: id, name: z.string(), dir: z.string() }),
    events: { progress },
  },
});

export type AppContract = typeof appContract;
export type AppArgs<K extends keyof AppContract & string> = ArgsInput<AppContract, K>;
export type AppResult<K extends keyof AppContract & string> = ResultOutput<AppContract, K>;
