// persona-studio models compile <checkpoint-dir> [--precision] [--provider] [--out DIR]
import { compileAndRegister } from '../../core/models.ts';
import { Library } from '../../core/library/index.ts';
import { expectPositionals, type Parsed } from '../args.ts';
import type { COMPILE_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';
import { Engine } from '../../core/engine/engine.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { ensureNorms } from '../../core/steering/calibration.ts';

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
  // The residual norms that give α its meaning (the `norm` scale), measured once as the model joins
  // the library and kept beside it. Only CPU-compiled models are measured here: another provider's
  // graph may not run on this machine (it is measured on first steering use there instead).
  let norms: number[] | null = null;
  if (result.manifest.hasTokenizer && result.manifest.options.provider === 'cpu') {
    const engine = new Engine({ inProcess: true });
    try {
      await engine.load(result.dir, { provider: 'cpu' });
      norms = [
        ...(await ensureNorms(result.dir, result.manifest.architecture.numLayers, TextTokenizer.load(result.dir), (sequences) =>
          engine.residualNorms({ sequences }),
        )),
      ];
    } finally {
      await engine.close();
    }
  }
  if (flags.json)
    ctx.stdout(
      JSON.stringify(
        { dir: result.dir, cached: result.cached, modelId: result.model.id, manifest: result.manifest, residualNorms: norms },
        null,
        2,
      ) + '\n',
    );
  else {
    const m = result.manifest;
    ctx.stdout(`${result.cached ? 'already compiled' : 'compiled'}: ${result.dir}\n`);
    ctx.stdout(`  library model ${result.model.name} (${result.model.id})\n`);
    ctx.stdout(
      `  ${m.architecture.modelType}, ${m.architecture.numLayers} layers, hidden ${m.architecture.hidden}, ${m.options.precision} for ${m.options.provider}, ${(m.bytes.data / 2 ** 20).toFixed(1)} MiB of weights\n`,
    );
    if (norms) ctx.stdout(`  residual norms (α's norm scale) by layer: ${norms.map((x) => x.toFixed(2)).join(' ')}\n`);
  }
  return 0;
}
