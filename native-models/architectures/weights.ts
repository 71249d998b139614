// Reads checkpoint tensors (validated against the spec's shapes) and emits them as initializers
// in the chosen precision: fp32 MatMul, int4/int8 MatMulNBits, or fp16.
import { DataType, type DataTypeId } from '../graph/onnx-proto.ts';
import { MS_DOMAIN, type GraphBuilder } from '../graph/builder.ts';
import type { ExternalDataWriter } from '../graph/external-data.ts';
import type { Checkpoint } from '../checkpoint/checkpoint.ts';
import { f32ToF16 } from '../checkpoint/dtype.ts';
import { quantizeNBits, nbitsShapes, nbitsZeroPoints, type QuantScheme } from '../quantize/nbits.ts';
import type { ModelSpec } from './spec.ts';
import { StudioError } from '../errors.ts';

export type Precision = 'fp32' | 'fp16' | 'int8' | 'int4';

export interface WeightEmitter {
  /** Embedding rows for `ids`, as float32 [B, S, hidden]. */
  embedding(ids: string): string;
  /** A norm weight [size] in the compute type (Gemma's +1 folded in). */
  norm(name: string, size?: number): string;
  /** x·Wᵀ (+ bias when the checkpoint has one) for HF weight `${prefix}.weight` [out, in]. */
  linear(x: string, prefix: string, inFeatures: number, outFeatures: number): string;
  /**
   * Several linears of one input (q/k/v, gate/up) as one matmul over their concatenated weights,
   * split back into one output per entry of `outFeatures`: fewer, larger kernels, and x quantised
   * once for MatMulNBits. Exact: every output row is quantised and computed on its own either way.
   * `sources` are one tensor per output, or a single tensor already fused along the output
   * dimension (Phi-3's qkv_proj), of shape [Σ outFeatures, in].
   */
  linears(x: string, inFeatures: number, sources: readonly string[], outFeatures: readonly number[]): string[];
  /** Logits for normalised hidden states [B, K, hidden] → [B, K, vocab]. */
  lmHead(x: string): string;
  /** A float32 lookup table (RoPE cos/sin) kept in the side file. */
  table(name: string, data: Float32Array, dims: number[]): string;
}

export interface WeightOptions {
  precision: Precision;
  blockSize: number;
  /** Block size of the lm_head alone (a finer one keeps the logits closer); default `blockSize`. */
  headBlockSize?: number;
  /** int4/int8 scaling rule (quantize/nbits.ts); default 'symmetric'. */
  quantScheme?: QuantScheme;
  accuracyLevel: number;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[base + c]!;
  }
  return out;
}

export class CheckpointWeights implements WeightEmitter {
  private readonly compute: DataTypeId;
  private embedName: string | null = null;
  readonly bytesRead = { value: 0 };

  constructor(
    private readonly g: GraphBuilder,
    private readonly data: ExternalDataWriter,
    private readonly ckpt: Checkpoint,
    private readonly spec: ModelSpec,
    private readonly opts: WeightOptions,
  ) {
    this.compute = opts.precision === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  }

