// The engine's contract: every operation the host (Electron main, CLI, browser mode) can ask of the
// engine worker, declared once with its args, result and streamed events. The host's methods
// (engine.ts) and the worker's handler map (worker.ts) are typed from it; args are checked in the
// worker, results and events on the host. Cancellation is part of every call (rpc/messages.ts).
import { z } from 'zod';
import { defineContract, type ArgsInput, type ResultOutput } from '../rpc/contract.ts';
import { float32Array, float64Array, int32Array, anyNumber } from '../rpc/schemas.ts';
import { sessionOptionsSchema } from './session-options.ts';
import { textGenerateSchema } from './text-generation.ts';
import { rowSteeringSchema } from './steering.ts';
import { REDUCTIONS } from './capture.ts';

const ids = z.array(z.number().int().nonnegative());
const layerIndex = z.number().int().nonnegative();
const batchArgs = {
  batchSize: z.number().int().min(1).max(256).optional(),
  maxTokensPerBatch: z.number().int().min(1).optional(),
};
const norms = float32Array().nullish();
const reduction = z.enum(REDUCTIONS as [(typeof REDUCTIONS)[number], ...(typeof REDUCTIONS)[number][]]);
const progress = { progress: z.object({ done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }) };

export const loadArgsSchema = z.object({ dir: z.string().min(1), session: sessionOptionsSchema.partial().default({}) });

export const modelStatusSchema = z.object({
  dir: z.string(),
  provider: z.string(),
  providerReason: z.string(),
  architecture: z.record(z.string(), z.unknown()),
  precision: z.string(),
  hasTokenizer: z.boolean(),
  loadMs: z.number(),
  /** Whether the session's threads spin-wait between runs (session-options.ts `spinning`). */
  spinning: z.boolean(),
});
export type ModelStatus = z.output<typeof modelStatusSchema>;

export const FINISH_REASONS = ['eos', 'length', 'stop', 'cancelled'] as const;

export const textTokenEventSchema = z.object({
  row: z.number().int().nonnegative(),
  token: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  ms: z.number(),
  text: z.string(),
  projection: anyNumber().optional(),
});

export const textGenerateResultSchema = z.object({
  rows: z.array(
    z.object({
      text: z.string(),
      promptTokens: ids,
      tokens: ids,
      finish: z.enum(FINISH_REASONS),
      projections: z.array(anyNumber()),
      seed: z.number().int().nonnegative(),
    }),
  ),
  prefillMs: z.number(),
  decodeMs: z.number(),
  steps: z.number().int().nonnegative(),
});

export const captureArgsSchema = z.object({
  pairs: z.array(z.object({ prompt: ids.min(1), response: ids })).min(1),
  reduction,
  layers: z.array(layerIndex).optional(),
  keepRows: z.boolean().optional(),
  steering: rowSteeringSchema.optional(),
  residualNorms: norms,
  ...batchArgs,
});

export const captureResultSchema = z.object({
  reduction,
  layers: z.array(layerIndex),
  hidden: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  rows: z.map(layerIndex, float32Array()).nullable(),
  sums: z.map(layerIndex, float64Array()),
  sumSquares: z.map(layerIndex, float64Array()),
  tokens: int32Array(),
});

const steeringPerRow = z.union([rowSteeringSchema, z.array(rowSteeringSchema.optional())]).optional();

export const scoreArgsSchema = z.object({
  rows: z.array(z.object({ prompt: ids.min(1), continuation: ids.min(1), hiddenLayers: z.array(layerIndex).optional() })).min(1),
  steering: steeringPerRow,
  residualNorms: norms,
  ...batchArgs,
});

/** Log-probabilities can be -Infinity and perplexities Infinity: any number is a valid score. */
export const scoredRowSchema = z.object({
  tokenLogprobs: float32Array(),
  sum: anyNumber(),
  mean: anyNumber(),
  perplexity: anyNumber(),
  hidden: z.map(layerIndex, float32Array()).optional(),
});

export const distributionArgsSchema = z.object({
  prompts: z.array(ids.min(1)).min(1),
  steering: steeringPerRow,
  residualNorms: norms,
  ...batchArgs,
});

export const residualNormsArgsSchema = z.object({ sequences: z.array(ids.min(2)).min(1), ...batchArgs });

export const engineContract = defineContract({
  /** Loads a compiled model (releasing the one loaded); waits for all work sent before it. */
  load: { args: loadArgsSchema, result: modelStatusSchema },
  unload: { args: z.object({}), result: z.null() },
  /** The loaded model, or null. */
  status: { args: z.object({}), result: modelStatusSchema.nullable() },
  generate: { args: textGenerateSchema, result: textGenerateResultSchema, events: { token: textTokenEventSchema } },
  capture: { args: captureArgsSchema, result: captureResultSchema, events: progress },
  score: { args: scoreArgsSchema, result: z.array(scoredRowSchema), events: progress },
  /** log-softmax at the last position of each prompt. */
  distribution: { args: distributionArgsSchema, result: z.array(float32Array()), events: progress },
  residualNorms: { args: residualNormsArgsSchema, result: float32Array(), events: progress },
});
export type EngineContract = typeof engineContract;
export type EngineArgs<K extends keyof EngineContract> = ArgsInput<EngineContract, K>;
export type EngineResult<K extends keyof EngineContract> = ResultOutput<EngineContract, K>;
