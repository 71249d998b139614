// persona-studio models compile <checkpoint-dir> [--precision] [--provider] [--out DIR]; models download; models catalog
import { compileAndRegister } from '../../core/models.ts';
import { Library } from '../../core/library/index.ts';
import { expectPositionals, type Parsed } from '../args.ts';
import type { COMPILE_FLAGS, DOWNLOAD_FLAGS, CATALOG_FLAGS } from '../specs.ts';
import { progressPrinter, downloadPrinter } from '../progress.ts';
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
      headBlockSize: flags['head-block-size'] ? Number(flags['head-block-size']) : undefined,
      quantScheme: flags['quant-scheme'],
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

/** persona-studio models download <org/name> [--revision R] [--json]: into the HF cache, pinned to a commit. */
export async function downloadCommand({ flags, positionals }: Parsed<typeof DOWNLOAD_FLAGS>, ctx: CliContext): Promise<number> {
  const [repo] = expectPositionals(positionals, 1, 'models download', 'one hub model id (org/name)');
  const { downloadModel } = await import('../../../native-models/hub/download.ts');
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const r = await downloadModel({ repo: repo!, revision: flags.revision, signal: ac.signal, onProgress: downloadPrinter('downloading') });
    if (flags.json) ctx.stdout(JSON.stringify(r, null, 2) + '\n');
    else {
      ctx.stdout(`${r.fromCache ? 'already in the cache' : 'downloaded'}: ${r.repo} at ${r.commit}\n`);
      ctx.stdout(`  ${r.dir}\n`);
      if (!r.fromCache) ctx.stdout(`  ${r.files.length} files, ${(r.bytesFetched / 2 ** 20).toFixed(1)} MiB fetched\n`);
      ctx.stdout(`  next: persona-studio generate --model ${r.repo} --prompt "Hello" (compiled on first use)\n`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** persona-studio models catalog [--provider P] [--json]: the offered models, sized for this machine. */
export async function catalogCommand({ flags, positionals }: Parsed<typeof CATALOG_FLAGS>, ctx: CliContext): Promise<number> {
  expectPositionals(positionals, 0, 'models catalog', 'no arguments');
  const { catalogFor, thisMachine, CATALOG_PRECISIONS } = await import('../../../native-models/catalog.ts');
  const machine = thisMachine(flags.provider && flags.provider !== 'auto' ? flags.provider : 'cpu');
  const rows = catalogFor(machine);
  if (flags.json) {
    ctx.stdout(JSON.stringify({ machine, models: rows }, null, 2) + '\n');
    return 0;
  }
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)}`;
  ctx.stdout(
    `This machine: ${gib(machine.freeBytes)} of ${gib(machine.totalBytes)} GiB free, provider ${machine.provider} (runs ${rows[0]?.precision ?? 'int4'})\n`,
  );
  ctx.stdout(`${'model'.padEnd(38)} ${'licence'.padEnd(11)} params  download  memory GiB (${CATALOG_PRECISIONS.join('/')})\n`);
  for (const r of rows) {
    const mark = r.recommended ? ' ← recommended' : r.fits ? '' : ' (does not fit in free memory)';
    ctx.stdout(
      `${(r.repo + (r.default ? ' *' : '')).padEnd(38)} ${(r.licence + (r.gated ? ' 🔒' : '')).padEnd(11)} ${(r.parameters / 1e9).toFixed(2).padStart(5)}B ${gib(r.downloadBytes).padStart(6)} GiB  ${CATALOG_PRECISIONS.map((p) => gib(r.memoryBytes[p])).join(' / ')}${mark}\n`,
    );
  }
  ctx.stdout(
    `* the default. 🔒 gated: accept the licence on the hub and set HF_TOKEN. Revisions: main, pinned to its commit at download.\n`,
  );
  return 0;
}
