// Child process for bench/compiler.ts: compiles once and reports wall time and peak RSS.
import { compileModel } from '../native-models/compile.ts';

const [ckpt, precision, out, level = '0'] = process.argv.slice(2);
const t0 = performance.now();
const r = await compileModel({
  checkpointDir: ckpt!,
  outDir: out!,
  options: { precision: precision as 'fp32', accuracyLevel: Number(level), requireTokenizer: false },
});
console.log(
  JSON.stringify({
    ms: performance.now() - t0,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    dataMiB: r.manifest.bytes.data / 2 ** 20,
    cached: r.cached,
  }),
);
