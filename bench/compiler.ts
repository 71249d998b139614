// Compiler benchmark on a random Qwen3-0.6B-shaped checkpoint (bf16):
//   compile time and peak RSS per precision; decode ms/token at context 32, 512 and 1024 with
//   steering off vs on (every layer), fp32 vs int8 vs int4. Ratios are measured in this one run.
// Usage: npx tsx bench/compiler.ts [--precisions fp32,int4] [--steps 16] [--threads 2]
import { execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus, totalmem } from 'node:os';
import { ensureRandomCheckpoint } from '../native-models/test-support/random-checkpoint.ts';
import { CompiledModel } from '../main/core/engine/model.ts';

const { values } = parseArgs({
  options: {
    precisions: { type: 'string', default: 'fp32,int8,int4' },
    steps: { type: 'string', default: '16' },
    threads: { type: 'string', default: '0' },
    fresh: { type: 'boolean', default: false },
  },
});
const root = join(import.meta.dirname, '..', '.bench');
mkdirSync(root, { recursive: true });
const steps = Number(values.steps);

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
let t = performance.now();
const ckpt = ensureRandomCheckpoint(join(root, 'qwen3-0.6b-shape'));
console.log(
  `checkpoint: ${ckpt} (${(statSync(join(ckpt, 'model.safetensors')).size / 2 ** 30).toFixed(2)} GiB bf16, ready in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function decodeBench(model: CompiledModel) {
  const { hidden, numLayers, vocabSize } = model.arch;
  let s = 12345;
  const rnd = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s;
  };
  const steerOn = Array.from({ length: numLayers }, () => Float32Array.from({ length: hidden }, () => ((rnd() % 1000) / 1000 - 0.5) * 0.1));
  const cache = model.newCache(1);
  let len = 0;
  const extend = async (target: number) => {
    const chunk = 256;
    while (len < target) {
      const n = Math.min(chunk, target - len);
      const ids = BigInt64Array.from({ length: n }, () => BigInt(rnd() % vocabSize));
      const r = await model.forward({
        batch: 1,
        seq: n,
        ids,
        mask: new BigInt64Array(n).fill(1n),
        positions: BigInt64Array.from({ length: n }, (_, j) => BigInt(len + j)),
        cache,
        keep: 1,
      });
      void r;
      len += n;
    }
  };
  const step = async (steer: boolean) => {
    // time one decode step at the current context, then drop the new slot so the context stays put
    const t0 = performance.now();
    await model.forward({
      batch: 1,
      seq: 1,
      ids: BigInt64Array.of(7n),
      mask: BigInt64Array.of(1n),
      positions: BigInt64Array.of(BigInt(len)),
      cache,
      keep: 1,
      steer: steer ? steerOn : undefined,
    });
    const ms = performance.now() - t0;
    cache.truncate(len);
    return ms;
  };
  const rows: Array<{ context: number; off: number; on: number }> = [];
  let prefillTokPerS = 0;
  for (const context of [32, 512, 1024]) {
    const p0 = performance.now();
    const before = len;
    await extend(context);
    if (context === 512) prefillTokPerS = ((len - before) * 1000) / (performance.now() - p0);
    await step(false); // warm-up
    const off: number[] = [];
    const on: number[] = [];
    for (let i = 0; i < steps; i++) {
      off.push(await step(false));
      on.push(await step(true));
    }
    rows.push({ context, off: median(off), on: median(on) });
  }
  return { rows, prefillTokPerS };
}

const results: Record<string, { rows: Array<{ context: number; off: number; on: number }>; prefillTokPerS: number }> = {};
for (const variant of values.precisions.split(',')) {
  // "int4:4" = int4 with MatMulNBits accuracy_level 4
  const [precision, level = '0'] = variant.split(':') as [string, string?];
  const out = join(root, `compiled-${precision}-acc${level}`);
  if (values.fresh || !existsSync(join(out, 'manifest.json'))) rmSync(out, { recursive: true, force: true });
  const child = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'compile-child.ts'), ckpt, precision!, out, level], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!,
  );
  console.log(
    `compile ${variant}: ${child.cached ? '(cached) ' : ''}${(child.ms / 1000).toFixed(1)} s, peak RSS ${child.maxRssMiB.toFixed(0)} MiB, weights ${child.dataMiB.toFixed(0)} MiB`,
  );
  t = performance.now();
  const model = await CompiledModel.load(out, { provider: 'cpu', threads: Number(values.threads) });
  console.log(`  load ${(performance.now() - t).toFixed(0)} ms`);
  results[variant] = await decodeBench(model);
  await model.release();
  for (const r of results[variant]!.rows) {
    console.log(
      `  context ${String(r.context).padStart(4)}: ${r.off.toFixed(1)} ms/token unsteered, ${r.on.toFixed(1)} steered (steered/unsteered ${(r.on / r.off).toFixed(3)})`,
    );
  }
  const rows = results[variant]!.rows;
  console.log(
    `  ms/token at 1024 ÷ at 32: ${(rows[2]!.off / rows[0]!.off).toFixed(2)}; prefill ${results[variant]!.prefillTokPerS.toFixed(0)} tok/s`,
  );
}
const fp32 = Object.entries(results).find(([k]) => k.startsWith('fp32'))?.[1];
const int4 = Object.entries(results).find(([k]) => k.startsWith('int4'))?.[1];
if (fp32 && int4) {
  console.log(
    `int4 vs fp32 decode speed-up at context 32: ${(fp32.rows[0]!.off / int4.rows[0]!.off).toFixed(2)}×, at 1024: ${(fp32.rows[2]!.off / int4.rows[2]!.off).toFixed(2)}×`,
  );
}
