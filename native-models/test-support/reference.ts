// An independent reference forward pass for the decoder families we compile, written from the
// model equations of transformers' modeling_{llama,mistral,qwen2,qwen3,gemma,gemma2,gemma3,phi3}.py.
// It shares no code with the compiler (its own safetensors reader included) so that the two can
// check each other. Slow and simple: float64 everywhere, full recompute, no KV cache.
//
// Conventions (as in transformers):
// - RMSNorm: x / sqrt(mean(x²) + eps) · w; Gemma families · (1 + w).
// - RoPE: rotate-half (non-interleaved) over the whole head, inv_freq[i] = theta^(-2i/d), with
//   rope_scaling none / linear (inv_freq / factor) / llama3 (low frequencies / factor, a smooth
//   ramp in between). Gemma 3 uses rope_local_base_freq without scaling on sliding layers and
//   rope_theta with rope_scaling on full-attention layers.
// - Sliding window w: a query at position i attends to keys j with i - w < j <= i, i.e. the last
//   w positions including itself. This is transformers' masking_utils (sliding_window_overlay:
//   kv_idx > q_idx - sliding_window), Gemma 2's eager mask (tril(diagonal=-w) masked) and llama.cpp
//   (masked when i - j >= w). Some older transformers Mistral mask paths let w + 1 positions
//   through; that is not followed.
// - Phi-3 is Mistral with q/k/v stored as one qkv_proj (rows [q; k; v]) and gate/up as one
//   gate_up_proj (rows [gate; up]); its config class defaults differ (rms_norm_eps 1e-5, no window).
// - Which layers slide: mistral and phi3 all (when sliding_window is set); qwen2/qwen3 only with
//   use_sliding_window, on layers >= max_window_layers (or as layer_types says); gemma2 even
//   layers (or layer_types); gemma3 per layer_types, else (i + 1) % sliding_window_pattern != 0.
// - "Block b" output = the residual stream right after decoder block b = HF hidden_states[b + 1],
//   always raw (HF applies the final norm to its last entry; we never do).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

type Config = Record<string, unknown>;
type Tensor = { shape: number[]; data: Float32Array };

// ---------------------------------------------------------------------------------------------
// Weights

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Reads every tensor of one safetensors file as float32 (from F32, F16 or BF16). */
function readSafetensors(path: string, into: Map<string, Tensor>): void {
  const buf = readFileSync(path);
  if (buf.length < 8) throw new Error(`${path}: too short for a safetensors file`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (8 + headerLen > buf.length) throw new Error(`${path}: header length ${headerLen} runs past the end of the file`);
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets;
    const count = info.shape.reduce((a, b) => a * b, 1);
    const bytes = buf.subarray(base + begin, base + end);
    const data = new Float32Array(count);
    const width = { F32: 4, F16: 2, BF16: 2 }[info.dtype];
    if (!width) throw new Error(`${path}: tensor ${name} has dtype ${info.dtype}; the reference reads F32, F16 and BF16`);
    if (bytes.length !== count * width || base + end > buf.length)
      throw new Error(
        `${path}: tensor ${name} has ${bytes.length} bytes, ${info.dtype}${JSON.stringify(info.shape)} needs ${count * width}`,
      );
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      if (info.dtype === 'F32') data[i] = view.getFloat32(i * 4, true);
      else if (info.dtype === 'F16') data[i] = halfToFloat(view.getUint16(i * 2, true));
      else data[i] = bf16(view.getUint16(i * 2, true));
    }
    into.set(name, { shape: info.shape, data });
  }
}

const bfScratch = new DataView(new ArrayBuffer(4));
function bf16(bits: number): number {
  bfScratch.setUint32(0, bits << 16, true);
  return bfScratch.getFloat32(0, true);
}

