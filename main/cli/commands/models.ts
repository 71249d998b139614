// persona-studio models compile <checkpoint-dir> [--precision] [--provider] [--out DIR]
import { parseArgs } from 'node:util';
import { PRECISIONS, PROVIDERS } from '../../../native-models/compile.ts';
import { compileAndRegister } from '../../core/models.ts';
import { Library } from '../../core/library/index.ts';
import { UsageError } from '../errors.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

export const MODELS_HELP = `persona-studio models compile <checkpoint-dir> [options]
  Compile a Hugging Face checkpoint (config.json + safetensors + tokenizer) into a steerable ONNX model.
  --precision fp32|fp16|int8|int4   weights (default fp16 for cuda/dml, else fp32; int4 is fastest on CPU)
  --provider cpu|cuda|dml|coreml    op set to target (default cpu)
  --block-size 16|32|64|128         int4/int8 quantisation block (default 32; 128 is faster, coarser)
  --accuracy-level 0|4              MatMulNBits activations: 4 = int8 (CPU default), 0 = float
  --out DIR                         output folder (default: the compile cache in the data dir)
  --json                            print the manifest as JSON`;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag} ${value}: expected one of ${allowed.join(', ')}`);
  return value as T;
}

export async function modelsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'compile') throw new UsageError(`models ${sub ?? ''}: unknown subcommand\n${MODELS_HELP}`);
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true, strict: true,
    options: {
      precision: { type: 'string' }, provider: { type: 'string' }, out: { type: 'string' },
      json: { type: 'boolean', default: false }, 'block-size': { type: 'string' }, 'accuracy-level': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`models compile: expected one checkpoint folder\n${MODELS_HELP}`);
  const bar = progressPrinter('compiling');
  const lib = Library.open({ dataDir: ctx.dataDir });
  const result = await compileAndRegister(lib, ctx.dataDir, {
    checkpointDir: positionals[0]!,
    outDir: values.out,
    options: {
      precision: oneOf('precision', values.precision, PRECISIONS),
      provider: oneOf('provider', values.provider, PROVIDERS),
      blockSize: values['block-size'] ? Number(values['block-size']) : undefined,
      accuracyLevel: values['accuracy-level'] ? Number(values['accuracy-level']) : undefined,
    },
    onProgress: (p) => { if (p.stage === 'build') bar(p.done, p.total, `block ${p.done}/${p.total}`); },
  }).finally(() => lib.close());
  if (values.json) ctx.stdout(JSON.stringify({ dir: result.dir, cached: result.cached, modelId: result.model.id, manifest: result.manifest }, null, 2) + '\n');
  else {
    const m = result.manifest;
    ctx.stdout(`${result.cached ? 'already compiled' : 'compiled'}: ${result.dir}\n`);
    ctx.stdout(`  library model ${result.model.name} (${result.model.id})\n`);
    ctx.stdout(`  ${m.architecture.modelType}, ${m.architecture.numLayers} layers, hidden ${m.architecture.hidden}, ${m.options.precision} for ${m.options.provider}, ${(m.bytes.data / 2 ** 20).toFixed(1)} MiB of weights\n`);
  }
  return 0;
}
