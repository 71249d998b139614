// Block-wise quantisation of a Linear weight into the com.microsoft MatMulNBits layout.
//
// The weight arrives in Hugging Face layout [N = out, K = in], row-major. MatMulNBits quantises along
// K in blocks of `blockSize`: B is uint8 [N, ceil(K/blockSize), blockSize·bits/8], element k of a
// block in byte k (8 bits) or in byte k>>1, low nibble first (4 bits). With no zero_points input
// ORT uses the midpoint 2^(bits-1) (8 or 128), so dequantised = (q - zp) · scale. Checked bit-exact
// against onnxruntime-node 1.30 CPU (see nbits.test.ts, nbits.ort.test.ts).
//
// Three schemes (`QuantScheme`):
// - 'symmetric': s = absmax / (zp - 1), codes zp ± (zp - 1): one level (code 0) is never used.
// - 'signed': llama.cpp's Q4_0 rule, s = m / -zp where m is the value of largest magnitude (sign
//   kept), so m maps to code 0 and all 2^bits levels are used; the scale may be negative, which
//   MatMulNBits handles. Less weight error than 'symmetric' at the same size and speed.
// - 'asymmetric': s = (max - min) / (2^bits - 1) and a per-block zero point (a zero_points input);
//   on x86 the zero point is folded into a block sum at prepack, so it costs no decode time there.
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
  /** 'asymmetric' only: one code per block [N·ceil(K/blockSize)] (unpacked; see `nbitsZeroPoints`). */
  zeroPoints?: Uint8Array;
}

export const QUANT_SCHEMES = ['symmetric', 'signed', 'asymmetric'] as const;
export type QuantScheme = (typeof QUANT_SCHEMES)[number];

export interface QuantizeOptions {
  /** Names the tensor in error messages. */
  label?: string;
  /**
   * 'f16': round every scale to a float16 value before quantising with it, so the fp16 graph
   * (scales as float16 next to float16 activations) dequantises to exactly `dequantizeNBits`.
   */
  scales?: 'f32' | 'f16';
  /** Default 'symmetric' (see the header). */
  scheme?: QuantScheme;
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

/**
 * The float16 value of |s| rounded up in magnitude, with s's sign (as float32): ORT reads fp16 scales
 * exactly, and a larger magnitude keeps every code in range.
 */
function f16AtLeast(signed: number, label: string): number {
  const s = Math.abs(signed);
  const h = f32ToF16(Float32Array.of(s));
  let v = f16ToF32(h)[0]!;
  while (v < s) {
    h[0]! += 1;
    v = f16ToF32(h)[0]!;
  }
  check(label, Number.isFinite(v), `block scale ${s} does not fit in float16`);
  return signed < 0 ? -v : v;
}

/**
 * Quantises `w` ([N, K] row-major float32) to `bits` per weight with one scale per block of
 * `blockSize` along K by `opts.scheme` (header): q = clamp(round(w/s) + zp, 0, 2^bits - 1).
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
  const scheme = opts.scheme ?? 'symmetric';
  check(label, QUANT_SCHEMES.includes(scheme), `scheme ${scheme} is not one of ${QUANT_SCHEMES.join(', ')}`);
  const zeroPoints = scheme === 'asymmetric' ? new Uint8Array(N * nBlocks) : undefined;

  for (let n = 0; n < N; n++) {
    const row = n * K;
    for (let b = 0; b < nBlocks; b++) {
      const k0 = b * blockSize;
      const len = Math.min(blockSize, K - k0);
      let absmax = 0,
        signedMax = 0,
        min = 0,
        max = 0;
      for (let j = 0; j < len; j++) {
        const v = w[row + k0 + j]!;
        if (!Number.isFinite(v)) check(label, false, `value at [${n}, ${k0 + j}] is ${v}`);
        const a = Math.abs(v);
        if (a > absmax) {
          absmax = a;
          signedMax = v;
        }
        if (v < min) min = v;
        if (v > max) max = v;
      }
      // The block's zero point: fixed at the midpoint, or placed so min..max (which spans 0) fits.
      let z = zp;
      let s: number;
      if (scheme === 'signed') s = Math.fround(signedMax / -zp);
      else if (scheme === 'asymmetric') s = Math.fround((max - min) / qhi);
      else s = Math.fround(absmax / qmax);
      if (f16 && s !== 0) s = f16AtLeast(s, label);
      if (zeroPoints) {
        z = s > 0 ? Math.min(qhi, Math.max(0, Math.round(-min / s))) : zp;
        zeroPoints[n * nBlocks + b] = z;
      }
      scales[n * nBlocks + b] = s;
      q.fill(z);
      if (s !== 0) {
        for (let j = 0; j < len; j++) {
          const v = Math.round(w[row + k0 + j]! / s) + z;
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
  return zeroPoints ? { bits, blockSize, N, K, packed, scales, zeroPoints } : { bits, blockSize, N, K, packed, scales };
}

/** The float32 weight [N, K] that MatMulNBits computes with: (q - zp) · scale. */
export function dequantizeNBits(q: NBitsWeight): Float32Array {
  const { bits, blockSize, N, K, packed, scales, zeroPoints } = q;
  const mid = zeroPoint(bits);
  const nBlocks = blockCount(K, blockSize);
  const blob = (blockSize * bits) / 8;
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = (k / blockSize) | 0;
      const j = k - b * blockSize;
      const at = (n * nBlocks + b) * blob;
      const code = bits === 8 ? packed[at + j]! : (packed[at + (j >> 1)]! >> ((j & 1) * 4)) & 0xf;
      const zp = zeroPoints ? zeroPoints[n * nBlocks + b]! : mid;
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

/**
 * The zero_points input of an 'asymmetric' weight: uint8 [N, ceil(nBlocks·bits/8)], for 4 bits two
 * blocks per byte, low nibble first (each row padded to whole bytes), as MatMulNBits reads it.
 */
export function nbitsZeroPoints(q: NBitsWeight): { data: Uint8Array; dims: number[] } | null {
  if (!q.zeroPoints) return null;
  const nBlocks = blockCount(q.K, q.blockSize);
  if (q.bits === 8) return { data: q.zeroPoints, dims: [q.N, nBlocks] };
  const perRow = Math.ceil(nBlocks / 2);
  const data = new Uint8Array(q.N * perRow);
  for (let n = 0; n < q.N; n++) {
    for (let b = 0; b < nBlocks; b++) data[n * perRow + (b >> 1)]! |= q.zeroPoints[n * nBlocks + b]! << ((b & 1) * 4);
  }
  return { data, dims: [q.N, perRow] };
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
