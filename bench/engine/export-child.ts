// Child process for bench/engine.ts: writes a GGUF export once, so its memory does not count
// towards the benchmark process's peak RSS. Prints one JSON line.
import { exportQwen3Gguf, type GgufWeightType } from './gguf-export.ts';

const [checkpointDir, type, out, tokenizerJson] = process.argv.slice(2);
const t0 = performance.now();
const r = exportQwen3Gguf({ checkpointDir: checkpointDir!, out: out!, type: type as GgufWeightType, tokenizerJson: tokenizerJson! });
console.log(JSON.stringify({ ms: performance.now() - t0, cached: r.cached, dataBytes: r.dataBytes }));
