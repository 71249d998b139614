// The typed message protocol between the engine host (Electron main, CLI, browser mode) and the
// engine worker thread. Requests carry an id; the worker answers each with exactly one 'result'
// or 'error', possibly preceded by 'token' / 'progress' events for the same id.
import { z } from 'zod';
import { sessionOptionsSchema } from './session-options.ts';
import { textGenerateSchema } from './text-generation.ts';
import { rowSteeringSchema } from './steering.ts';
import { REDUCTIONS } from './capture.ts';
import type { ErrorCode } from '../errors.ts';

const ids = z.array(z.number().int().nonnegative());
const batchArgs = {
  batchSize: z.number().int().min(1).max(256).optional(),
  maxTokensPerBatch: z.number().int().min(1).optional(),
};
const norms = z.custom<Float32Array>((v) => v instanceof Float32Array, { message: 'expected a Float32Array' }).nullish();

export const captureArgsSchema = z.object({
  pairs: z.array(z.object({ prompt: ids.min(1), response: ids })).min(1),
  reduction: z.enum(REDUCTIONS as [string, ...string[]]),
  layers: z.array(z.number().int().nonnegative()).optional(),
  keepRows: z.boolean().optional(),
  steering: rowSteeringSchema.optional(),
  residualNorms: norms,
  ...batchArgs,
});
export const scoreArgsSchema = z.object({
  rows: z.array(z.object({ prompt: ids.min(1), continuation: ids.min(1) })).min(1),
  steering: z.union([rowSteeringSchema, z.array(rowSteeringSchema.optional())]).optional(),
  residualNorms: norms,
  ...batchArgs,
});
export const distributionArgsSchema = z.object({
  prompts: z.array(ids.min(1)).min(1),
  steering: z.union([rowSteeringSchema, z.array(rowSteeringSchema.optional())]).optional(),
  residualNorms: norms,
  ...batchArgs,
});
export const residualNormsArgsSchema = z.object({ sequences: z.array(ids.min(2)).min(1), ...batchArgs });

export const loadArgsSchema = z.object({ dir: z.string().min(1), session: sessionOptionsSchema.partial().default({}) });

export const requestSchema = z.discriminatedUnion('op', [
  z.object({ id: z.number().int(), op: z.literal('load'), args: loadArgsSchema }),
  z.object({ id: z.number().int(), op: z.literal('unload'), args: z.object({}).default({}) }),
  z.object({ id: z.number().int(), op: z.literal('status'), args: z.object({}).default({}) }),
  z.object({ id: z.number().int(), op: z.literal('generate'), args: textGenerateSchema }),
  z.object({ id: z.number().int(), op: z.literal('capture'), args: captureArgsSchema }),
  z.object({ id: z.number().int(), op: z.literal('score'), args: scoreArgsSchema }),
  z.object({ id: z.number().int(), op: z.literal('distribution'), args: distributionArgsSchema }),
  z.object({ id: z.number().int(), op: z.literal('residualNorms'), args: residualNormsArgsSchema }),
  z.object({ id: z.number().int(), op: z.literal('cancel'), args: z.object({ target: z.number().int() }) }),
]);
export type EngineRequest = z.input<typeof requestSchema>;
export type EngineOp = EngineRequest['op'];

export interface ModelStatus {
  dir: string;
  provider: string;
  providerReason: string;
  architecture: Record<string, unknown>;
  precision: string;
  hasTokenizer: boolean;
  loadMs: number;
}

export type EngineEvent =
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; code: ErrorCode; message: string }
  | { id: number; type: 'token'; row: number; token: number; index: number; ms: number; text: string; projection?: number }
  | { id: number; type: 'progress'; done: number; total: number };
