// Deterministic tiny random checkpoints of every decoder family we support, written as real
// Hugging Face folders (config.json as transformers writes it, safetensors weights,
// generation_config.json; no tokenizer: numeric tests use token ids). Each config mirrors the
// layout of a real hub checkpoint of its family (see CONFIG_STYLE below), so a compiler that
// reads these reads real-world configs.
//
// Weights come from a seeded PRNG (mulberry32) and an Irwin–Hall normal built from + − × only,
// so every run on every platform writes byte-identical files. Every tensor is seeded by
// (weight set, tensor name): variants that share a weight set (llama / llama3 / llama-f16-sharded,
// qwen3 / qwen3-bf16) hold the same values up to the storage dtype, which tests exploit.
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors, type FloatDtype, type TensorToWrite } from '../checkpoint/safetensors.ts';

export type TinyName =
  | 'llama'
  | 'llama-tied'
  | 'llama3'
  | 'mistral'
  | 'qwen2'
  | 'qwen3'
  | 'qwen3-bf16'
  | 'llama-f16-sharded'
  | 'gemma'
  | 'gemma2'
  | 'gemma3'
  | 'phi3';

export const TINY_NAMES: TinyName[] = [
  'llama',
  'llama-tied',
  'llama3',
  'mistral',
  'qwen2',
  'qwen3',
  'qwen3-bf16',
  'llama-f16-sharded',
  'gemma',
  'gemma2',
  'gemma3',
  'phi3',
];

// ---------------------------------------------------------------------------------------------
// Python-style JSON: transformers writes json.dumps(d, indent=2, sort_keys=True) + "\n", where
// floats print as 10000.0 / 1e-06. PyFloat marks a value Python holds as a float.

class PyFloat {
  constructor(readonly value: number) {}
}
const f = (v: number): PyFloat => new PyFloat(v);

/** Python's repr() of a float: shortest round-trip digits, scientific below 1e-4 or from 1e16. */
export function pyFloatRepr(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`pyFloatRepr: ${x} has no JSON form`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    out = `${intPart}.${frac || '0'}`;
  }
  return neg ? `-${out}` : out;
}

type Json = null | boolean | number | string | PyFloat | Json[] | { [k: string]: Json };

