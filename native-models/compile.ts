// Checkpoint folder → compiled, steerable ONNX model folder:
//   model.onnx (graph, ~100s of KB) + model.onnx.data (weights, 64 KiB aligned) + tokenizer files
//   + manifest.json (written last: its presence marks the folder complete).
// Compiles are cached by (checkpoint content hash, options, compiler version). A compile builds in a
// temporary sibling folder and renames it into place, so an interrupted one leaves nothing complete-looking.
import { existsSync, readdirSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { join, dirname, basename, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Checkpoint } from './checkpoint/checkpoint.ts';
import { parseModelSpec, type ModelSpec } from './architectures/spec.ts';
import { buildDecoder } from './architectures/decoder.ts';
import { CheckpointWeights } from './architectures/weights.ts';
import { GraphBuilder } from './graph/builder.ts';
import { ExternalDataWriter } from './graph/external-data.ts';
import { DataType, encodeModel } from './graph/onnx-proto.ts';
import { StudioError, fromZod } from './errors.ts';
import { QUANT_SCHEMES, NBITS_BLOCK_SIZES } from './quantize/nbits.ts';
import { defaultPrecision } from './default-precision.ts';

/** Bump when the emitted graph changes, so cached compiles are rebuilt. */
export const COMPILER_VERSION = 5; // 5: quantisation schemes, lm_head block size, contrib RoPE / skip-norm and an additive mask (issue 14)
export const MANIFEST = 'manifest.json';
export const PRECISIONS = ['fp32', 'fp16', 'int8', 'int4'] as const;
export const PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
const OPTIONAL_FILES = ['generation_config.json', 'chat_template.jinja', 'special_tokens_map.json'];

export const compileOptionsSchema = z.object({
  /** Default (default-precision.ts): fp16 for cuda and dml; on cpu int4 from 100M parameters, fp32 below and elsewhere. */
  precision: z.enum(PRECISIONS).optional(),
  provider: z.enum(PROVIDERS).default('cpu'),
  /** Block size of int4/int8 quantisation (MatMulNBits). */
  blockSize: z
    .number()
    .int()
    .refine((b) => NBITS_BLOCK_SIZES.includes(b), { message: `must be one of ${NBITS_BLOCK_SIZES.join(', ')}` })
    .default(32),
  /** Block size of the lm_head alone; default: the same as blockSize. */
  headBlockSize: z
    .number()
    .int()
    .refine((b) => NBITS_BLOCK_SIZES.includes(b), { message: `must be one of ${NBITS_BLOCK_SIZES.join(', ')}` })
    .optional(),
  /**
   * int4/int8 scaling (native-models/quantize/nbits.ts): 'signed' = llama.cpp's Q4_0 rule (all 16
   * levels), 'symmetric' = absmax/7, 'asymmetric' = min/max with zero points.
   */
  quantScheme: z.enum(QUANT_SCHEMES).default('signed'),
  /**
   * Contrib ops for RoPE (RotaryEmbedding) and residual + RMSNorm (SkipSimplifiedLayerNormalization).
   * Default: on for the CPU provider (measured there); off elsewhere — CoreML has no contrib ops
   * and the others are not measured — which keeps the primitive-op graph.
   */
  fusedOps: z.boolean().optional(),
  /**
   * MatMulNBits accuracy_level: 0 = float activations; 4 = int8 activations. Default: 4 for
   * int4/int8 on CPU (3× faster decode measured on the Qwen3-0.6B shape, ~0.6% extra error), else 0.
   */
  accuracyLevel: z.number().int().min(0).max(4).optional(),
  /** Tokenizer files are required for a model the studio chats with; numeric fixtures have none. */
  requireTokenizer: z.boolean().default(true),
  /**
   * false: no `steer.{b}` / `ablate.{b}` inputs and no intervention after any block — the plain
   * decoder, for benchmarks that measure what the steering inputs cost. The studio always compiles
   * steerable models; the engine refuses steering on one that is not.
   */
  steerable: z.boolean().default(true),
});
export type CompileOptions = z.input<typeof compileOptionsSchema>;

export interface CompileProgress {
  stage: 'hash' | 'build' | 'write';
  done: number;
  total: number;
}

export interface CompileRequest {
  checkpointDir: string;
  /** Exact output folder. When absent, `<cacheRoot>/<key>` is used. */
  outDir?: string;
  cacheRoot?: string;
  options?: CompileOptions;
  onProgress?: (p: CompileProgress) => void;
  signal?: AbortSignal;
}

export const manifestSchema = z.object({
  format: z.literal('persona-studio-compiled-model'),
  formatVersion: z.literal(1),
  compilerVersion: z.number().int(),
  key: z.string(),
  source: z.object({ path: z.string(), contentHash: z.string(), dtype: z.string() }),
  options: z.object({
    precision: z.enum(PRECISIONS),
    provider: z.enum(PROVIDERS),
    blockSize: z.number(),
    headBlockSize: z.number().optional(),
    quantScheme: z.enum(QUANT_SCHEMES).default('symmetric'),
    fusedOps: z.boolean().default(false),
    accuracyLevel: z.number(),
    steerable: z.boolean().default(true),
  }),
  architecture: z.object({
    family: z.string(),
    modelType: z.string(),
    numLayers: z.number(),
    hidden: z.number(),
    vocabSize: z.number(),
    numHeads: z.number(),
    numKvHeads: z.number(),
    headDim: z.number(),
    maxPositions: z.number(),
    bosId: z.number().nullable(),
    eosIds: z.array(z.number()),
  }),
  kvDtype: z.enum(['float32', 'float16']),
  files: z.object({ model: z.string(), data: z.string() }),
  opsUsed: z.record(z.string(), z.number()),
  hasTokenizer: z.boolean(),
  bytes: z.object({ model: z.number(), data: z.number() }),
  createdAt: z.string(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** Reads and validates a compiled model's manifest; null if the folder is not a complete compile. */
export function readManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StudioError('format', `${path}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw fromZod('format', parsed.error, path, ': field ');
  }
  return parsed.data;
}

export function isCompiledModel(dir: string): boolean {
  return existsSync(join(dir, MANIFEST));
}

function archSummary(spec: ModelSpec): Manifest['architecture'] {
  const { family, modelType, numLayers, hidden, vocabSize, numHeads, numKvHeads, headDim, maxPositions, bosId, eosIds } = spec;
  return { family, modelType, numLayers, hidden, vocabSize, numHeads, numKvHeads, headDim, maxPositions, bosId, eosIds };
}

export interface CompileResult {
  dir: string;
  manifest: Manifest;
  cached: boolean;
}

export async function compileModel(req: CompileRequest): Promise<CompileResult> {
  const parsedOptions = compileOptionsSchema.parse(req.options ?? {});
  if (parsedOptions.fusedOps === true && parsedOptions.provider === 'coreml') {
    throw new StudioError('usage', 'compile option fusedOps: CoreML has no com.microsoft contrib ops; leave it off for --provider coreml');
  }
  const source = resolve(req.checkpointDir);
  const ckpt = Checkpoint.open(source);
  try {
    // With no precision asked for, the model's size decides on CPU (default-precision.ts).
    const precision = parsedOptions.precision ?? defaultPrecision(parsedOptions.provider, ckpt.parameterCount);
    const quantised = precision === 'int4' || precision === 'int8';
    // Every field resolved, in a fixed order: the key hashes this object's JSON, so an option spelled
    // out at its default must give the same key as the option left out.
    const options = {
      precision,
      provider: parsedOptions.provider,
      blockSize: parsedOptions.blockSize,
      headBlockSize: parsedOptions.headBlockSize ?? parsedOptions.blockSize,
      quantScheme: parsedOptions.quantScheme,
      fusedOps: parsedOptions.fusedOps ?? parsedOptions.provider === 'cpu',
      accuracyLevel: parsedOptions.accuracyLevel ?? (quantised && parsedOptions.provider === 'cpu' ? 4 : 0),
      requireTokenizer: parsedOptions.requireTokenizer,
      steerable: parsedOptions.steerable,
    };
    const spec = parseModelSpec(ckpt.config, join(source, 'config.json'));
    const hasTokenizer = TOKENIZER_FILES.every((f) => existsSync(join(source, f)));
    if (options.requireTokenizer) {
      for (const f of TOKENIZER_FILES) {
        if (!existsSync(join(source, f)))
          throw new StudioError('not-found', `${join(source, f)}: missing (the tokenizer is needed to chat with the model)`);
      }
    }
    req.onProgress?.({ stage: 'hash', done: 0, total: 1 });
    const contentHash = await ckpt.contentHash();
    // steerable: true (every studio compile) stays out of the key, so compiles made before the
    // option existed keep their keys; only the benchmark-only plain variant is keyed apart.
    const { requireTokenizer: _, steerable, ...common } = options;
    const keyed = steerable ? common : { ...common, steerable };
    const key = createHash('sha256').update(JSON.stringify({ contentHash, keyed, COMPILER_VERSION })).digest('hex').slice(0, 24);
    if (!req.outDir && !req.cacheRoot) throw new StudioError('internal', 'compile: an output folder or a cache root is required');
    const outDir = resolve(req.outDir ?? join(req.cacheRoot!, key));

    const existing = existsSync(join(outDir, MANIFEST)) ? readManifest(outDir) : null;
    if (existing && existing.key === key) return { dir: outDir, manifest: existing, cached: true };
    if (existsSync(outDir) && !existing) {
      // Never delete a folder we did not make: only an empty one may be reused as the destination.
      if (req.outDir && (!statSync(outDir).isDirectory() || readdirSync(outDir).length > 0)) {
        throw new StudioError('conflict', `${outDir}: exists and is not a compiled model; choose a new or empty folder`);
      }
    }

    mkdirSync(dirname(outDir), { recursive: true });
    const tmp = join(dirname(outDir), `.${basename(outDir)}.partial-${process.pid}-${Date.now()}`);
    mkdirSync(tmp);
    try {
      const data = new ExternalDataWriter(join(tmp, 'model.onnx.data'));
      let opsUsed: Record<string, number>;
      try {
        const g = new GraphBuilder();
        const weights = new CheckpointWeights(g, data, ckpt, spec, options);
        const fusedNorm = options.provider !== 'coreml';
        buildDecoder(
          spec,
          g,
          weights,
          {
            fusedNorm,
            fusedOps: options.fusedOps,
            compute: options.precision === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT,
            steerable: options.steerable,
          },
          (done, total) => {
            req.onProgress?.({ stage: 'build', done, total });
            if (req.signal?.aborted) throw new StudioError('cancelled', 'compile cancelled');
          },
        );
        req.onProgress?.({ stage: 'write', done: 0, total: 1 });
        const model = {
          ir_version: 10,
          producer_name: 'persona-studio',
          producer_version: String(COMPILER_VERSION),
          opset_import: [
            { domain: '', version: 21 },
            { domain: 'com.microsoft', version: 1 },
          ],
          graph: g.graph(`${spec.modelType}-steerable`),
          metadata_props: [{ key: 'persona_studio.key', value: key }],
        };
        writeFileSync(join(tmp, 'model.onnx'), encodeModel(model));
        opsUsed = Object.fromEntries([...g.opsUsed.entries()].sort());
      } finally {
        data.close();
      }
      if (hasTokenizer)
        for (const f of [...TOKENIZER_FILES, ...OPTIONAL_FILES]) {
          if (existsSync(join(source, f))) copyFileSync(join(source, f), join(tmp, f));
        }
      copyFileSync(join(source, 'config.json'), join(tmp, 'config.json'));
      const manifest: Manifest = {
        format: 'persona-studio-compiled-model',
        formatVersion: 1,
        compilerVersion: COMPILER_VERSION,
        key,
        source: { path: source, contentHash, dtype: ckpt.dominantDtype },
        options: {
          precision: options.precision,
          provider: options.provider,
          blockSize: options.blockSize,
          headBlockSize: options.headBlockSize,
          quantScheme: options.quantScheme,
          fusedOps: options.fusedOps,
          accuracyLevel: options.accuracyLevel,
          steerable: options.steerable,
        },
        architecture: archSummary(spec),
        kvDtype: options.precision === 'fp16' ? 'float16' : 'float32',
        files: { model: 'model.onnx', data: 'model.onnx.data' },
        opsUsed,
        hasTokenizer,
        bytes: { model: statSync(join(tmp, 'model.onnx')).size, data: statSync(join(tmp, 'model.onnx.data')).size },
        createdAt: new Date().toISOString(),
      };
      writeFileSync(join(tmp, MANIFEST), JSON.stringify(manifest, null, 2));
      if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
      renameSync(tmp, outDir);
      return { dir: outDir, manifest, cached: false };
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  } finally {
    ckpt.close();
  }
}
