// Child process for bench/compiler.ts: compiles once and reports wall time and peak RSS.
import { compileModel } from '../native-models/compile.ts';

// `plain` as the fifth argument compiles without steering inputs (the baseline of bench/engine.ts).
const [ckpt, precision, out, level = '0', variant = 'steerable'] = process.argv.slice(2);
const t0 = performance.now();
const r = await compileModel({
  checkpointDir: ckpt!,
  outDir: out!,
  options: { precision: precision as 'fp32', accuracyLevel: Number(level), requireTokenizer: false, steerable: variant !== 'plain' },
});
console.log(
  JSON.stringify({
    ms: performance.now() - t0,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    dataMiB: r.manifest.bytes.data / 2 ** 20,
    cached: r.cached,
  }),
);