  private read(name: string, shape: number[]): Float32Array {
    if (!this.ckpt.has(name))
      throw new StudioError(
        'format',
        `${this.ckpt.dir}: tensor ${name} is missing (config.json model_type ${this.spec.modelType} needs it)`,
      );
    const actual = this.ckpt.shape(name);
    if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
      const file = this.ckpt.tensors.get(name)!.file;
      throw new StudioError('format', `${file}: tensor ${name} has shape [${actual}] but config.json implies [${shape}]`);
    }
    const w = this.ckpt.readFloat32(name);
    this.bytesRead.value += w.byteLength;
    return w;
  }

  private store(name: string, type: DataTypeId, dims: number[], values: Float32Array | Uint16Array | Uint8Array): string {
    return this.g.external(name, type, dims, this.data.append(values));
  }

  private storeFloat(name: string, dims: number[], w: Float32Array, type = this.compute): string {
    return type === DataType.FLOAT16 ? this.store(name, type, dims, f32ToF16(w)) : this.store(name, DataType.FLOAT, dims, w);
  }

  table(name: string, data: Float32Array, dims: number[]): string {
    return this.store(name, DataType.FLOAT, dims, data);
  }

  norm(name: string, size = this.spec.hidden): string {
    const w = this.read(name, [size]);
    if (this.spec.normAddOne) for (let i = 0; i < w.length; i++) w[i]! += 1;
    return this.storeFloat(name, [size], w);
  }

  private embeddingTable(): string {
    if (this.embedName) return this.embedName;
    const { vocabSize: V, hidden: Hd } = this.spec;
    const w = this.read(this.spec.tensors.embed, [V, Hd]);
    // Quantised variants keep the table in fp16: half the bytes, exact enough for a lookup.
    const type = this.opts.precision === 'fp32' ? DataType.FLOAT : DataType.FLOAT16;
    this.embedName = this.storeFloat(this.spec.tensors.embed, [V, Hd], w, type);
    return this.embedName;
  }

  embedding(ids: string): string {
    const rows = this.g.node('Gather', [this.embeddingTable(), ids], {}, { name: 'embed' });
    return this.opts.precision === 'fp32' ? rows : this.g.node('Cast', [rows], { to: DataType.FLOAT });
  }

  private matmul(x: string, name: string, w: Float32Array, N: number, K: number, blockSize = this.opts.blockSize): string {
    const { precision, accuracyLevel } = this.opts;
    if (precision === 'int4' || precision === 'int8') {
      const q = quantizeNBits(w, N, K, precision === 'int4' ? 4 : 8, blockSize, { label: name, scheme: this.opts.quantScheme });
      const dims = nbitsShapes(q);
      const B = this.store(`${name}.qweight`, DataType.UINT8, dims.B, q.packed);
      const scales = this.store(`${name}.scales`, DataType.FLOAT, dims.scales, q.scales);
      const zp = nbitsZeroPoints(q);
      const inputs = [x, B, scales];
      if (zp) inputs.push(this.store(`${name}.zero_points`, DataType.UINT8, zp.dims, zp.data));
      return this.g.node(
        'MatMulNBits',
        inputs,
        { K, N, bits: q.bits, block_size: q.blockSize, accuracy_level: accuracyLevel },
        { domain: MS_DOMAIN, name },
      );
    }
    return this.g.node('MatMul', [x, this.storeFloat(`${name}.weight_t`, [K, N], transpose(w, N, K))], {}, { name });
  }

  linear(x: string, prefix: string, inFeatures: number, outFeatures: number): string {
    return this.linears(x, inFeatures, [prefix], [outFeatures])[0]!;
  }

  linears(x: string, inFeatures: number, sources: readonly string[], outFeatures: readonly number[]): string[] {
    const N = outFeatures.reduce((n, out) => n + out, 0);
    // Rows each source tensor holds: one output each, or all of them in one fused tensor.
    const rows = sources.length === outFeatures.length ? outFeatures : sources.length === 1 ? [N] : null;
    if (!rows) throw new Error(`linears: ${sources.length} tensors for ${outFeatures.length} outputs`);
    const parts = sources.map((p, j) => [p, rows[j]!] as const);
    const concat = (chunks: Float32Array[]) => {
      if (chunks.length === 1) return chunks[0]!;
      const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return all;
    };
    // One name for the fused node: model.layers.0.self_attn.q_proj+k_proj+v_proj
    const name = [parts[0]![0], ...parts.slice(1).map(([p]) => p.slice(p.lastIndexOf('.') + 1))].join('+');
    const w = concat(parts.map(([p, out]) => this.read(`${p}.weight`, [out, inFeatures])));
    let y = this.matmul(x, name, w, N, inFeatures);
    if (parts.some(([p]) => this.ckpt.has(`${p}.bias`))) {
      const bias = concat(parts.map(([p, out]) => (this.ckpt.has(`${p}.bias`) ? this.read(`${p}.bias`, [out]) : new Float32Array(out))));
      y = this.g.node('Add', [y, this.storeFloat(`${name}.bias`, [N], bias)]);
    }
    if (outFeatures.length === 1) return [y];
    const sizes = this.g.int64s('split_sizes', [...outFeatures]);
    return this.g.nodeMulti('Split', [y, sizes], { axis: -1 }, { name: `${name}.split`, outputs: outFeatures.length });
  }

  lmHead(x: string): string {
    const { vocabSize: V, hidden: Hd } = this.spec;
    const tied = this.spec.tiedEmbeddings;
    const { embed, lmHead } = this.spec.tensors;
    if (!tied && !this.ckpt.has(lmHead)) {
      throw new StudioError('format', `${this.ckpt.dir}: tensor ${lmHead} is missing and config.json tie_word_embeddings is false`);
    }
    const name = tied ? embed : lmHead;
    if (this.opts.precision === 'fp32' && tied) {
      // Share the embedding table: Gemm with transB reads it as [vocab, hidden] directly.
      const flat = this.g.node('Reshape', [x, this.g.int64s('shape_flat', [-1, Hd])]);
      const y = this.g.node('Gemm', [flat, this.embeddingTable()], { transB: 1 }, { name: 'lm_head' });
      const outShape = this.g.node('Concat', [this.g.node('Shape', [x], { start: 0, end: 2 }), this.g.int64s('vocab', [V])], { axis: 0 });
      return this.g.node('Reshape', [y, outShape]);
    }
    return this.matmul(x, 'lm_head', this.read(name, [V, Hd]), V, Hd, this.opts.headBlockSize ?? this.opts.blockSize);
  }
}
