// The one generic decoder builder. Every family is the llama block plus switches read from
// ModelSpec (q/k norms, sandwich norms, soft-capping, sliding windows, embedding scale, gelu);
// weights are found through the family's tensor-name map (spec.tensors).
// It emits the steerable-graph contract documented in native-models/README.md.
import { DataType, type DataTypeId } from '../graph/onnx-proto.ts';
import { MS_DOMAIN, type GraphBuilder } from '../graph/builder.ts';
import type { ModelSpec } from './spec.ts';
import type { WeightEmitter } from './weights.ts';
import { IO } from './contract.ts';

export interface DecoderOptions {
  /** Fused RMSNorm (SimplifiedLayerNormalization) where the provider has it; primitives otherwise. */
  fusedNorm: boolean;
  /**
   * com.microsoft RotaryEmbedding for RoPE (2 nodes per layer instead of ~16) and
   * SkipSimplifiedLayerNormalization for the attention residual add + the next RMSNorm; the
   * primitive ops otherwise (CoreML has no contrib ops). Default false.
   */
  fusedOps?: boolean;
  /** Element type of activations and the KV cache (inputs/outputs of steering and logits stay float32). */
  compute: DataTypeId;
  /** false: no steer/ablate inputs and no intervention nodes (the baseline benchmarks compare with). Default true. */
  steerable?: boolean;
}

const NEG_INF = -3.4028234663852886e38;

