// persona-studio models compile <checkpoint-dir> [--precision] [--provider] [--out DIR]
import { compileAndRegister } from '../../core/models.ts';
import { Library } from '../../core/library/index.ts';
import { expectPositionals, type Parsed } from '../args.ts';
import type { COMPILE_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

export async function compileCommand({ flags, positionals }: Parsed<typeof COMPILE_FLAGS>, ctx: CliContext): Promise<number> {
  const [checkpointDir] = expectPositionals(positionals, 1, 'models compile', 'one checkpoint folder');
  const bar = progressPrinter('compiling');
  const lib = Library.open({ dataDir: ctx.dataDir });
  const result = await compileAndRegister(lib, ctx.dataDir, {
    checkpointDir: checkpointDir!,
    outDir: flags.out,
    options: {
      precision: flags.precision,
      provider: flags.provider,
      blockSize: flags['block-size'] ? Number(flags['block-size']) : undefined,
      accuracyLevel: flags['accuracy-level'] ? Number(flags['accuracy-level']) : undefined,
    },
    onProgress: (p) => {
      if (p.stage === 'build') bar(p.done, p.total, `block ${p.done}/${p.total}`);
    },
  }).finally(() => lib.close());
  if (flags.json)
    ctx.stdout(
      JSON.stringify({ dir: result.dir, cached: result.cached, modelId: result.model.id, manifest: result.manifest }, null, 2) + '\n',
    );
  else {
    const m = result.manifest;
    ctx.stdout(`${result.cached ? 'already compiled' : 'compiled'}: ${result.dir}\n`);
    ctx.stdout(`  library model ${result.model.name} (${result.model.id})\n`);
    ctx.stdout(
      `  ${m.architecture.modelType}, ${m.architecture.numLayers} layers, hidden ${m.architecture.hidden}, ${m.options.precision} for ${m.options.provider}, ${(m.bytes.data / 2 ** 20).toFixed(1)} MiB of weights\n`,
    );
  }
  return 0;
}
