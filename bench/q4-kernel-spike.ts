// Issue 14, item 4: the spike kernel (bench/spike/q4-gemv.c, Q4_0 × Q8_0 on AVX512-VNNI, a
// multi-row GEMV that reads each weight block once for all rows) against onnxruntime's MatMulNBits
// (int4, block 32, accuracy_level 4: the compile default), at Qwen3-0.6B's decode shapes, in one run
// with rounds alternating the two. Both stream ~512 MB of distinct weights per timing so they come
// from memory. Prints µs per op, ratios, and a decode step's matmuls summed over the model
// (28 × (q/k/v fused, o, gate/up fused, down) + lm_head) at M = 1, 5 and 8 rows.
// The kernel is standalone: onnxruntime-node cannot load it (bench/README.md says what would).
// Usage: npx tsx bench/q4-kernel-spike.ts [--threads 2] [--rounds 2]
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { z } from 'zod';
import { timePerOp } from './engine/nbits-op.ts';
import { median } from './engine/measure.ts';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' }, rounds: { type: 'string', default: '2' } } });
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const bin = join(import.meta.dirname, '..', '.bench', 'q4-gemv');
mkdirSync(join(import.meta.dirname, '..', '.bench'), { recursive: true });
execFileSync('gcc', ['-O3', '-march=native', '-fopenmp', join(import.meta.dirname, 'spike', 'q4-gemv.c'), '-o', bin, '-lm'], {
  stdio: 'inherit',
});

const lineSchema = z.object({ us: z.number(), maxErrVsRef: z.number(), relRmsVsFloat: z.number() });
const spike = (N: number, K: number, M: number) =>
  lineSchema.parse(JSON.parse(execFileSync(bin, [N, K, M, threads, 7].map(String), { encoding: 'utf8' })));

const bandwidth = z.object({ readGBs: z.number() }).parse(JSON.parse(execFileSync(bin, ['stream', String(threads)], { encoding: 'utf8' })));

// Qwen3-0.6B: hidden 1024, 16 q heads + 8 kv heads of 128, FFN 3072, vocabulary 151,936; 28 layers.
const SHAPES = [
  { name: 'q/k/v fused', N: 4096, K: 1024, perStep: 28 },
  { name: 'o', N: 1024, K: 2048, perStep: 28 },
  { name: 'gate/up fused', N: 6144, K: 1024, perStep: 28 },
  { name: 'down', N: 1024, K: 3072, perStep: 28 },
  { name: 'lm_head', N: 151936, K: 1024, perStep: 1 },
];
const ROWS = [1, 5, 8];
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}; load average ${loadavg()[0]!.toFixed(1)}; ${threads} threads; ${rounds} rounds`,
);
const ours = new Map<string, number[]>();
const theirs = new Map<string, number[]>();
const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
let worst = 0;
let rms = 0;
for (let r = 0; r < rounds; r++) {
  for (const s of SHAPES) {
    const mlas = await timePerOp({ N: s.N, K: s.K, bits: 4, blockSize: 32, threads }, ROWS);
    ROWS.forEach((M, i) => push(theirs, `${s.name}/${M}`, mlas[i]!));
    for (const M of ROWS) {
      const o = spike(s.N, s.K, M);
      push(ours, `${s.name}/${M}`, o.us);
      worst = Math.max(worst, o.maxErrVsRef);
      rms = Math.max(rms, o.relRmsVsFloat);
    }
  }
  console.log(`  round ${r + 1}/${rounds} done (load average ${loadavg()[0]!.toFixed(1)})`);
}
console.log(
  `\nspike kernel check: largest difference from a float64 product of the same quantised operands, relative to the outputs' RMS, ${worst.toExponential(1)};`,
);
console.log(`relative RMS against the unquantised product (the Q4_0 × Q8_0 quantisation error) ${rms.toFixed(4)}\n`);
console.log(
  '| µs per op (median) | MatMulNBits M=1 | spike M=1 | ratio | MatMulNBits M=5 | spike M=5 | ratio | MatMulNBits M=8 | spike M=8 | ratio |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
const step = { ours: [0, 0, 0], theirs: [0, 0, 0] };
for (const s of SHAPES) {
  const cells = ROWS.map((M, i) => {
    const t = median(theirs.get(`${s.name}/${M}`)!);
    const o = median(ours.get(`${s.name}/${M}`)!);
    step.theirs[i]! += t * s.perStep;
    step.ours[i]! += o * s.perStep;
    return `${t.toFixed(0)} | ${o.toFixed(0)} | ${(t / o).toFixed(2)}×`;
  });
  console.log(`| ${s.name} (N ${s.N}, K ${s.K}) | ${cells.join(' | ')} |`);
}
console.log(
  `| a decode step's matmuls (ms) | ${ROWS.map((_, i) => `${(step.theirs[i]! / 1000).toFixed(1)} | ${(step.ours[i]! / 1000).toFixed(1)} | ${(step.theirs[i]! / step.ours[i]!).toFixed(2)}×`).join(' | ')} |`,
);
// Bytes a step streams: int4 codes + one scale per 32 weights (fp32 in MatMulNBits, fp16 here and in Q4_0).
const params = SHAPES.reduce((n, s) => n + s.N * s.K * s.perStep, 0);
const floor = (scaleBytes: number) => ((params * (0.5 + scaleBytes / 32)) / (bandwidth.readGBs * 1e9)) * 1000;
console.log(
  `\nread bandwidth ${bandwidth.readGBs} GB/s (${threads} threads): a step's ${(params / 1e6).toFixed(0)}M weights could stream in ${floor(4).toFixed(1)} ms with fp32 scales, ${floor(2).toFixed(1)} ms with fp16 ones`,
);
console.log(
  `rows ÷ one row, a step's matmuls: MatMulNBits M=5 ${(step.theirs[1]! / step.theirs[0]!).toFixed(2)}, M=8 ${(step.theirs[2]! / step.theirs[0]!).toFixed(2)}; spike M=5 ${(step.ours[1]! / step.ours[0]!).toFixed(2)}, M=8 ${(step.ours[2]! / step.ours[0]!).toFixed(2)}`,
);