/** json.dumps(value, indent=2, sort_keys=True) as Python writes it. */
export function pythonJson(value: Json, indent = ''): string {
  if (value === null) return 'null';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`pythonJson: ${value} must be marked as a float`);
    return String(value);
  }
  if (typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    return `[\n${value.map((v) => inner + pythonJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(value).sort();
  if (!keys.length) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pythonJson(value[k]!, inner)}`).join(',\n')}\n${indent}}`;
}

// ---------------------------------------------------------------------------------------------
// PRNG

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const SQRT3 = Math.sqrt(3);
/** mean + std·N(0,1), N approximated by a scaled sum of 4 uniforms (exactly reproducible, no libm). */
function normal(key: string, count: number, std: number, mean = 0): Float32Array {
  const rnd = mulberry32(fnv1a(key));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = mean + std * (rnd() + rnd() + rnd() + rnd() - 2) * SQRT3;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Family specifications

const VOCAB = 96;
const HIDDEN = 32;
const HEADS = 4;
const KV_HEADS = 2;
const INTERMEDIATE = 48;
const MAX_POS = 256;

interface Spec {
  /** Weight set: checkpoints with the same key hold the same values (up to the storage dtype). */
  weights: string;
  layers: number;
  headDim: number;
  dtype: FloatDtype;
  shards: 1 | 2;
  tied: boolean;
  qkvBias: boolean;
  qkNorm: boolean;
  /** gemma2/gemma3: post-attention, pre-FFN and post-FFN norms around each sublayer. */
  sandwichNorms: boolean;
  /** gemma: RMSNorm multiplies by (1 + w), so weights are stored near 0. */
  zeroCenteredNorm: boolean;
  /** phi3: q/k/v stored as one qkv_proj [q; k; v] and gate/up as one gate_up_proj [gate; up]. */
  fusedProjections: boolean;
  embedStd: number;
  qkStd: number;
  config: { [k: string]: Json };
  generation: { [k: string]: Json };
}

const TORCH_DTYPE: Record<FloatDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

function llamaConfig(o: { layers: number; tied: boolean; eps: number; theta: number; ropeScaling: Json; dtype: FloatDtype }) {
  // Key set of LlamaConfig.save_pretrained in transformers 4.55.
  return {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: f(0),
    bos_token_id: 1,
    eos_token_id: 2,
    head_dim: 8,
    hidden_act: 'silu',
    hidden_size: HIDDEN,
    initializer_range: f(0.02),
    intermediate_size: INTERMEDIATE,
    max_position_embeddings: MAX_POS,
    mlp_bias: false,
    model_type: 'llama',
    num_attention_heads: HEADS,
    num_hidden_layers: o.layers,
    num_key_value_heads: KV_HEADS,
    pretraining_tp: 1,
    rms_norm_eps: f(o.eps),
    rope_scaling: o.ropeScaling,
    rope_theta: f(o.theta),
    tie_word_embeddings: o.tied,
    torch_dtype: TORCH_DTYPE[o.dtype],
    transformers_version: '4.55.4',
    use_cache: true,
    vocab_size: VOCAB,
  };
}

function genConfig(bos: number, eos: number, version: string, pad?: number): { [k: string]: Json } {
  const g: { [k: string]: Json } = { _from_model_config: true, bos_token_id: bos, eos_token_id: eos, transformers_version: version };
  if (pad !== undefined) g.pad_token_id = pad;
  return g;
}

const base = {
  layers: 3,
  headDim: 8,
  dtype: 'F32' as FloatDtype,
  shards: 1 as const,
  tied: false,
  qkvBias: false,
  qkNorm: false,
  sandwichNorms: false,
  zeroCenteredNorm: false,
  fusedProjections: false,
  embedStd: 0.5,
  qkStd: 0.25,
};

/** CONFIG_STYLE: which real checkpoint each config's key set and formatting follow. */
function spec(name: TinyName): Spec {
  switch (name) {
    case 'llama':
      return {
        ...base,
        weights: 'llama',
        config: llamaConfig({ layers: 3, tied: false, eps: 1e-5, theta: 10000, ropeScaling: null, dtype: 'F32' }),
        generation: genConfig(1, 2, '4.55.4'),
      };
    case 'llama-tied':
      return {
        ...base,
        weights: 'llama-tied',
        tied: true,
        config: llamaConfig({ layers: 3, tied: true, eps: 1e-5, theta: 10000, ropeScaling: null, dtype: 'F32' }),
        generation: genConfig(1, 2, '4.55.4'),
      };
    case 'llama3':
      // Same weights as 'llama'. original_max_position_embeddings 192 (not 32) so that, with
      // head_dim 8 and theta 5e5, the four frequencies hit all three llama3 regimes: wavelength
      // 6.3 (< 48: kept), 167 (48..192: smoothed) and 4443, 118140 (> 192: divided by 8).
      return {
        ...base,
        weights: 'llama',
        generation: genConfig(1, 2, '4.55.4'),
        config: llamaConfig({
          layers: 3,
          tied: false,
          eps: 1e-5,
          theta: 500000,
          dtype: 'F32',
          ropeScaling: {
            factor: f(8),
            high_freq_factor: f(4),
            low_freq_factor: f(1),
            original_max_position_embeddings: 192,
            rope_type: 'llama3',
          },
        }),
      };
    case 'llama-f16-sharded':
      return {
        ...base,
        weights: 'llama',
        dtype: 'F16',
        shards: 2,
        config: llamaConfig({ layers: 3, tied: false, eps: 1e-5, theta: 10000, ropeScaling: null, dtype: 'F16' }),
        generation: genConfig(1, 2, '4.55.4'),
      };
    case 'mistral':
      // MistralConfig in transformers 4.55. sliding_window 4 so the window matters on short inputs.
      return {
        ...base,
        weights: 'mistral',
        generation: genConfig(1, 2, '4.55.4'),
        config: {
          architectures: ['MistralForCausalLM'],
          attention_dropout: f(0),
          bos_token_id: 1,
          eos_token_id: 2,
          head_dim: 8,
          hidden_act: 'silu',
          hidden_size: HIDDEN,
          initializer_range: f(0.02),
          intermediate_size: INTERMEDIATE,
          max_position_embeddings: MAX_POS,
          model_type: 'mistral',
          num_attention_heads: HEADS,
          num_hidden_layers: 3,
          num_key_value_heads: KV_HEADS,
          rms_norm_eps: f(1e-6),
          rope_theta: f(10000),
          sliding_window: 4,
          tie_word_embeddings: false,
          torch_dtype: 'float32',
          transformers_version: '4.55.4',
          use_cache: true,
          vocab_size: VOCAB,
        },
      };
    case 'qwen2':
      // The Qwen2.5 hub layout (transformers 4.43): sliding_window is set but use_sliding_window is
      // false, so it must be ignored (max_window_layers 1 makes a misreading visible on layers 1-2).
      return {
        ...base,
        weights: 'qwen2',
        tied: true,
        qkvBias: true,
        generation: genConfig(93, 95, '4.43.1'),
        config: {
          architectures: ['Qwen2ForCausalLM'],
          attention_dropout: f(0),
          bos_token_id: 93,
          eos_token_id: 95,
          hidden_act: 'silu',
          hidden_size: HIDDEN,
          initializer_range: f(0.02),
          intermediate_size: INTERMEDIATE,
          max_position_embeddings: MAX_POS,
          max_window_layers: 1,
          model_type: 'qwen2',
          num_attention_heads: HEADS,
          num_hidden_layers: 3,
          num_key_value_heads: KV_HEADS,
          rms_norm_eps: f(1e-6),
          rope_theta: f(1000000),
          sliding_window: 4,
          tie_word_embeddings: true,
          torch_dtype: 'float32',
          transformers_version: '4.43.1',
          use_cache: true,
          use_sliding_window: false,
          vocab_size: VOCAB,
        },
      };
    case 'qwen3':
    case 'qwen3-bf16': {
      // The Qwen3-0.6B hub layout (transformers 4.51), head_dim 16 ≠ hidden/heads.
      const dtype: FloatDtype = name === 'qwen3' ? 'F32' : 'BF16';
      return {
        ...base,
        weights: 'qwen3',
        headDim: 16,
        dtype,
        tied: true,
        qkNorm: true,
        generation: genConfig(93, 95, '4.51.0'),
        config: {
          architectures: ['Qwen3ForCausalLM'],
          attention_bias: false,
          attention_dropout: f(0),
          bos_token_id: 93,
          eos_token_id: 95,
          head_dim: 16,
          hidden_act: 'silu',
          hidden_size: HIDDEN,
          initializer_range: f(0.02),
          intermediate_size: INTERMEDIATE,
          max_position_embeddings: MAX_POS,
          max_window_layers: 3,
          model_type: 'qwen3',
          num_attention_heads: HEADS,
          num_hidden_layers: 3,
          num_key_value_heads: KV_HEADS,
          rms_norm_eps: f(1e-6),
          rope_scaling: null,
          rope_theta: 1000000,
          sliding_window: null,
          tie_word_embeddings: true,
          torch_dtype: TORCH_DTYPE[dtype],
          transformers_version: '4.51.0',
          use_cache: true,
          use_sliding_window: false,
          vocab_size: VOCAB,
        },
      };
    }
    case 'gemma':
      // The gemma-2b hub layout; both activation keys name the tanh GELU (newer transformers read
      // hidden_act, older hidden_activation). tie_word_embeddings is absent: Gemma ties by default.
      return {
        ...base,
        weights: 'gemma',
        headDim: 16,
        tied: true,
        zeroCenteredNorm: true,
        embedStd: 0.2,
        generation: genConfig(2, 1, '4.38.2', 0),
        config: {
          architectures: ['GemmaForCausalLM'],
          attention_bias: false,
          attention_dropout: f(0),
          bos_token_id: 2,
          eos_token_id: 1,
          head_dim: 16,
          hidden_act: 'gelu_pytorch_tanh',
          hidden_activation: 'gelu_pytorch_tanh',
          hidden_size: HIDDEN,
          initializer_range: f(0.02),
          intermediate_size: INTERMEDIATE,
          max_position_embeddings: MAX_POS,
          model_type: 'gemma',
          num_attention_heads: HEADS,
          num_hidden_layers: 3,
          num_key_value_heads: KV_HEADS,
          pad_token_id: 0,
          rms_norm_eps: f(1e-6),
          rope_scaling: null,
          rope_theta: f(10000),
          torch_dtype: 'float32',
          transformers_version: '4.38.2',
          use_cache: true,
          vocab_size: VOCAB,
        },
      };
    case 'gemma2':
      // The gemma-2-2b hub layout (transformers 4.42): no layer_types, so the schedule is the
      // family rule (layer_idx % 2 == 0 is sliding). Small soft-caps so tanh actually bites.
      return {
        ...base,
        weights: 'gemma2',
        layers: 4,
        headDim: 16,
        tied: true,
        zeroCenteredNorm: true,
        sandwichNorms: true,
        embedStd: 0.2,
        qkStd: 0.3,
        generation: genConfig(2, 1, '4.42.4', 0),
        config: {
          architectures: ['Gemma2ForCausalLM'],
          attention_bias: false,
          attention_dropout: f(0),
          attn_logit_softcapping: f(5),
          bos_token_id: 2,
          cache_implementation: 'hybrid',
          eos_token_id: 1,
          final_logit_softcapping: f(3),
          head_dim: 16,
          hidden_act: 'gelu_pytorch_tanh',
          hidden_activation: 'gelu_pytorch_tanh',
          hidden_size: HIDDEN,
          initializer_range: f(0.02),
          intermediate_size: INTERMEDIATE,
          max_position_embeddings: MAX_POS,
          model_type: 'gemma2',
          num_attention_heads: HEADS,
          num_hidden_layers: 4,
          num_key_value_heads: KV_HEADS,
          pad_token_id: 0,
          query_pre_attn_scalar: 24,
          rms_norm_eps: f(1e-6),
          rope_theta: f(10000),
          sliding_window: 4,
          torch_dtype: 'float32',
          transformers_version: '4.42.4',
          use_cache: true,
          vocab_size: VOCAB,
        },
      };
    case 'gemma3':
      // The gemma-3-270m hub layout (transformers 4.55: layer_types plus _sliding_window_pattern);
      // sliding_window_pattern is the older spelling, written too for readers that only know it.
      return {
        ...base,
        weights: 'gemma3',
        layers: 4,
        headDim: 16,
        tied: true,
        zeroCenteredNorm: true,
        sandwichNorms: true,
        qkNorm: true,
        embedStd: 0.2,
        qkStd: 0.3,
        generation: genConfig(2, 1, '4.55.4', 0),
        config: {
          _sliding_window_pattern: 4,
          architectures: ['Gemma3ForCausalLM'],
          attention_bias: false,
          attention_dropout: f(0),
          attn_logit_softcapping: null,
          bos_token_id: 2,
          eos_token_id: 1,
          final_logit_softcapping: null,
          head_dim: 16,
          hidden_activation: 'gelu_pytorch_tanh',
          hidden_size: HIDDEN,
          initializer_range: f(0.02),
          intermediate_size: INTERMEDIATE,
          layer_types: ['sliding_attention', 'sliding_attention', 'sliding_attention', 'full_attention'],
          max_position_embeddings: MAX_POS,
          model_type: 'gemma3_text',
          num_attention_heads: HEADS,
          num_hidden_layers: 4,
          num_key_value_heads: KV_HEADS,
          pad_token_id: 0,
          query_pre_attn_scalar: 24,
          rms_norm_eps: f(1e-6),
          rope_local_base_freq: f(10000),
          rope_scaling: { factor: f(8), rope_type: 'linear' },
          rope_theta: f(1000000),
          sliding_window: 4,
          sliding_window_pattern: 4,
          torch_dtype: 'float32',
          transformers_version: '4.55.4',
          use_bidirectional_attention: false,
          use_cache: true,
          vocab_size: VOCAB,
        },
      };
    case 'phi3':
      // The Phi-3-mini-4k-instruct hub layout (transformers 4.40; auto_map dropped: no remote
      // code here): fused qkv_proj and gate_up_proj, rms_norm_eps 1e-5, no head_dim key, and a
      // sliding window on every layer (2047 on the hub; 4 so it matters on short inputs).
      return {
        ...base,
        weights: 'phi3',
        fusedProjections: true,
        generation: genConfig(1, 94, '4.40.2', 94),
        config: {
          architectures: ['Phi3ForCausalLM'],
          attention_bias: false,
          attention_dropout: f(0),
          bos_token_id: 1,
          embd_pdrop: f(0),
          eos_token_id: 94,
          hidden_act: 'silu',
          hidden_size: HIDDEN,
          initializer_range: f(0.02),
          intermediate_size: INTERMEDIATE,
          max_position_embeddings: MAX_POS,
          model_type: 'phi3',
          num_attention_heads: HEADS,
          num_hidden_layers: 3,
          num_key_value_heads: KV_HEADS,
          original_max_position_embeddings: MAX_POS,
          pad_token_id: 94,
          resid_pdrop: f(0),
          rms_norm_eps: f(1e-5),
          rope_scaling: null,
          rope_theta: f(10000),
          sliding_window: 4,
          tie_word_embeddings: false,
          torch_dtype: 'float32',
          transformers_version: '4.40.2',
          use_cache: true,
          vocab_size: VOCAB,
        },
      };
  }
}

/** All tensors of a checkpoint, in Hugging Face names, sorted by name. */
function tensors(s: Spec): TensorToWrite[] {
  const out: TensorToWrite[] = [];
  const w = (name: string, shape: number[], std: number, mean = 0) => {
    const count = shape.reduce((a, b) => a * b, 1);
    out.push({ name, shape, data: normal(`${s.weights}/${name}`, count, std, mean), dtype: s.dtype });
  };
  const norm = (name: string, dim: number) => w(name, [dim], 0.1, s.zeroCenteredNorm ? 0 : 1);
  /** Replaces the tensors `parts` (just written) by one tensor `name` holding them stacked along dim 0. */
  const fuse = (name: string, parts: string[]) => {
    const taken = parts.map(
      (p) =>
        out.splice(
          out.findIndex((t) => t.name === p),
          1,
        )[0]!,
    );
    const data = new Float32Array(taken.reduce((n, t) => n + t.data.length, 0));
    let at = 0;
    for (const t of taken) {
      data.set(t.data, at);
      at += t.data.length;
    }
    out.push({ name, shape: [taken.reduce((n, t) => n + t.shape[0]!, 0), HIDDEN], data, dtype: s.dtype });
  };
  const qDim = HEADS * s.headDim;
  const kvDim = KV_HEADS * s.headDim;
  w('model.embed_tokens.weight', [VOCAB, HIDDEN], s.embedStd);
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}.`;
    norm(`${p}input_layernorm.weight`, HIDDEN);
    norm(`${p}post_attention_layernorm.weight`, HIDDEN);
    if (s.sandwichNorms) {
      norm(`${p}pre_feedforward_layernorm.weight`, HIDDEN);
      norm(`${p}post_feedforward_layernorm.weight`, HIDDEN);
    }
    w(`${p}self_attn.q_proj.weight`, [qDim, HIDDEN], s.qkStd);
    w(`${p}self_attn.k_proj.weight`, [kvDim, HIDDEN], s.qkStd);
    w(`${p}self_attn.v_proj.weight`, [kvDim, HIDDEN], 0.15);
    if (s.fusedProjections)
      fuse(
        `${p}self_attn.qkv_proj.weight`,
        ['q_proj', 'k_proj', 'v_proj'].map((n) => `${p}self_attn.${n}.weight`),
      );
    w(`${p}self_attn.o_proj.weight`, [HIDDEN, qDim], 0.15);
    if (s.qkvBias) {
      w(`${p}self_attn.q_proj.bias`, [qDim], 0.1);
      w(`${p}self_attn.k_proj.bias`, [kvDim], 0.1);
      w(`${p}self_attn.v_proj.bias`, [kvDim], 0.1);
    }
    if (s.qkNorm) {
      norm(`${p}self_attn.q_norm.weight`, s.headDim);
      norm(`${p}self_attn.k_norm.weight`, s.headDim);
    }
    w(`${p}mlp.gate_proj.weight`, [INTERMEDIATE, HIDDEN], 0.15);
    w(`${p}mlp.up_proj.weight`, [INTERMEDIATE, HIDDEN], 0.15);
    if (s.fusedProjections) fuse(`${p}mlp.gate_up_proj.weight`, [`${p}mlp.gate_proj.weight`, `${p}mlp.up_proj.weight`]);
    w(`${p}mlp.down_proj.weight`, [HIDDEN, INTERMEDIATE], 0.15);
  }
  norm('model.norm.weight', HIDDEN);
  if (!s.tied) w('lm_head.weight', [VOCAB, HIDDEN], 0.3);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const DTYPE_BYTES: Record<FloatDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** Writes the checkpoint `name` into `dir` (created if needed; existing files are overwritten). */
