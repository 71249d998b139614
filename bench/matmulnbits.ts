// onnxruntime's MatMulNBits kernel alone, at the shapes of Qwen3-0.6B's decode: how its time grows
// with the rows M of a batch (1 = single-row decode, 5 = a 5-α comparison) and what block size,
// bit width and thread count do. Each graph holds ~512 MB of distinct random weights so they come
// from memory, not cache. Prints µs per op and the weight bytes it streams per second.
// The last lines time prefill-sized M (64, 512) at both accuracy levels.
// Usage: npx tsx bench/matmulnbits.ts [--threads 2]
import * as ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import { GraphBuilder, MS_DOMAIN } from '../native-models/graph/builder.ts';
import { DataType, encodeModel } from '../native-models/graph/onnx-proto.ts';
import { nbitsAttrs, nbitsShapes, quantizeNBits, type NBits } from '../native-models/quantize/nbits.ts';
import { lcg, median } from './engine/measure.ts';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' } } });
const TOTAL_BYTES = 512e6;

interface Variant {
  N: number;
  K: number;
  bits: NBits;
  blockSize: number;
  threads: number;
  accuracyLevel?: 0 | 4;
}

/** L independent Y_l = MatMulNBits(A, B_l) nodes, each with its own random codes and scales. */
async function session(v: Variant, L: number): Promise<ort.InferenceSession> {
  const template = quantizeNBits(new Float32Array(v.N * v.K).fill(0.5), v.N, v.K, v.bits, v.blockSize);
  const shapes = nbitsShapes(template);
  const rnd = lcg(1);
  const g = new GraphBuilder();
  g.input('A', DataType.FLOAT, ['M', v.K]);
  for (let l = 0; l < L; l++) {
    const packed = new Uint8Array(template.packed.length);
    const words = new Uint32Array(packed.buffer);
    for (let i = 0; i < words.length; i++) words[i] = rnd();
    const scales = Float32Array.from(template.scales, () => 0.01 * (1 + (rnd() % 100) / 100));
    const B = g.constant(`B${l}`, DataType.UINT8, shapes.B, packed);
    const S = g.constant(`s${l}`, DataType.FLOAT, shapes.scales, scales);
    g.nodeNamed(`Y${l}`, 'MatMulNBits', ['A', B, S], nbitsAttrs(template, v.accuracyLevel ?? 4), { domain: MS_DOMAIN });
    g.output(`Y${l}`, DataType.FLOAT, ['M', v.N]);
  }
  const bytes = encodeModel({
    ir_version: 10,
    opset_import: [
      { domain: '', version: 21 },
      { domain: MS_DOMAIN, version: 1 },
    ],
    graph: g.graph('matmulnbits'),
  });
  return ort.InferenceSession.create(Buffer.from(bytes), { intraOpNumThreads: v.threads, logSeverityLevel: 3 });
}

const weightBytes = (v: Variant) => (v.N * v.K * v.bits) / 8 + v.N * Math.ceil(v.K / v.blockSize) * 4;

/** µs per op at each M (median of 7 runs over the L ops of one graph). */
async function timePerOp(v: Variant, rows: number[]): Promise<number[]> {
  const L = Math.max(2, Math.round(TOTAL_BYTES / weightBytes(v)));
  const s = await session(v, L);
  const out: number[] = [];
  for (const M of rows) {
    const A = new ort.Tensor('float32', new Float32Array(M * v.K).fill(0.1), [M, v.K]);
    await s.run({ A });
    const ms: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      await s.run({ A });
      ms.push(performance.now() - t0);
    }
    out.push((median(ms) * 1000) / L);
  }
  await s.release();
  return out;
}

async function measure(v: Variant, rows: number[]): Promise<string> {
  const perRow = await timePerOp(v, rows);
  const parts = rows.map((M, i) => `M=${M} ${perRow[i]!.toFixed(0)} µs (${(weightBytes(v) / perRow[i]! / 1e3).toFixed(1)} GB/s)`);
  const at5 = rows.indexOf(5);
  return `${parts.join(', ')}${at5 > 0 ? `; M=5 ÷ M=1 ${(perRow[at5]! / perRow[0]!).toFixed(2)}` : ''}`;
}

const threads = Number(values.threads);
console.log(`MatMulNBits, accuracy_level 4, K=1024; ~${TOTAL_BYTES / 1e6} MB of weights per graph`);
for (const N of [4096, 6144]) {
  for (const [bits, blockSize] of [
    [4, 32],
    [4, 128],
    [8, 32],
  ] as const) {
    console.log(
      `  N=${N} int${bits} block ${blockSize}, ${threads} threads: ${await measure({ N, K: 1024, bits, blockSize, threads }, [1, 2, 5, 16])}`,
    );
  }
}
console.log(`  N=4096 int4 block 32, 1 thread: ${await measure({ N: 4096, K: 1024, bits: 4, blockSize: 32, threads: 1 }, [1, 5])}`);

// One layer's projections as separate nodes (q 2048 + k 1024 + v 1024; gate 3072 + up 3072) vs fused into one.
const op = (N: number) => ({ N, K: 1024, bits: 4 as const, blockSize: 32, threads });
const [q1, q5] = await timePerOp(op(2048), [1, 5]);
const [k1, k5] = await timePerOp(op(1024), [1, 5]);
const [qkv1, qkv5] = await timePerOp(op(4096), [1, 5]);
const [g1, g5] = await timePerOp(op(3072), [1, 5]);
const [gu1, gu5] = await timePerOp(op(6144), [1, 5]);
console.log(
  `  q/k/v separate vs fused: M=1 ${(q1! + 2 * k1!).toFixed(0)} vs ${qkv1!.toFixed(0)} µs, M=5 ${(q5! + 2 * k5!).toFixed(0)} vs ${qkv5!.toFixed(0)} µs`,
);
console.log(
  `  gate/up separate vs fused: M=1 ${(2 * g1!).toFixed(0)} vs ${gu1!.toFixed(0)} µs, M=5 ${(2 * g5!).toFixed(0)} vs ${gu5!.toFixed(0)} µs`,
);

// Prefill-sized M: what the kernel reaches when it has many rows (2·N·K·M flops per op).
for (const accuracyLevel of [4, 0] as const) {
  const rows = [64, 512];
  const v = { N: 4096, K: 1024, bits: 4 as const, blockSize: 32, threads, accuracyLevel };
  const us = await timePerOp(v, rows);
  console.log(
    `  N=4096 int4 block 32, accuracy_level ${accuracyLevel}: ${rows.map((M, i) => `M=${M} ${(us[i]! / M).toFixed(1)} µs/row = ${((2 * v.N * v.K * M) / us[i]! / 1e3).toFixed(0)} GFLOP/s`).join(', ')}`,
  );
}