function loadWeights(dir: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const index = join(dir, 'model.safetensors.index.json');
  let files: string[];
  if (existsSync(index)) {
    const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map;
    if (!map) throw new Error(`${index}: no weight_map`);
    files = [...new Set(Object.values(map))];
  } else if (existsSync(join(dir, 'model.safetensors'))) {
    files = ['model.safetensors'];
  } else {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.safetensors'))
      .sort();
  }
  if (!files.length) throw new Error(`${dir}: no safetensors weights`);
  for (const f of files) readSafetensors(join(dir, f), out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small float64 kernels

function linear(w: Float32Array, bias: Float32Array | undefined, x: Float64Array, outDim: number): Float64Array {
  const inDim = x.length;
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = bias ? bias[o]! : 0;
    const row = o * inDim;
    for (let i = 0; i < inDim; i++) s += w[row + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number, plusOne: boolean, offset = 0, len = x.length): Float64Array {
  let ss = 0;
  for (let i = 0; i < len; i++) ss += x[offset + i]! ** 2;
  const r = 1 / Math.sqrt(ss / len + eps);
  const y = new Float64Array(len);
  for (let i = 0; i < len; i++) y[i] = x[offset + i]! * r * (plusOne ? 1 + w[i]! : w[i]!);
  return y;
}

function erf(x: number): number {
  // Maclaurin series for |x| < 3 (converges to double precision), continued fraction for erfc beyond.
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let cf = 0;
  for (let n = 60; n >= 1; n--) cf = n / 2 / (ax + cf);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + cf);
  return Math.sign(x) * (1 - erfc);
}

const ACTIVATIONS: Record<string, (x: number) => number> = {
  silu: (x) => x / (1 + Math.exp(-x)),
  gelu_pytorch_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
};

/** Rounds a value the way storing it in the model dtype would (Gemma's embedding normalizer). */
function roundToDtype(x: number, dtype: unknown): number {
  const f32 = Math.fround(x);
  if (dtype === 'bfloat16') {
    const v = new DataView(new ArrayBuffer(4));
    v.setFloat32(0, f32);
    const bits = v.getUint32(0);
    return bf16(((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff);
  }
  if (dtype === 'float16') {
    // Values here are normal halves; round the mantissa to 10 bits, ties to even.
    const e = Math.floor(Math.log2(Math.abs(f32)));
    const q = 2 ** (e - 10);
    const m = f32 / q;
    const r = Math.round(m);
    return (Math.abs(m - Math.trunc(m)) === 0.5 && r % 2 !== 0 ? r - 1 : r) * q;
  }
  return f32;
}

// ---------------------------------------------------------------------------------------------
// Config

const FAMILIES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3_text', 'phi3'] as const;
type Family = (typeof FAMILIES)[number];

interface Layer {
  inNorm: Float32Array;
  postAttnNorm: Float32Array;
  preFfnNorm?: Float32Array;
  postFfnNorm?: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
  qb?: Float32Array;
  kb?: Float32Array;
  vb?: Float32Array;
  ob?: Float32Array;
  qNorm?: Float32Array;
  kNorm?: Float32Array;
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
  gateB?: Float32Array;
  upB?: Float32Array;
  downB?: Float32Array;
  window: number | null;
  invFreq: Float64Array;
}

export interface ForwardOptions {
  /** block b -> vector added to the residual stream right after block b, at every position. */
  steer?: Map<number, Float32Array>;
  /** block b -> unit vector u; right after block b (before steering) h := h - (h·u) u. */
  ablate?: Map<number, Float32Array>;
}

export interface ForwardResult {
  /** Per position, [vocab]. */
  logits: Float32Array[];
  /** [block][position] -> [hidden]: the residual after block b, after ablation and steering. */
  hidden: Float32Array[][];
}

export class ReferenceModel {
  readonly numLayers: number;
  readonly hidden: number;
  readonly vocab: number;
  readonly family: Family;
  private readonly heads: number;
  private readonly kvHeads: number;
  private readonly headDim: number;
  private readonly intermediate: number;
  private readonly eps: number;
  private readonly gemmaStyle: boolean;
  private readonly sandwich: boolean;
  private readonly act: (x: number) => number;
  private readonly scale: number;
  private readonly attnSoftcap: number | null;
  private readonly finalSoftcap: number | null;
  private readonly embedScale: number;
  private readonly embed: Float32Array;
  private readonly lmHead: Float32Array;
  private readonly finalNorm: Float32Array;
  private readonly layers: Layer[] = [];

  private constructor(
    readonly dir: string,
    cfg: Config,
    weights: Map<string, Tensor>,
  ) {
    const where = join(dir, 'config.json');
    const num = (key: string, fallback?: number): number => {
      const v = cfg[key];
      if (v === undefined || v === null) {
        if (fallback !== undefined) return fallback;
        throw new Error(`${where}: field ${key} is missing`);
      }
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(`${where}: field ${key} must be a number, got ${JSON.stringify(v)}`);
      return v;
    };
    // An absent key takes the config class default; an explicit null switches the feature off.
    const optNum = (key: string, classDefault: number | null): number | null =>
      cfg[key] === undefined ? classDefault : cfg[key] === null ? null : num(key);
    const modelType = cfg.model_type;
    if (!FAMILIES.includes(modelType as Family)) {
      throw new Error(
        `${where}: model_type ${JSON.stringify(modelType)} is not supported by the reference (known: ${FAMILIES.join(', ')})`,
      );
    }
    const fam = modelType as Family;
    this.family = fam;
    const gemmaFamily = fam === 'gemma' || fam === 'gemma2' || fam === 'gemma3_text';
    this.gemmaStyle = gemmaFamily;
    this.sandwich = fam === 'gemma2' || fam === 'gemma3_text';
    this.hidden = num('hidden_size');
    this.numLayers = num('num_hidden_layers');
    this.vocab = num('vocab_size');
    this.heads = num('num_attention_heads');
    // Config-class defaults (Mistral 8, Qwen 32, Gemma 16, Gemma 2/3 4); Llama and Phi-3 use the head count.
    const kvDefault = { mistral: 8, qwen2: 32, qwen3: 32, gemma: 16, gemma2: 4, gemma3_text: 4 } as Partial<Record<Family, number>>;
    this.kvHeads = num('num_key_value_heads', kvDefault[fam] ?? this.heads);
    this.headDim = num('head_dim', gemmaFamily ? 256 : fam === 'qwen3' ? 128 : this.hidden / this.heads);
    this.intermediate = num('intermediate_size');
    this.eps = num('rms_norm_eps', fam === 'phi3' ? 1e-5 : 1e-6);
    if (this.heads % this.kvHeads !== 0)
      throw new Error(`${where}: num_attention_heads ${this.heads} is not a multiple of num_key_value_heads ${this.kvHeads}`);
    if (cfg.partial_rotary_factor !== undefined && cfg.partial_rotary_factor !== 1)
      throw new Error(`${where}: partial_rotary_factor is not supported by the reference`);

    const actName =
      (gemmaFamily ? (cfg.hidden_activation ?? cfg.hidden_act) : cfg.hidden_act) ?? (gemmaFamily ? 'gelu_pytorch_tanh' : 'silu');
    const act = ACTIVATIONS[actName as string];
    if (!act)
      throw new Error(
        `${where}: activation ${JSON.stringify(actName)} is not supported by the reference (known: ${Object.keys(ACTIVATIONS).join(', ')})`,
      );
    this.act = act;

    this.scale = (this.sandwich ? num('query_pre_attn_scalar', 256) : this.headDim) ** -0.5;
    this.attnSoftcap =
      fam === 'gemma2' ? optNum('attn_logit_softcapping', 50) : fam === 'gemma3_text' ? optNum('attn_logit_softcapping', null) : null;
    this.finalSoftcap =
      fam === 'gemma2' ? optNum('final_logit_softcapping', 30) : fam === 'gemma3_text' ? optNum('final_logit_softcapping', null) : null;
    this.embedScale = gemmaFamily ? roundToDtype(Math.sqrt(this.hidden), cfg.torch_dtype) : 1;

    // Which layers slide.
    const window = fam === 'llama' || fam === 'gemma' ? null : optNum('sliding_window', fam === 'phi3' ? null : 4096);
    const layerTypes = cfg.layer_types;
    if (layerTypes !== undefined && layerTypes !== null && (!Array.isArray(layerTypes) || layerTypes.length !== this.numLayers)) {
      throw new Error(`${where}: layer_types must list ${this.numLayers} entries`);
    }
    const isSliding = (l: number): boolean => {
      if (window === null) return false;
      switch (fam) {
        case 'llama':
        case 'gemma':
          return false;
        case 'mistral':
        case 'phi3':
          return true;
        case 'qwen2':
        case 'qwen3':
          if (cfg.use_sliding_window !== true) return false;
          if (Array.isArray(layerTypes)) return layerTypes[l] === 'sliding_attention';
          return l >= num('max_window_layers', 28);
        case 'gemma2':
          if (Array.isArray(layerTypes)) return layerTypes[l] === 'sliding_attention';
          return l % 2 === 0;
        case 'gemma3_text': {
          if (Array.isArray(layerTypes)) return layerTypes[l] === 'sliding_attention';
          const pattern = num('sliding_window_pattern', num('_sliding_window_pattern', 6));
          return (l + 1) % pattern !== 0;
        }
      }
    };

    // RoPE frequencies (global, and Gemma 3's local ones).
    const ropeScaling = (cfg.rope_scaling ?? null) as Record<string, unknown> | null;
    const globalFreq = this.invFreq(num('rope_theta', fam === 'gemma3_text' ? 1e6 : 10000), ropeScaling, where);
    const localFreq = fam === 'gemma3_text' ? this.invFreq(num('rope_local_base_freq', 10000), null, where) : globalFreq;

    // Weights: take what the family defines; anything missing or left over is an error.
    const used = new Set<string>();
    const get = (name: string, numel: number): Float32Array => {
      const t = weights.get(name);
      if (!t) throw new Error(`${dir}: tensor ${name} is missing`);
      if (t.data.length !== numel) throw new Error(`${dir}: tensor ${name} has ${t.data.length} values, expected ${numel}`);
      used.add(name);
      return t.data;
    };
    const H = this.hidden;
    const qDim = this.heads * this.headDim;
    const kvDim = this.kvHeads * this.headDim;
    const I = this.intermediate;
    const attnBias = fam === 'qwen2' ? 'qkv' : cfg.attention_bias === true ? 'qkvo' : '';
    const mlpBias = fam === 'llama' && cfg.mlp_bias === true;
    const qkNorm = fam === 'qwen3' || fam === 'gemma3_text';
    // Phi-3's fused tensors, cut into the separate projections by rows.
    const rowsOf = (name: string, numel: number, from: number, count: number): Float32Array =>
      get(name, numel).subarray(from * H, (from + count) * H);
    const fused = fam === 'phi3';
    for (let l = 0; l < this.numLayers; l++) {
      const p = `model.layers.${l}.`;
      const sliding = isSliding(l);
      const qkvName = `${p}self_attn.qkv_proj.weight`;
      const qkvNumel = (qDim + 2 * kvDim) * H;
      const gateUpName = `${p}mlp.gate_up_proj.weight`;
      this.layers.push({
        inNorm: get(`${p}input_layernorm.weight`, H),
        postAttnNorm: get(`${p}post_attention_layernorm.weight`, H),
        preFfnNorm: this.sandwich ? get(`${p}pre_feedforward_layernorm.weight`, H) : undefined,
        postFfnNorm: this.sandwich ? get(`${p}post_feedforward_layernorm.weight`, H) : undefined,
        q: fused ? rowsOf(qkvName, qkvNumel, 0, qDim) : get(`${p}self_attn.q_proj.weight`, qDim * H),
        k: fused ? rowsOf(qkvName, qkvNumel, qDim, kvDim) : get(`${p}self_attn.k_proj.weight`, kvDim * H),
        v: fused ? rowsOf(qkvName, qkvNumel, qDim + kvDim, kvDim) : get(`${p}self_attn.v_proj.weight`, kvDim * H),
        o: get(`${p}self_attn.o_proj.weight`, H * qDim),
        qb: attnBias ? get(`${p}self_attn.q_proj.bias`, qDim) : undefined,
        kb: attnBias ? get(`${p}self_attn.k_proj.bias`, kvDim) : undefined,
        vb: attnBias ? get(`${p}self_attn.v_proj.bias`, kvDim) : undefined,
        ob: attnBias === 'qkvo' ? get(`${p}self_attn.o_proj.bias`, H) : undefined,
        qNorm: qkNorm ? get(`${p}self_attn.q_norm.weight`, this.headDim) : undefined,
        kNorm: qkNorm ? get(`${p}self_attn.k_norm.weight`, this.headDim) : undefined,
        gate: fused ? rowsOf(gateUpName, 2 * I * H, 0, I) : get(`${p}mlp.gate_proj.weight`, I * H),
        up: fused ? rowsOf(gateUpName, 2 * I * H, I, I) : get(`${p}mlp.up_proj.weight`, I * H),
        down: get(`${p}mlp.down_proj.weight`, H * I),
        gateB: mlpBias ? get(`${p}mlp.gate_proj.bias`, I) : undefined,
        upB: mlpBias ? get(`${p}mlp.up_proj.bias`, I) : undefined,
        downB: mlpBias ? get(`${p}mlp.down_proj.bias`, H) : undefined,
        window: sliding ? window : null,
        invFreq: sliding ? localFreq : globalFreq,
      });
    }
    this.embed = get('model.embed_tokens.weight', this.vocab * H);
    this.finalNorm = get('model.norm.weight', H);
    const tied = (cfg.tie_word_embeddings ?? gemmaFamily) === true;
    if (tied) {
      this.lmHead = this.embed;
      if (weights.has('lm_head.weight')) used.add('lm_head.weight'); // HF ties over it
    } else {
      this.lmHead = get('lm_head.weight', this.vocab * H);
    }
    for (const name of weights.keys()) {
      if (!used.has(name) && !name.endsWith('rotary_emb.inv_freq')) throw new Error(`${dir}: tensor ${name} is not part of a ${fam} model`);
    }
  }

  private invFreq(theta: number, scaling: Record<string, unknown> | null, where: string): Float64Array {
    const d = this.headDim;
    const inv = new Float64Array(d / 2);
    for (let i = 0; i < d / 2; i++) inv[i] = 1 / theta ** ((2 * i) / d);
    if (!scaling) return inv;
    const type = scaling.rope_type ?? scaling.type;
    const factor = scaling.factor;
    if (type === 'default') return inv;
    if (typeof factor !== 'number') throw new Error(`${where}: rope_scaling.factor must be a number`);
    if (type === 'linear') return inv.map((x) => x / factor);
    if (type === 'llama3') {
      const low = scaling.low_freq_factor;
      const high = scaling.high_freq_factor;
      const orig = scaling.original_max_position_embeddings;
      if (typeof low !== 'number' || typeof high !== 'number' || typeof orig !== 'number') {
        throw new Error(
          `${where}: rope_scaling of type llama3 needs low_freq_factor, high_freq_factor and original_max_position_embeddings`,
        );
      }
      const lowWavelen = orig / low;
      const highWavelen = orig / high;
      return inv.map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen < highWavelen) return f;
        if (wavelen > lowWavelen) return f / factor;
        const smooth = (orig / wavelen - low) / (high - low);
        return (1 - smooth) * (f / factor) + smooth * f;
      });
    }
    throw new Error(`${where}: rope_scaling type ${JSON.stringify(type)} is not supported by the reference (default, linear, llama3)`);
  }

  static load(dir: string): ReferenceModel {
    const configPath = join(dir, 'config.json');
    if (!existsSync(configPath)) throw new Error(`${configPath}: missing`);
    let cfg: unknown;
    try {
      cfg = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new Error(`${configPath}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
    if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new Error(`${configPath}: not a JSON object`);
    return new ReferenceModel(dir, cfg as Config, loadWeights(dir));
  }

  /** Full causal forward over `tokens` at positions 0..n-1 (no padding, no cache). */
  forward(tokens: number[], opts: ForwardOptions = {}): ForwardResult {
    const H = this.hidden;
    for (const [what, m] of [
      ['steer', opts.steer],
      ['ablate', opts.ablate],
    ] as const) {
      for (const [b, v] of m ?? []) {
        if (!Number.isInteger(b) || b < 0 || b >= this.numLayers)
          throw new Error(`forward: ${what} block ${b} is outside 0..${this.numLayers - 1}`);
        if (v.length !== H) throw new Error(`forward: ${what} vector for block ${b} has ${v.length} values, hidden size is ${H}`);
      }
    }
    const n = tokens.length;
    const h: Float64Array[] = tokens.map((t, i) => {
      if (!Number.isInteger(t) || t < 0 || t >= this.vocab)
        throw new Error(`forward: token ${t} at position ${i} is outside the vocabulary (0..${this.vocab - 1})`);
      const x = new Float64Array(H);
      for (let j = 0; j < H; j++) x[j] = this.embed[t * H + j]! * this.embedScale;
      return x;
    });
    const hidden: Float32Array[][] = [];
    for (let b = 0; b < this.numLayers; b++) {
      this.block(this.layers[b]!, h);
      const u = opts.ablate?.get(b);
      const s = opts.steer?.get(b);
      for (let t = 0; t < n; t++) {
        const x = h[t]!;
        if (u) {
          let dot = 0;
          for (let j = 0; j < H; j++) dot += x[j]! * u[j]!;
          for (let j = 0; j < H; j++) x[j]! -= dot * u[j]!;
        }
        if (s) for (let j = 0; j < H; j++) x[j]! += s[j]!;
      }
      hidden.push(h.map((x) => Float32Array.from(x)));
    }
    const logits = h.map((x) => {
      const y = linear(this.lmHead, undefined, rmsNorm(x, this.finalNorm, this.eps, this.gemmaStyle), this.vocab);
      const c = this.finalSoftcap;
      return Float32Array.from(c ? y.map((v) => Math.tanh(v / c) * c) : y);
    });
    return { logits, hidden };
  }

  /** Greedy continuation (argmax, lowest id on ties), recomputing the full forward per token. */
  greedy(prompt: number[], count: number): number[] {
    const seq = [...prompt];
    for (let i = 0; i < count; i++) {
      const { logits } = this.forward(seq);
      const last = logits[logits.length - 1]!;
      let best = 0;
      for (let v = 1; v < last.length; v++) if (last[v]! > last[best]!) best = v;
      seq.push(best);
    }
    return seq.slice(prompt.length);
  }

  /** One decoder block, in place on the residual stream h[position]. */
  private block(L: Layer, h: Float64Array[]): void {
    const n = h.length;
    const { heads, kvHeads, headDim: d, hidden: H, eps } = this;
    const g = this.gemmaStyle;
    const group = heads / kvHeads;
    const q: Float64Array[] = [];
    const k: Float64Array[] = [];
    const v: Float64Array[] = [];
    for (let t = 0; t < n; t++) {
      const x = rmsNorm(h[t]!, L.inNorm, eps, g);
      const qt = linear(L.q, L.qb, x, heads * d);
      const kt = linear(L.k, L.kb, x, kvHeads * d);
      if (L.qNorm) for (let a = 0; a < heads; a++) qt.set(rmsNorm(qt, L.qNorm, eps, g, a * d, d), a * d);
      if (L.kNorm) for (let a = 0; a < kvHeads; a++) kt.set(rmsNorm(kt, L.kNorm, eps, g, a * d, d), a * d);
      rope(qt, heads, d, t, L.invFreq);
      rope(kt, kvHeads, d, t, L.invFreq);
      q.push(qt);
      k.push(kt);
      v.push(linear(L.v, L.vb, x, kvHeads * d));
    }
    const attnOut: Float64Array[] = [];
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ctx = new Float64Array(heads * d);
      const first = L.window === null ? 0 : Math.max(0, i - L.window + 1);
      for (let a = 0; a < heads; a++) {
        const kvh = Math.floor(a / group);
        let max = -Infinity;
        for (let j = first; j <= i; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += q[i]![a * d + c]! * k[j]![kvh * d + c]!;
          s *= this.scale;
          if (this.attnSoftcap) s = Math.tanh(s / this.attnSoftcap) * this.attnSoftcap;
          scores[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = first; j <= i; j++) {
          scores[j] = Math.exp(scores[j]! - max);
          sum += scores[j]!;
        }
        for (let j = first; j <= i; j++) {
          const p = scores[j]! / sum;
          for (let c = 0; c < d; c++) ctx[a * d + c]! += p * v[j]![kvh * d + c]!;
        }
      }
      let o = linear(L.o, L.ob, ctx, H);
      if (this.sandwich) o = rmsNorm(o, L.postAttnNorm, eps, g);
      attnOut.push(o);
    }
    for (let t = 0; t < n; t++) {
      const x = h[t]!;
      const o = attnOut[t]!;
      for (let j = 0; j < H; j++) x[j]! += o[j]!;
      const m = rmsNorm(x, this.sandwich ? L.preFfnNorm! : L.postAttnNorm, eps, g);
      const gate = linear(L.gate, L.gateB, m, this.intermediate);
      const up = linear(L.up, L.upB, m, this.intermediate);
      for (let j = 0; j < gate.length; j++) gate[j] = this.act(gate[j]!) * up[j]!;
      let y = linear(L.down, L.downB, gate, H);
      if (this.sandwich) y = rmsNorm(y, L.postFfnNorm!, eps, g);
      for (let j = 0; j < H; j++) x[j]! += y[j]!;
    }
  }
}

/** Rotate-half RoPE on each head of x at position pos: (a, b) -> (a cos - b sin, b cos + a sin). */
function rope(x: Float64Array, heads: number, d: number, pos: number, invFreq: Float64Array): void {
  const half = d / 2;
  for (let i = 0; i < half; i++) {
    const angle = pos * invFreq[i]!;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let a = 0; a < heads; a++) {
      const lo = a * d + i;
      const hi = lo + half;
      const x1 = x[lo]!;
      const x2 = x[hi]!;
      x[lo] = x1 * cos - x2 * sin;
      x[hi] = x2 * cos + x1 * sin;
    }
  }
}
