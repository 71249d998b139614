// One MatMulNBits node timed alone (shared by bench/matmulnbits.ts and bench/q4-kernel-spike.ts).
import * as ort from 'onnxruntime-node';
import { GraphBuilder, MS_DOMAIN } from '../../native-models/graph/builder.ts';
import { DataType, encodeModel } from '../../native-models/graph/onnx-proto.ts';
import { nbitsAttrs, nbitsShapes, quantizeNBits, type NBits } from '../../native-models/quantize/nbits.ts';
import { lcg, median } from './measure.ts';

export const TOTAL_BYTES = 512e6;

export interface Variant {
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

export const weightBytes = (v: Variant) => (v.N * v.K * v.bits) / 8 + v.N * Math.ceil(v.K / v.blockSize) * 4;

/** µs per op at each M (median of 7 runs over the L ops of one graph). */
export async function timePerOp(v: Variant, rows: number[]): Promise<number[]> {
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