export function makeTinyCheckpoint(name: TinyName, dir: string): void {
  if (!TINY_NAMES.includes(name))
    throw new Error(`makeTinyCheckpoint: unknown tiny checkpoint ${JSON.stringify(name)} (known: ${TINY_NAMES.join(', ')})`);
  const s = spec(name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${pythonJson(s.config)}\n`);
  writeFileSync(join(dir, 'generation_config.json'), `${pythonJson(s.generation)}\n`);
  const all = tensors(s);
  const meta = { format: 'pt' };
  if (s.shards === 1) {
    writeSafetensors(join(dir, 'model.safetensors'), all, meta);
    return;
  }
  // Two shards split at half the bytes, with the index transformers writes beside them.
  const bytes = (t: TensorToWrite) => t.data.length * DTYPE_BYTES[t.dtype ?? 'F32'];
  const total = all.reduce((a, t) => a + bytes(t), 0);
  const groups: TensorToWrite[][] = [[], []];
  let acc = 0;
  for (const t of all) {
    groups[acc < total / 2 ? 0 : 1]!.push(t);
    acc += bytes(t);
  }
  const weightMap: { [k: string]: Json } = {};
  groups.forEach((g, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(dir, file), g, meta);
    for (const t of g) weightMap[t.name] = file;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), `${pythonJson({ metadata: { total_size: total }, weight_map: weightMap })}\n`);
}

// ---------------------------------------------------------------------------------------------
// Cached fixtures under <repo>/.fixtures/tiny/<name>

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURE_ROOT = resolve(HERE, '..', '..', '.fixtures', 'tiny');
const STAMP = '.tiny-fixture';
let generatorHash: string | undefined;

/** Identifies the generator: any edit to this file rebuilds cached fixtures. */
function stampFor(name: TinyName): string {
  generatorHash ??= createHash('sha256')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex');
  return `${name} ${generatorHash}\n`;
}

function isCurrent(dir: string, stamp: string): boolean {
  try {
    return readFileSync(join(dir, STAMP), 'utf8') === stamp;
  } catch {
    return false;
  }
}

/**
 * The folder of tiny checkpoint `name`, built once under <repo>/.fixtures/tiny/<name>. It is built
 * in a temporary folder and renamed into place, so concurrent or aborted runs never leave a
 * half-written checkpoint; a folder from an older generator is replaced.
 */
export function tinyCheckpoint(name: TinyName): string {
  const dir = join(FIXTURE_ROOT, name);
  const stamp = stampFor(name);
  if (isCurrent(dir, stamp)) return dir;
  mkdirSync(FIXTURE_ROOT, { recursive: true });
  const tmp = mkdtempSync(join(FIXTURE_ROOT, `.tmp-${name}-`));
  try {
    makeTinyCheckpoint(name, tmp);
    writeFileSync(join(tmp, STAMP), stamp);
    if (isCurrent(dir, stamp)) return dir; // another process finished first while we built
    if (existsSync(dir)) {
      // Stale: move it aside first (rename onto a non-empty folder fails).
      const old = `${tmp}.old`;
      try {
        renameSync(dir, old);
        rmSync(old, { recursive: true, force: true });
      } catch {
        // Another process moved it first.
      }
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process won the race; theirs is as good as ours.
      if (!isCurrent(dir, stamp)) throw new Error(`tinyCheckpoint: could not place ${dir} (${(e as Error).message})`, { cause: e });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
