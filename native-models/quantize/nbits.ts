// Block-wise symmetric quantisation of a Linear weight into the com.microsoft MatMulNBits layout.
//
// The weight arrives in Hugging Face layout [N = out, K = in], row-major. MatMulNBits quantises along
// K in blocks of `blockSize`: B is uint8 [N, ceil(K/blockSize), blockSize·bits/8], element k of a
// block in byte k (8 bits) or in byte k>>1, low nibble first (4 bits). With no zero_points input
// ORT uses the midpoint 2^(bits-1) (8 or 128), so dequantised = (q - zp) · scale. Checked bit-exact
// against onnxruntime-node 1.30 CPU (see nbits.test.ts).
import { f16ToF32, f32ToF16 } from '../checkpoint/dtype.ts';

export type NBits = 4 | 8;
/** Block sizes we emit: ORT needs a power of two >= 16; larger than 128 gains little and loses accuracy. */
export const NBITS_BLOCK_SIZES: readonly number[] = [16, 32, 64, 128];

export interface NBitsWeight {
  bits: NBits;
  blockSize: number;
  N: number;
  K: number;
  /** uint8 [N, ceil(K/blockSize), blockSize·bits/8] */
  packed: Uint8Array;
  /** float [N·ceil(K/blockSize)]; values are fp16-exact when quantised with `scales: 'f16'`. */
  scales: Float32Array;
}

export interface QuantizeOptions {
  /** Names the tensor in error messages. */
  label?: string;
  /**
   * 'f16': round every scale to a float16 value before quantising with it, so the fp16 graph
   * (scales as float16 next to float16 activations) dequantises to exactly `dequantizeNBits`.
   */
  scales?: 'f32' | 'f16';
}

export function zeroPoint(bits: NBits): number {
  return 1 << (bits - 1);
}

export function blockCount(K: number, blockSize: number): number {
  return Math.ceil(K / blockSize);
}

function check(label: string, ok: boolean, problem: string): void {
  if (!ok) throw new Error(`quantize ${label}: ${problem}`);
}

/** The smallest float16 value >= s (as float32): ORT reads fp16 scales exactly, and rounding up keeps |q - zp| <= qmax. */
function f16AtLeast(s: number, label: string): number {
  const h = f32ToF16(Float32Array.of(s));
  let v = f16ToF32(h)[0]!;
  while (v < s) {
    h[0]! += 1;
    v = f16ToF32(h)[0]!;
  }
  check(label, Number.isFinite(v), `block scale ${s} does not fit in float16`);
  return v;
}

/**
 * Quantises `w` ([N, K] row-major float32) to `bits` per weight with one scale per block of
 * `blockSize` along K: s = absmax/qmax (qmax = 7 or 127), q = clamp(round(w/s) + zp, 0, 2·zp - 1).
 * The last block is padded with zp (dequantises to 0); an all-zero block gets scale 0.
 */
export function quantizeNBits(w: Float32Array, N: number, K: number, bits: NBits, blockSize = 32, opts: QuantizeOptions = {}): NBitsWeight {
  const label = opts.label ?? 'weight';
  check(label, Number.isInteger(N) && N > 0 && Number.isInteger(K) && K > 0, `N=${N}, K=${K} must be positive integers`);
  check(label, w.length === N * K, `has ${w.length} values, [N=${N}, K=${K}] needs ${N * K}`);
  check(label, bits === 4 || bits === 8, `bits=${bits} is not supported (use 4 or 8)`);
  check(label, NBITS_BLOCK_SIZES.includes(blockSize), `block size ${blockSize} is not one of ${NBITS_BLOCK_SIZES.join(', ')}`);

  const zp = zeroPoint(bits);
  const qmax = zp - 1;
  const qhi = 2 * zp - 1;
  const nBlocks = blockCount(K, blockSize);
  const blob = (blockSize * bits) / 8;
  const packed = new Uint8Array(N * nBlocks * blob);
  const scales = new Float32Array(N * nBlocks);
  const q = new Uint8Array(blockSize);
  const f16 = opts.scales === 'f16';

  for (let n = 0; n < N; n++) {
    const row = n * K;
    for (let b = 0; b < nBlocks; b++) {
      const k0 = b * blockSize;
      const len = Math.min(blockSize, K - k0);
      let absmax = 0;
      for (let j = 0; j < len; j++) {
        const v = w[row + k0 + j]!;
        if (!Number.isFinite(v)) check(label, false, `value at [${n}, ${k0 + j}] is ${v}`);
        const a = Math.abs(v);
        if (a > absmax) absmax = a;
      }
      let s = Math.fround(absmax / qmax);
      if (f16 && s > 0) s = f16AtLeast(s, label);
      scales[n * nBlocks + b] = s;
      q.fill(zp);
      if (s > 0) {
        for (let j = 0; j < len; j++) {
          const v = Math.round(w[row + k0 + j]! / s) + zp;
          q[j] = v < 0 ? 0 : v > qhi ? qhi : v;
        }
      }
      const out = (n * nBlocks + b) * blob;
      if (bits === 8) {
        packed.set(q, out);
      } else {
        for (let j = 0; j < blob; j++) packed[out + j] = q[2 * j]! | (q[2 * j + 1]! << 4);
      }
    }
  }
  return { bits, blockSize, N, K, packed, scales };
}

/** The float32 weight [N, K] that MatMulNBits computes with: (q - zp) · scale. */
export function dequantizeNBits(q: NBitsWeight): Float32Array {
  const { bits, blockSize, N, K, packed, scales } = q;
  const zp = zeroPoint(bits);
  const nBlocks = blockCount(K, blockSize);
  const blob = (blockSize * bits) / 8;
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = (k / blockSize) | 0;
      const j = k - b * blockSize;
      const at = (n * nBlocks + b) * blob;
      const code = bits === 8 ? packed[at + j]! : (packed[at + (j >> 1)]! >> ((j & 1) * 4)) & 0xf;
      out[n * K + k] = (code - zp) * scales[n * nBlocks + b]!;
    }
  }
  return out;
}

/** Initializer dims for MatMulNBits inputs B and scales (the 2-D scales form of the current op spec). */
export function nbitsShapes(q: NBitsWeight): { B: number[]; scales: number[] } {
  const nBlocks = blockCount(q.K, q.blockSize);
  return { B: [q.N, nBlocks, (q.blockSize * q.bits) / 8], scales: [q.N, nBlocks] };
}

/** MatMulNBits node attributes. accuracy_level 4 quantises activations to int8 (faster, less exact). */
export function nbitsAttrs(q: NBitsWeight, accuracyLevel: 0 | 1 | 2 | 3 | 4 = 0): Record<string, number> {
  return { K: q.K, N: q.N, bits: q.bits, block_size: q.blockSize, accuracy_level: accuracyLevel };
}

/** Scales as float16 bits for an fp16 graph; only lossless for weights quantised with `scales: 'f16'`. */
export function nbitsScalesF16(q: NBitsWeight): Uint16Array {
  const h = f32ToF16(q.scales);
  const back = f16ToF32(h);
  for (let i = 0; i < back.length; i++) {
    if (back[i] !== q.scales[i]) {
      throw new Error(`internal: scale ${i} (${q.scales[i]}) is not a float16 value; quantise with scales: 'f16'`);
    }
  }
  return h;
}
