// A compiled model loaded into onnxruntime: one forward step over the steerable-graph contract.
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readManifest, type Manifest } from '../../../native-models/compile.ts';
import { IO } from '../../../native-models/architectures/contract.ts';
import { openSession } from './providers.ts';
import type { SessionOptions } from './session-options.ts';
import { KvCache } from './kv-cache.ts';
import { StudioError } from '../errors.ts';
import { prepareOrtEnvironment } from './ort-env.ts';
export { KvCache };

export interface ForwardInput {
  batch: number;
  seq: number;
  /** [batch*seq] token ids. */
  ids: BigInt64Array;
  /** [batch*seq] 1 for real tokens of this run, 0 for padding (the cache keeps its own). */
  mask: BigInt64Array;
  /** [batch*seq] RoPE positions. */
  positions: BigInt64Array;
  /** The cache to attend to and to extend with this run's tokens; null = no cache (nothing kept). */
  cache: KvCache | null;
  /** Per layer: [batch*hidden] added after that block, or undefined for none. */
  steer?: (Float32Array | undefined)[];
  /** Per layer: [batch*hidden] unit directions to project out, or undefined. */
  ablate?: (Float32Array | undefined)[];
  /** Logits for the last `keep` positions. */
  keep: number;
  /** Blocks whose residual stream [batch, seq, hidden] to return. */
  hidden?: number[];
}

export interface ForwardOutput {
  logits: Float32Array;
  hidden: Map<number, Float32Array>;
}

export class CompiledModel {
  private zeroCache = new Map<number, ort.Tensor>();
  private released = false;

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    private session: ort.InferenceSession,
    readonly provider: string,
    readonly providerReason: string,
  ) {}

  static async load(dir: string, opts: SessionOptions = {}): Promise<CompiledModel> {
    prepareOrtEnvironment();
    const manifest = readManifest(dir);
    if (!manifest) throw new StudioError('model-load', `${dir}: not a compiled model (no manifest.json); compile it first`);
    for (const f of [manifest.files.model, manifest.files.data]) {
      if (!existsSync(join(dir, f))) throw new StudioError('not-found', `${join(dir, f)}: missing from the compiled model`);
    }
    let opened;
    try {
      opened = await openSession(join(dir, manifest.files.model), opts);
    } catch (e) {
      throw new StudioError('model-load', `${join(dir, manifest.files.model)}: cannot be loaded (${(e as Error).message.split('\n')[0]})`);
    }
    return new CompiledModel(dir, manifest, opened.session, opened.provider, opened.reason);
  }

  get arch(): Manifest['architecture'] {
    return this.manifest.architecture;
  }

  private zeros(batch: number): ort.Tensor {
    let t = this.zeroCache.get(batch);
    if (!t) {
      t = new ort.Tensor('float32', new Float32Array(batch * this.arch.hidden), [batch, this.arch.hidden]);
      this.zeroCache.set(batch, t);
    }
    return t;
  }

  /** A new, empty cache for `batch` rows. */
  newCache(batch: number): KvCache {
    const { numLayers, numKvHeads, headDim } = this.arch;
    return new KvCache({ numLayers, numKvHeads, headDim, dtype: this.manifest.kvDtype }, batch);
  }

  async forward(x: ForwardInput): Promise<ForwardOutput> {
    if (this.released) throw new Error('internal: model was released');
    const { numLayers, hidden } = this.arch;
    if (x.mask.length !== x.batch * x.seq) throw new Error(`internal: mask has ${x.mask.length} entries, expected ${x.batch}x${x.seq}`);
    const cache = x.cache ?? this.newCache(x.batch);
    if (cache.batch !== x.batch) throw new Error(`internal: cache has ${cache.batch} rows, run has ${x.batch}`);
    const past = cache.feeds();
    const mask = cache.maskFor(x.mask, x.seq);
    const feeds: Record<string, ort.Tensor> = {
      [IO.inputIds]: new ort.Tensor('int64', x.ids, [x.batch, x.seq]),
      [IO.attentionMask]: new ort.Tensor('int64', mask, [x.batch, cache.fedSlots + x.seq]),
      [IO.positionIds]: new ort.Tensor('int64', x.positions, [x.batch, x.seq]),
      [IO.logitsToKeep]: new ort.Tensor('int64', BigInt64Array.of(BigInt(x.keep)), []),
    };
    const steerable = this.manifest.options.steerable;
    if (!steerable && [...(x.steer ?? []), ...(x.ablate ?? [])].some((v) => v !== undefined)) {
      throw new Error(`${this.dir}: compiled without steering inputs (steerable: false); recompile it to steer or ablate`);
    }
    for (let i = 0; i < numLayers; i++) {
      feeds[IO.pastKey(i)] = past.keys[i]!;
      feeds[IO.pastValue(i)] = past.values[i]!;
      if (!steerable) continue;
      const s = x.steer?.[i];
      feeds[IO.steer(i)] = s ? new ort.Tensor('float32', s, [x.batch, hidden]) : this.zeros(x.batch);
      const a = x.ablate?.[i];
      feeds[IO.ablate(i)] = a ? new ort.Tensor('float32', a, [x.batch, hidden]) : this.zeros(x.batch);
    }
    const fetch: string[] = [IO.logits];
    if (x.cache) for (let i = 0; i < numLayers; i++) fetch.push(IO.presentKey(i), IO.presentValue(i));
    for (const b of x.hidden ?? []) fetch.push(IO.hidden(b));
    const out = await this.session.run(feeds, fetch);
    if (x.cache) {
      const keys = Array.from({ length: numLayers }, (_, i) => out[IO.presentKey(i)]!.data as Float32Array | Uint16Array);
      const values = Array.from({ length: numLayers }, (_, i) => out[IO.presentValue(i)]!.data as Float32Array | Uint16Array);
      x.cache.append(keys, values, x.mask, x.seq);
    }
    const hiddenOut = new Map<number, Float32Array>();
    for (const b of x.hidden ?? []) hiddenOut.set(b, out[IO.hidden(b)]!.data as Float32Array);
    return { logits: out[IO.logits]!.data as Float32Array, hidden: hiddenOut };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
