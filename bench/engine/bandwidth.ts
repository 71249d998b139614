// Memory bandwidth of this machine, measured three ways over buffers far larger than any cache.
// Decode reads every weight once per token, so (bytes read per token × tokens/s) ÷ this is how
// close decode comes to the memory limit. Buffers are filled first: untouched pages all map to
// the one zero page, which reads from cache and would overstate the bandwidth.
import * as ort from 'onnxruntime-node';
import { encodeModel, DataType } from '../../native-models/graph/onnx-proto.ts';

export interface BandwidthResult {
  /** GB/s (1e9 bytes) for each method; the best of `reps` passes. */
  methods: Array<{ name: string; gbPerS: number }>;
  /** The highest of them: the read bandwidth decode can hope for. */
  best: number;
}

const best = (xs: number[]) => Math.max(...xs);

/** Σ of a Float64Array with four accumulators (one JS thread). */
function sumF64(a: Float64Array, from: number, to: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let i = from;
  for (; i + 3 < to; i += 4) {
    s0 += a[i]!;
    s1 += a[i + 1]!;
    s2 += a[i + 2]!;
    s3 += a[i + 3]!;
  }
  for (; i < to; i++) s0 += a[i]!;
  return s0 + s1 + s2 + s3;
}

/** A one-node ONNX model: y = x · W with W an input (not an initializer, so never prepacked). */
function gemvModel(k: number, n: number): Uint8Array {
  const info = (name: string, dims: number[]) => ({
    name,
    type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } },
  });
  return encodeModel({
    ir_version: 10,
    opset_import: [{ domain: '', version: 21 }],
    producer_name: 'persona-studio-bench',
    graph: {
      name: 'gemv',
      node: [{ name: 'mm', op_type: 'MatMul', domain: '', input: ['x', 'w'], output: ['y'] }],
      input: [info('x', [1, k]), info('w', [k, n])],
      output: [info('y', [1, n])],
    },
  });
}

/**
 * Measures read bandwidth: a JS sum on one thread (bounded by the JS loop as much as by memory),
 * a copy (memcpy: counts bytes read + written), and onnxruntime's own MatMul of one row by a
 * weight matrix of `bytes` — the access pattern of a decode step — on `threads` intra-op threads.
 */
export async function measureBandwidth(opts: { bytes?: number; threads: number; reps?: number }): Promise<BandwidthResult> {
  const bytes = opts.bytes ?? 2 ** 30;
  const reps = opts.reps ?? 5;
  const methods: BandwidthResult['methods'] = [];

  const a = new Float64Array(bytes / 8);
  for (let i = 0; i < a.length; i++) a[i] = i & 1023;
  sumF64(a, 0, 1 << 20); // JIT warm-up
  const single: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    sumF64(a, 0, a.length);
    single.push(bytes / ((performance.now() - t) / 1000) / 1e9);
  }
  methods.push({ name: 'JS sum, 1 thread', gbPerS: best(single) });

  const half = new Float64Array(a.length / 2).fill(1);
  const copies: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    half.set(a.subarray(0, half.length));
    copies.push((2 * half.byteLength) / ((performance.now() - t) / 1000) / 1e9);
  }
  methods.push({ name: 'copy (read + write counted)', gbPerS: best(copies) });

  // onnxruntime GEMV over the same bytes as float32.
  const k = 4096;
  const n = bytes / 4 / k;
  const w = new Float32Array(bytes / 4).fill(1);
  const x = new Float32Array(k).fill(1 / k);
  const session = await ort.InferenceSession.create(gemvModel(k, n), {
    intraOpNumThreads: opts.threads,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const feeds = { x: new ort.Tensor('float32', x, [1, k]), w: new ort.Tensor('float32', w, [k, n]) };
  await session.run(feeds);
  const gemv: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await session.run(feeds);
    gemv.push(bytes / ((performance.now() - t) / 1000) / 1e9);
  }
  await session.release();
  methods.push({ name: `onnxruntime MatMul [1×${k}]·[${k}×${n}] fp32, ${opts.threads} threads`, gbPerS: best(gemv) });

  return { methods, best: Math.max(...methods.map((m) => m.gbPerS)) };
}