export function buildDecoder(
  spec: ModelSpec,
  g: GraphBuilder,
  W: WeightEmitter,
  opts: DecoderOptions,
  progress?: (done: number, total: number) => void,
): void {
  const F = opts.compute;
  const { hidden: Hd, numHeads: H, numKvHeads: KV, headDim: D } = spec;
  const G = H / KV;

  // ---- inputs
  const inputIds = g.input(IO.inputIds, DataType.INT64, ['batch', 'seq']);
  const attnMask = g.input(IO.attentionMask, DataType.INT64, ['batch', 'total']);
  const positionIds = g.input(IO.positionIds, DataType.INT64, ['batch', 'seq']);
  const keep = g.input(IO.logitsToKeep, DataType.INT64, []);
  const past: Array<[string, string]> = [];
  for (let i = 0; i < spec.numLayers; i++) {
    past.push([g.input(IO.pastKey(i), F, ['batch', KV, D, 'slots']), g.input(IO.pastValue(i), F, ['batch', KV, 'slots', D])]);
  }
  const steerable = opts.steerable ?? true;
  const steer: string[] = [];
  const ablate: string[] = [];
  for (let b = 0; steerable && b < spec.numLayers; b++) {
    steer.push(g.input(IO.steer(b), DataType.FLOAT, ['batch', Hd]));
    ablate.push(g.input(IO.ablate(b), DataType.FLOAT, ['batch', Hd]));
  }

  const toCompute = (x: string) => (F === DataType.FLOAT ? x : g.node('Cast', [x], { to: F }));
  const toFloat = (x: string) => (F === DataType.FLOAT ? x : g.node('Cast', [x], { to: DataType.FLOAT }));
  const scalar = (name: string, v: number) =>
    F === DataType.FLOAT ? g.floats(name, [v], true) : g.node('Cast', [g.floats(name, [v], true)], { to: F });
  const shape = (x: string, start: number, end: number) => g.node('Shape', [x], { start, end });

  // ---- attention mask shared by all layers, from positions rather than slot indices, so the
  // cache may hold unfilled (masked) slots: key k is visible to query q iff it is a real token
  // (mask 1), pos_k <= pos_q, and, on sliding layers, pos_q - pos_k < window.
  const ax1 = g.int64s('ax1', [1]);
  const S = shape(inputIds, 1, 2);
  const T = shape(attnMask, 1, 2);
  const slots = g.node('Sub', [T, S]);
  const pastMask = g.node('Slice', [attnMask, g.int64s('zero1', [0]), slots, ax1]);
  const pastPos = g.node('Sub', [g.node('CumSum', [pastMask, g.int64s('ax1s', [1], true)]), g.int64s('one1', [1])]);
  const keyPos = g.node('Concat', [pastPos, positionIds], { axis: 1 }); // [B,T]
  const qPos = g.node('Unsqueeze', [positionIds, g.int64s('ax2', [2])]); // [B,S,1]
  const kPos = g.node('Unsqueeze', [keyPos, ax1]); // [B,1,T]
  const valid = g.node('Unsqueeze', [g.node('Cast', [attnMask], { to: DataType.BOOL }), ax1]); // [B,1,T]
  const distance = g.node('Sub', [qPos, kPos]); // [B,S,T]
  const causal = g.node('GreaterOrEqual', [distance, g.int64s('zero', [0], true)]);
  const mask5 = g.int64s('ax12', [1, 2]); // [B,S,T] -> [B,1,1,S,T]
  const allowedFull = g.node('Unsqueeze', [g.node('And', [causal, valid]), mask5], {}, { name: 'mask_full' }); // [B,1,1,S,T]
  const negInf = scalar('neg_inf', NEG_INF);
  const zeroF = scalar('zero_f', 0);
  // Additive masks, built once per run and window: 0 where visible, the lowest float elsewhere,
  // added to the scores. Softmax then gives exactly what Where(allowed, scores, lowest) gives
  // (scores + 0 = scores; the lowest float absorbs any finite score), one Add per layer instead of
  // a Where over a broadcast boolean.
  const biasByWindow = new Map<number | null, string>();
  const maskBiasFor = (window: number | null): string => {
    let m = biasByWindow.get(window);
    if (!m) {
      let allowed = allowedFull;
      if (window !== null) {
        const inWindow = g.node('Unsqueeze', [g.node('Less', [distance, g.int64s('window', [window], true)]), mask5]);
        allowed = g.node('And', [allowedFull, inWindow], {}, { name: `mask_window${window}` });
      }
      m = g.node('Where', [allowed, zeroF, negInf], {}, { name: window === null ? 'mask_bias' : `mask_bias_window${window}` });
      biasByWindow.set(window, m);
    }
    return m;
  };

  // ---- RoPE. Primitive path: cos/sin [B,1,S,D] gathered once per run (halves duplicated, HF
  // rotate-half) and applied with ~8 nodes per tensor. Contrib path: RotaryEmbedding with caches
  // [maxPos, D/2] (interleaved 0 = rotate-half), one node per tensor.
  const fusedOps = opts.fusedOps ?? false;
  const ropeTables = spec.ropeTables.map((inv, r) => {
    const maxPos = spec.maxPositions;
    const width = fusedOps ? D / 2 : D;
    const cos = new Float32Array(maxPos * width);
    const sin = new Float32Array(maxPos * width);
    for (let p = 0; p < maxPos; p++) {
      for (let i = 0; i < D / 2; i++) {
        const a = p * inv[i]!;
        cos[p * width + i] = Math.cos(a);
        sin[p * width + i] = Math.sin(a);
        if (!fusedOps) {
          cos[p * D + i + D / 2] = cos[p * D + i]!;
          sin[p * D + i + D / 2] = sin[p * D + i]!;
        }
      }
    }
    return { cos: W.table(`rope${r}.cos`, cos, [maxPos, width]), sin: W.table(`rope${r}.sin`, sin, [maxPos, width]) };
  });
  const rope = ropeTables.map(({ cos, sin }, r) =>
    fusedOps
      ? { cos: toCompute(cos), sin: toCompute(sin) }
      : {
          cos: toCompute(g.node('Unsqueeze', [g.node('Gather', [cos, positionIds]), ax1], {}, { name: `rope${r}_cos` })),
          sin: toCompute(g.node('Unsqueeze', [g.node('Gather', [sin, positionIds]), ax1], {}, { name: `rope${r}_sin` })),
        },
  );
  const halfStart = g.int64s('h0', [0]);
  const halfMid = g.int64s('h1', [D / 2]);
  const halfEnd = g.int64s('h2', [D]);
  const lastAxis = g.int64s('axm1', [-1]);
  /** RoPE on x [B, heads, S, D]. */
  const applyRope = (x: string, r: number): string => {
    if (fusedOps) return g.node('RotaryEmbedding', [x, positionIds, rope[r]!.cos, rope[r]!.sin], { interleaved: 0 }, { domain: MS_DOMAIN });
    const x1 = g.node('Slice', [x, halfStart, halfMid, lastAxis]);
    const x2 = g.node('Slice', [x, halfMid, halfEnd, lastAxis]);
    const rotated = g.node('Concat', [g.node('Neg', [x2]), x1], { axis: -1 });
    return g.node('Add', [g.node('Mul', [x, rope[r]!.cos]), g.node('Mul', [rotated, rope[r]!.sin])]);
  };

  const rmsNorm = (x: string, weight: string, name: string): string => {
    if (opts.fusedNorm)
      return g.node('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: { float: spec.rmsEps }, stash_type: 1 }, { name });
    const xf = toFloat(x);
    const ms = g.node('ReduceMean', [g.node('Mul', [xf, xf]), lastAxis], { keepdims: 1 });
    const inv = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [ms, g.floats('eps', [spec.rmsEps], true)])])]);
    return g.node('Mul', [toCompute(g.node('Mul', [xf, inv])), weight], {}, { name });
  };
  /** cap · tanh(x / cap), with `x` in the compute type, or float32 when `float` (the logits are). */
  const softcap = (x: string, cap: number, float = false): string => {
    const c = float ? g.floats('cap', [cap], true) : scalar('cap', cap);
    return g.node('Mul', [g.node('Tanh', [g.node('Div', [x, c])]), c]);
  };
  const activation = (x: string): string =>
    spec.activation === 'silu' ? g.node('Mul', [x, g.node('Sigmoid', [x])]) : g.node('Gelu', [x], { approximate: 'tanh' });

  // ---- embeddings
  let h = toCompute(W.embedding(inputIds));
  if (spec.embedScale !== null) h = g.node('Mul', [h, scalar('embed_scale', spec.embedScale)]);

  const qkvShape = (heads: number) => g.int64s(`shape_h${heads}`, [0, 0, heads, D]);
  const toHeads = (x: string, heads: number) => g.node('Transpose', [g.node('Reshape', [x, qkvShape(heads)])], { perm: [0, 2, 1, 3] });
  const q5Shape = g.int64s('shape_q5', [0, KV, G, -1, D]);
  const attnOutShape = g.int64s('shape_attn_out', [0, 0, H * D]);
  const headsShape = g.int64s('shape_heads', [0, H, -1, D]);
  const ax2 = g.int64s('ax2b', [2]);
  const qScale = scalar('attn_scale', spec.attnScale);

  for (let i = 0; i < spec.numLayers; i++) {
    const L = spec.layers[i]!;
    const t = spec.tensors.layer(i);
    // attention
    const xa = rmsNorm(h, W.norm(t.inputNorm), `l${i}_input_norm`);
    const qkv = W.linears(xa, Hd, t.qkv, [H * D, KV * D, KV * D]);
    let [q, k] = qkv as [string, string];
    const v = qkv[2]!;
    if (spec.qkNorm) {
      q = g.node('Reshape', [q, qkvShape(H)]);
      q = g.node('Transpose', [rmsNorm(q, W.norm(t.qNorm, D), `l${i}_q_norm`)], { perm: [0, 2, 1, 3] });
      k = g.node('Reshape', [k, qkvShape(KV)]);
      k = g.node('Transpose', [rmsNorm(k, W.norm(t.kNorm, D), `l${i}_k_norm`)], { perm: [0, 2, 1, 3] });
    } else {
      q = toHeads(q, H);
      k = toHeads(k, KV);
    }
    q = g.node('Mul', [applyRope(q, L.rope), qScale]); // [B,H,S,D], pre-scaled
    k = applyRope(k, L.rope); // [B,KV,S,D]
    // The cache is read in place: scores over [cache slots ; this run's keys] are concatenated
    // (small), never the cache itself, and only this run's k/v leave the graph.
    const kNew = g.nodeNamed(IO.presentKey(i), 'Identity', [k]); // [B,KV,S,D]
    const vNew = g.nodeNamed(IO.presentValue(i), 'Identity', [toHeads(v, KV)]);
    const q5 = g.node('Reshape', [q, q5Shape]); // [B,KV,G,S,D]
    const scoresPast = g.node('MatMul', [q5, g.node('Unsqueeze', [past[i]![0], ax2])]); // x [B,KV,1,D,slots]
    const scoresNew = g.node('MatMul', [q5, g.node('Unsqueeze', [g.node('Transpose', [kNew], { perm: [0, 1, 3, 2] }), ax2])]);
    let scores = g.node('Concat', [scoresPast, scoresNew], { axis: -1 }, { name: `l${i}_scores` });
    if (spec.attnSoftcap !== null) scores = softcap(scores, spec.attnSoftcap);
    scores = g.node('Add', [scores, maskBiasFor(L.window)], {}, { name: `l${i}_masked` });
    const probs = g.node('Softmax', [scores], { axis: -1 });
    const probsPast = g.node('Slice', [probs, g.int64s('zero1', [0]), slots, lastAxis]);
    const probsNew = g.node('Slice', [probs, slots, g.int64s('int64max', [Number.MAX_SAFE_INTEGER]), lastAxis]);
    const ctx5 = g.node('Add', [
      g.node('MatMul', [probsPast, g.node('Unsqueeze', [past[i]![1], ax2])]), // x [B,KV,1,slots,D]
      g.node('MatMul', [probsNew, g.node('Unsqueeze', [vNew, ax2])]),
    ]); // [B,KV,G,S,D]
    const ctx = g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [ctx5, headsShape])], { perm: [0, 2, 1, 3] }), attnOutShape]);
    let attnOut = W.linear(ctx, t.o, H * D, Hd);
    if (spec.sandwichNorm) attnOut = rmsNorm(attnOut, W.norm(t.postAttentionNorm), `l${i}_post_attn_norm`);
    // MLP input: residual add, then RMSNorm (fused into one node where the provider has it)
    const mlpNorm = spec.sandwichNorm ? W.norm(t.preFeedforwardNorm) : W.norm(t.postAttentionNorm);
    const mlpNormName = spec.sandwichNorm ? `l${i}_pre_ffw_norm` : `l${i}_post_attn_norm`;
    let xm: string;
    if (fusedOps && opts.fusedNorm) {
      // outputs: normed, (mean, inv_std_var: unused), the residual sum
      const outs = g.nodeMulti(
        'SkipSimplifiedLayerNormalization',
        [h, attnOut, mlpNorm],
        { epsilon: { float: spec.rmsEps } },
        { domain: MS_DOMAIN, name: mlpNormName, outputs: 4, unused: [1, 2] },
      );
      xm = outs[0]!;
      h = outs[3]!;
    } else {
      h = g.node('Add', [h, attnOut], {}, { name: `l${i}_attn_residual` });
      xm = rmsNorm(h, mlpNorm, mlpNormName);
    }
    const [gateProj, up] = W.linears(xm, Hd, t.gateUp, [spec.intermediate, spec.intermediate]) as [string, string];
    const gate = activation(gateProj);
    let mlpOut = W.linear(g.node('Mul', [gate, up]), t.down, spec.intermediate, Hd);
    if (spec.sandwichNorm) mlpOut = rmsNorm(mlpOut, W.norm(t.postFeedforwardNorm), `l${i}_post_ffw_norm`);
    let r = toFloat(g.node('Add', [h, mlpOut], {}, { name: `l${i}_residual` }));
    let out: string;
    if (steerable) {
      // interventions after block i, per row: ablation h - (h·u)u, then steering h + s
      const u = g.node('Unsqueeze', [ablate[i]!, ax1]); // [B,1,Hd]
      const proj = g.node('ReduceSum', [g.node('Mul', [r, u]), lastAxis], { keepdims: 1 });
      r = g.node('Sub', [r, g.node('Mul', [proj, u])]);
      out = g.nodeNamed(IO.hidden(i), 'Add', [r, g.node('Unsqueeze', [steer[i]!, ax1])]);
    } else {
      out = g.nodeNamed(IO.hidden(i), 'Identity', [r]);
    }
    h = toCompute(out);
    progress?.(i + 1, spec.numLayers);
  }

  // ---- head: final norm on the last `logits_to_keep` positions only
  const start = g.node('Neg', [g.node('Reshape', [keep, g.int64s('shape1', [1])])]);
  const tail = g.node('Slice', [h, start, g.int64s('int64max', [Number.MAX_SAFE_INTEGER]), ax1]);
  const normed = rmsNorm(tail, W.norm(spec.tensors.finalNorm), 'final_norm');
  let logits = toFloat(W.lmHead(normed));
  if (spec.finalSoftcap !== null) logits = softcap(logits, spec.finalSoftcap, true); // float32 already: a float16 cap made fp16 gemma2 unloadable
  g.nodeNamed(IO.logits, 'Identity', [logits]);

  // ---- graph outputs
  g.output(IO.logits, DataType.FLOAT, ['batch', 'keep', spec.vocabSize]);
  for (let i = 0; i < spec.numLayers; i++) {
    g.output(IO.presentKey(i), F, ['batch', KV, 'seq', D]);
    g.output(IO.presentValue(i), F, ['batch', KV, 'seq', D]);
  }
  for (let b = 0; b < spec.numLayers; b++) g.output(IO.hidden(b), DataType.FLOAT, ['batch', 'seq', Hd]);
}
