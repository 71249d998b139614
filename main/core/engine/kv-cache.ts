// The KV cache lives on the JS side in slot buffers the graph reads in place: onnxruntime-node
// wraps input typed arrays without copying, and the graph returns only the new tokens' k/v. Keys
// are stored transposed ([B, KV, D, slots]) so attention multiplies by them directly. Capacity
// grows in chunks; unfilled slots are masked, so a step reads at most CHUNK-1 unused slots.
import * as ort from 'onnxruntime-node';

export const KV_CHUNK = 128;

type KvArray = Float32Array | Uint16Array;

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  dtype: 'float32' | 'float16';
}

export class KvCache {
  /** Filled slots (the same for every row: left padding keeps rows aligned). */
  length = 0;
  capacity = 0;
  private keys: KvArray[] = [];
  private values: KvArray[] = [];
  /** [batch, capacity] 1 where a slot holds a real token. */
  private slotMask = new BigInt64Array(0);

  constructor(
    readonly shape: KvShape,
    readonly batch: number,
  ) {
    this.resize(0);
  }

  private alloc(n: number): KvArray {
    return this.shape.dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n);
  }

  private resize(capacity: number): void {
    const { numLayers, numKvHeads: KV, headDim: D } = this.shape;
    const B = this.batch;
    const old = this.capacity;
    const rows = B * KV;
    for (let i = 0; i < numLayers; i++) {
      const k = this.alloc(rows * D * capacity);
      const v = this.alloc(rows * capacity * D);
      const ok = this.keys[i];
      const ov = this.values[i];
      if (ok && ov && this.length > 0) {
        for (let r = 0; r < rows * D; r++) k.set(ok.subarray(r * old, r * old + this.length), r * capacity);
        for (let r = 0; r < rows; r++) v.set(ov.subarray(r * old * D, (r * old + this.length) * D), r * capacity * D);
      }
      this.keys[i] = k;
      this.values[i] = v;
    }
    const mask = new BigInt64Array(B * capacity);
    for (let b = 0; b < B; b++) mask.set(this.slotMask.subarray(b * old, b * old + this.length), b * capacity);
    this.slotMask = mask;
    this.capacity = capacity;
  }

  /** Makes room for `n` more slots. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.capacity) return;
    this.resize(Math.ceil(need / KV_CHUNK) * KV_CHUNK);
  }

  /** Forgets every slot from `length` on (e.g. to re-run a step at the same context). */
  truncate(length: number): void {
    if (length > this.length) throw new Error(`internal: cannot truncate a ${this.length}-slot cache to ${length}`);
    for (let b = 0; b < this.batch; b++) this.slotMask.fill(0n, b * this.capacity + length, (b + 1) * this.capacity);
    this.length = length;
  }

  /**
   * Slots a run reads: the whole capacity once anything is cached (the buffers are read in place),
   * none while the cache is empty — a prefill into a fresh cache then attends to its own tokens
   * only, not to the capacity reserved for what follows (a 20-token prompt into 128 reserved
   * slots spent most of its attention on masked slots).
   */
  get fedSlots(): number {
    return this.length === 0 ? 0 : this.capacity;
  }

  /** Attention mask for a run of `seq` new tokens: [batch, fedSlots + seq]. */
  maskFor(newMask: BigInt64Array, seq: number): BigInt64Array {
    const B = this.batch;
    const slots = this.fedSlots;
    const T = slots + seq;
    const out = new BigInt64Array(B * T);
    for (let b = 0; b < B; b++) {
      out.set(this.slotMask.subarray(b * this.capacity, b * this.capacity + slots), b * T);
      out.set(newMask.subarray(b * seq, (b + 1) * seq), b * T + slots);
    }
    return out;
  }

  feeds(): { keys: ort.Tensor[]; values: ort.Tensor[] } {
    const { numKvHeads: KV, headDim: D, dtype } = this.shape;
    const B = this.batch;
    const slots = this.fedSlots;
    const empty = this.alloc(0);
    return {
      keys: this.keys.map((k) => new ort.Tensor(dtype, slots ? k : empty, [B, KV, D, slots])),
      values: this.values.map((v) => new ort.Tensor(dtype, slots ? v : empty, [B, KV, slots, D])),
    };
  }

  /** A new cache whose row i is a copy of this cache's row `rows[i]` (rows may repeat). */
  gatherRows(rows: number[]): KvCache {
    const out = new KvCache(this.shape, rows.length);
    out.resize(this.capacity);
    const { numKvHeads: KV, headDim: D } = this.shape;
    const block = KV * D * this.capacity; // one row of one layer, keys and values alike
    for (let i = 0; i < this.keys.length; i++) {
      rows.forEach((src, dst) => {
        out.keys[i]!.set(this.keys[i]!.subarray(src * block, (src + 1) * block), dst * block);
        out.values[i]!.set(this.values[i]!.subarray(src * block, (src + 1) * block), dst * block);
      });
    }
    rows.forEach((src, dst) =>
      out.slotMask.set(this.slotMask.subarray(src * this.capacity, (src + 1) * this.capacity), dst * this.capacity),
    );
    out.length = this.length;
    return out;
  }

  /** Stores a run's new k/v ([B, KV, seq, D] per layer) and its mask in the next `seq` slots. */
  append(newKeys: KvArray[], newValues: KvArray[], newMask: BigInt64Array, seq: number): void {
    this.reserve(seq);
    const { numKvHeads: KV, headDim: D } = this.shape;
    const cap = this.capacity;
    const at = this.length;
    const rows = this.batch * KV;
    for (let i = 0; i < newKeys.length; i++) {
      const k = this.keys[i]!;
      const v = this.values[i]!;
      const nk = newKeys[i]!;
      const nv = newValues[i]!;
      for (let r = 0; r < rows; r++) {
        for (let s = 0; s < seq; s++) {
          const src = (r * seq + s) * D;
          for (let d = 0; d < D; d++) k[(r * D + d) * cap + at + s] = nk[src + d]!;
        }
        v.set(nv.subarray(r * seq * D, (r + 1) * seq * D), (r * cap + at) * D);
      }
    }
    for (let b = 0; b < this.batch; b++) this.slotMask.set(newMask.subarray(b * seq, (b + 1) * seq), b * cap + at);
    this.length += seq;
  }
}
