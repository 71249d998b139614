// onnxruntime's MatMulNBits kernel alone, at the shapes of Qwen3-0.6B's decode: how its time grows
// with the rows M of a batch (1 = single-row decode, 5 = a 5-α comparison) and what block size,
// bit width and thread count do. Each graph holds ~512 MB of distinct random weights so they come
// from memory, not cache. Prints µs per op and the weight bytes it streams per second.
// The last lines time prefill-sized M (64, 512) at both accuracy levels.
// Usage: npx tsx bench/matmulnbits.ts [--threads 2]
import { parseArgs } from 'node:util';
import { TOTAL_BYTES, timePerOp, weightBytes, type Variant } from './engine/nbits-op.ts';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' } } });

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
