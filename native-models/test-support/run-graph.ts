// Test support: run a compiled model's graph directly with onnxruntime (no engine), for
// comparing the compiler's output against the reference forward pass.
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { readManifest, type Manifest } from '../compile.ts';
import { IO } from '../architectures/contract.ts';

/** A naive cache for tests: every slot filled, rebuilt by concatenation after each run. */
export interface TestCache {
  keys: Float32Array[];
  values: Float32Array[];
  slots: number;
  mask: number[][];
}

export interface GraphRun {
  logits: Float32Array; // [batch, keep, vocab]
  hidden: Float32Array[]; // per block [batch, seq, hidden]
  /** The cache extended with this run's tokens (keys [B,KV,D,slots], values [B,KV,slots,D]). */
  cache: TestCache;
}

export class GraphRunner {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly manifest: Manifest,
  ) {}

  static async open(dir: string): Promise<GraphRunner> {
    const m = readManifest(dir);
    if (!m) throw new Error(`${dir}: not compiled`);
    const s = await ort.InferenceSession.create(join(dir, m.files.model), { intraOpNumThreads: 2, logSeverityLevel: 3 });
    return new GraphRunner(s, m);
  }

  get arch() {
    return this.manifest.architecture;
  }

  /**
   * rows: token ids per row (left-padded to equal length with pad 0); earlier tokens come from
   * `past` (a previous run's cache). steer/ablate: per block [batch*hidden].
   */
  async run(opts: {
    ids: number[][];
    mask?: number[][];
    positions?: number[][];
    past?: TestCache;
    keep?: number;
    steer?: Map<number, Float32Array>;
    ablate?: Map<number, Float32Array>;
  }): Promise<GraphRun> {
    const { numLayers, hidden, numKvHeads, headDim } = this.arch;
    const B = opts.ids.length;
    const S = opts.ids[0]!.length;
    const pastLen = opts.past?.slots ?? 0;
    const T = pastLen + S;
    const newMask = opts.mask ?? opts.ids.map(() => new Array(S).fill(1));
    const mask = newMask.map((m, b) => [...(opts.past?.mask[b] ?? []), ...m]);
    const positions = opts.positions ?? opts.ids.map(() => Array.from({ length: S }, (_, j) => pastLen + j));
    const half = this.manifest.kvDtype === 'float16';
    if (half && opts.past) throw new Error('GraphRunner: a float16 cache cannot be fed back (tests run fp16 without past)');
    const KV = numKvHeads;
    const D = headDim;
    const feeds: Record<string, ort.Tensor> = {
      [IO.inputIds]: new ort.Tensor('int64', BigInt64Array.from(opts.ids.flat().map(BigInt)), [B, S]),
      [IO.attentionMask]: new ort.Tensor('int64', BigInt64Array.from(mask.flat().map(BigInt)), [B, T]),
      [IO.positionIds]: new ort.Tensor('int64', BigInt64Array.from(positions.flat().map(BigInt)), [B, S]),
      [IO.logitsToKeep]: new ort.Tensor('int64', BigInt64Array.of(BigInt(opts.keep ?? S)), []),
    };
    for (let i = 0; i < numLayers; i++) {
      feeds[IO.pastKey(i)] = half
        ? new ort.Tensor('float16', new Uint16Array(0), [B, KV, D, 0])
        : new ort.Tensor('float32', opts.past?.keys[i] ?? new Float32Array(0), [B, KV, D, pastLen]);
      feeds[IO.pastValue(i)] = half
        ? new ort.Tensor('float16', new Uint16Array(0), [B, KV, 0, D])
        : new ort.Tensor('float32', opts.past?.values[i] ?? new Float32Array(0), [B, KV, pastLen, D]);
      feeds[IO.steer(i)] = new ort.Tensor('float32', opts.steer?.get(i) ?? new Float32Array(B * hidden), [B, hidden]);
      feeds[IO.ablate(i)] = new ort.Tensor('float32', opts.ablate?.get(i) ?? new Float32Array(B * hidden), [B, hidden]);
    }
    const out = await this.session.run(feeds);
    const cache: TestCache = { keys: [], values: [], slots: T, mask };
    for (let i = 0; i < numLayers && !half; i++) {
      const nk = out[IO.presentKey(i)]!.data as Float32Array; // [B,KV,S,D]
      const nv = out[IO.presentValue(i)]!.data as Float32Array;
      const pk = opts.past?.keys[i] ?? new Float32Array(0);
      const pv = opts.past?.values[i] ?? new Float32Array(0);
      const k = new Float32Array(B * KV * D * T);
      const v = new Float32Array(B * KV * T * D);
      for (let r = 0; r < B * KV; r++) {
        for (let d = 0; d < D; d++) {
          for (let t = 0; t < pastLen; t++) k[(r * D + d) * T + t] = pk[(r * D + d) * pastLen + t]!;
          for (let s2 = 0; s2 < S; s2++) k[(r * D + d) * T + pastLen + s2] = nk[(r * S + s2) * D + d]!;
        }
        v.set(pv.subarray(r * pastLen * D, (r + 1) * pastLen * D), r * T * D);
        v.set(nv.subarray(r * S * D, (r + 1) * S * D), (r * T + pastLen) * D);
      }
      cache.keys.push(k);
      cache.values.push(v);
    }
    return {
      logits: out[IO.logits]!.data as Float32Array,
      hidden: Array.from({ length: numLayers }, (_, b) => out[IO.hidden(b)]!.data as Float32Array),
      cache,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
