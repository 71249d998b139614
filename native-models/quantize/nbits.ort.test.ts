// Runs the quantised weights through onnxruntime-node's com.microsoft MatMulNBits (CPU) and checks
// that it computes with exactly the weights dequantizeNBits describes.
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16 } from '../checkpoint/dtype.ts';
import { GraphBuilder, MS_DOMAIN } from '../graph/builder.ts';
import { DataType, encodeModel } from '../graph/onnx-proto.ts';
import { dequantizeNBits, nbitsAttrs, nbitsScalesF16, nbitsShapes, quantizeNBits, type NBits, type NBitsWeight } from './nbits.ts';
import { gaussian } from './test-data.ts';

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

/** A one-node model Y[M, N] = MatMulNBits(A[M, K], B, scales), in float32 or float16. */
async function matMulNBits(q: NBitsWeight, M: number, accuracyLevel: 0 | 4, half = false): Promise<ort.InferenceSession> {
  const T = half ? DataType.FLOAT16 : DataType.FLOAT;
  const g = new GraphBuilder();
  g.input('A', T, [M, q.K]);
  const shapes = nbitsShapes(q);
  const B = g.constant('B', DataType.UINT8, shapes.B, q.packed);
  const S = g.constant('scales', T, shapes.scales, half ? nbitsScalesF16(q) : q.scales);
  g.nodeNamed('Y', 'MatMulNBits', ['A', B, S], nbitsAttrs(q, accuracyLevel), { domain: MS_DOMAIN });
  g.output('Y', T, [M, q.N]);
  const bytes = encodeModel({
    ir_version: 10,
    opset_import: [
      { domain: '', version: 21 },
      { domain: MS_DOMAIN, version: 1 },
    ],
    graph: g.graph('matmulnbits'),
  });
  const s = await ort.InferenceSession.create(Buffer.from(bytes), { intraOpNumThreads: 1 });
  sessions.push(s);
  return s;
}

async function run(s: ort.InferenceSession, a: Float32Array, M: number, K: number, half = false): Promise<Float32Array> {
  const A = half ? new ort.Tensor('float16', f32ToF16(a), [M, K]) : new ort.Tensor('float32', a, [M, K]);
  const y = (await s.run({ A })).Y!;
  return half ? f16ToF32(y.data as Uint16Array) : (y.data as Float32Array);
}

function identity(K: number): Float32Array {
  const a = new Float32Array(K * K);
  for (let i = 0; i < K; i++) a[i * K + i] = 1;
  return a;
}

/** deq^T: with A = I the op's output row m is column m of the dequantised weight. */
function transposed(deq: Float32Array, N: number, K: number): Float32Array {
  const t = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) t[k * N + n] = deq[n * K + k]!;
  return t;
}

/** A @ W^T in float64, and the magnitude sum Σ|a||w| per output for a rounding tolerance. */
function reference(a: Float32Array, w: Float32Array, M: number, N: number, K: number): { y: Float64Array; mag: Float64Array } {
  const y = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0,
        t = 0;
      for (let k = 0; k < K; k++) {
        const p = a[m * K + k]! * w[n * K + k]!;
        s += p;
        t += Math.abs(p);
      }
      y[m * N + n] = s;
      mag[m * N + n] = t;
    }
  }
  return { y, mag };
}

function relRms(y: Float32Array, ref: Float64Array): number {
  let e = 0,
    d = 0;
  for (let i = 0; i < ref.length; i++) {
    e += (y[i]! - ref[i]!) ** 2;
    d += ref[i]! ** 2;
  }
  return Math.sqrt(e / d);
}

const shapes: [NBits, number, number][] = [];
for (const bits of [4, 8] as const) for (const bs of [16, 32, 64, 128]) for (const K of [32, 40, 130]) shapes.push([bits, bs, K]);

describe('MatMulNBits on onnxruntime CPU', () => {
  it.each(shapes)('bits %i, block %i, K %i: reads back exactly the dequantised weight', async (bits, bs, K) => {
    const N = 6;
    const w = gaussian(N * K, 100 * bits + K + bs);
    w.fill(0, 0, Math.min(K, bs)); // an all-zero block (scale 0) in row 0
    const q = quantizeNBits(w, N, K, bits, bs);
    const y = await run(await matMulNBits(q, K, 0), identity(K), K, K);
    expect(Array.from(y)).toEqual(Array.from(transposed(dequantizeNBits(q), N, K)));
    // ...and that weight is the original within half a quantisation step.
    const nb = Math.ceil(K / bs);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const s = q.scales[n * nb + Math.floor(k / bs)]!;
        expect(Math.abs(y[k * N + n]! - w[n * K + k]!)).toBeLessThanOrEqual(s / 2 + s * 1e-6);
      }
    }
  });

  it.each([
    [4, 40],
    [8, 40],
    [4, 200],
    [8, 200],
  ] as const)('bits %i, K %i: random activations match A @ deq^T within float32 rounding', async (bits, K) => {
    const M = 5,
      N = 24;
    const q = quantizeNBits(gaussian(N * K, 7 + K, 0.02), N, K, bits, 32);
    const a = gaussian(M * K, 8 + K, 1);
    const { y: ref, mag } = reference(a, dequantizeNBits(q), M, N, K);
    const y = await run(await matMulNBits(q, M, 0), a, M, K);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(y[i]! - ref[i]!)).toBeLessThanOrEqual(mag[i]! * 2e-6 + 1e-7);
  });

  it.each([4, 8] as const)('bits %i, accuracy_level 4 (int8 activations) stays within 2%% of A @ deq^T', async (bits) => {
    // Measured on x64 AVX2: ~0.6% relative RMS at K 896 and 4864 with activation outliers, ~1% at K 100.
    const M = 4,
      N = 32,
      K = 256;
    const q = quantizeNBits(gaussian(N * K, 31, 0.02), N, K, bits, 32);
    const a = gaussian(M * K, 32, 1);
    a[3] = 20;
    const { y: ref } = reference(a, dequantizeNBits(q), M, N, K);
    const y = await run(await matMulNBits(q, M, 4), a, M, K);
    expect(relRms(y, ref)).toBeLessThan(0.02);
  });

  it.each([4, 8] as const)('bits %i with float16 activations and scales computes with the same weights', async (bits) => {
    const N = 6,
      K = 72;
    const q = quantizeNBits(gaussian(N * K, 41 + bits, 0.02), N, K, bits, 32, { scales: 'f16' });
    const deq = dequantizeNBits(q);
    const y = await run(await matMulNBits(q, K, 0, true), identity(K), K, K, true);
    expect(Array.from(y)).toEqual(Array.from(f16ToF32(f32ToF16(transposed(deq, N, K)))));

    const M = 3;
    const a = f16ToF32(f32ToF16(gaussian(M * K, 43, 1))); // the activations the graph actually sees
    const { y: ref, mag } = reference(a, deq, M, N, K);
    const yr = await run(await matMulNBits(q, M, 0, true), a, M, K, true);
    // fp32 accumulation, one rounding to float16 at the end (2^-11 relative).
    for (let i = 0; i < ref.length; i++)
      expect(Math.abs(yr[i]! - ref[i]!)).toBeLessThanOrEqual(Math.abs(ref[i]!) * 2 ** -11 + mag[i]! * 2e-6 + 1e-7);
  });
});
