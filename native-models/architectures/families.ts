// Decoder families as data: each family's structural traits, where its tensors live, and the
// defaults of its Hugging Face config class for the config.json fields the compiler reads.
// spec.ts reads only this table. A new family is a row: usually the closest family spread with
// the traits and defaults that differ (as onnxruntime-genai's builders subclass: GemmaModel is
// MistralModel with two attributes changed), plus a tensor-name map when its checkpoint names or
// fuses tensors differently.
//
// The defaults matter: an absent field means the config class default, which is often not the
// llama one (Gemma 2's attn_logit_softcapping 50.0, Gemma 3's rope_theta 1e6, Phi-3's
// rms_norm_eps 1e-5). Values are transformers' config classes (4.55 and main, read 2026-12-01);
// compile.test.ts deletes each field of every tiny checkpoint in turn to check them against the
// independent reference (test-support/reference.ts), which keeps its own copy.

export type Family = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma' | 'gemma2' | 'gemma3' | 'phi3';

/**
 * Config-class defaults. A key listed here is a field the family's model reads; a key left out
 * (the optional ones) is ignored in that family's config.json, as transformers ignores it.
 * An explicit null in config.json switches a feature off (no window, no soft-cap) or, for
 * num_key_value_heads and head_dim, means "derive it" as below.
 */
export interface ConfigDefaults {
  /** null: num_attention_heads. */
  num_key_value_heads: number | null;
  /** null: hidden_size / num_attention_heads. */
  head_dim: number | null;
  /** The activation is the first non-null of hidden_activation and hidden_act that the family reads. */
  hidden_activation?: string | null;
  hidden_act?: string;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  /** Window of the layers `sliding` selects; null: none. */
  sliding_window?: number | null;
  attn_logit_softcapping?: number | null;
  final_logit_softcapping?: number | null;
  /** Attention scale query_pre_attn_scalar^-0.5 (Gemma 2/3); families without it use head_dim^-0.5. */
  query_pre_attn_scalar?: number;
  /** A second, unscaled RoPE table with this base for sliding layers (Gemma 3). */
  rope_local_base_freq?: number;
  /** Without layer_types, layer i is global iff (i + 1) % pattern == 0 (Gemma 3). */
  sliding_window_pattern?: number;
}

/**
 * Which layers use `sliding_window` when config.json has no layer_types (or the family ignores it):
 * none; all (Mistral, Phi-3: whenever a window is set); even (Gemma 2: layers 0, 2, …);
 * pattern (Gemma 3: all but every sliding_window_pattern-th).
 */
export type SlidingRule = 'none' | 'all' | 'even' | 'pattern';

/** Where one block's weights live. Linears are prefixes (`.weight`, and `.bias` when present). */
export interface LayerTensors {
  inputNorm: string;
  postAttentionNorm: string;
  preFeedforwardNorm: string;
  postFeedforwardNorm: string;
  qNorm: string;
  kNorm: string;
  /** q, k and v as three tensors, or one tensor holding [q; k; v] along the output dimension (Phi-3's qkv_proj). */
  qkv: [string] | [string, string, string];
  o: string;
  /** gate and up as two tensors, or one holding [gate; up] (Phi-3's gate_up_proj). */
  gateUp: [string] | [string, string];
  down: string;
}

export interface TensorNames {
  embed: string;
  finalNorm: string;
  lmHead: string;
  layer: (i: number) => LayerTensors;
}

/** A config.json setting the family has but we do not support: refused in one line naming the field. */
export interface Refusal {
  /** Dotted path in config.json, e.g. rope_scaling.type. */
  field: string;
  refuse: (value: unknown) => boolean;
  reason: string;
}

export interface FamilyTraits {
  family: Family;
  /** The transformers class whose defaults `config` records. */
  configClass: string;
  config: ConfigDefaults;
  /** RMSNorm output x̂·(1 + w) (Gemma); the +1 is folded into the weights at compile time. */
  normAddOne: boolean;
  /** Embeddings × √hidden (Gemma). */
  embedScale: boolean;
  /** "gelu" in config.json means the tanh approximation (transformers forces it for Gemma 1). */
  geluIsTanh: boolean;
  /** Per-head RMSNorm on q and k before RoPE (Qwen3, Gemma 3). */
  qkNorm: boolean;
  /** Norms after attention and around the MLP, four per block (Gemma 2/3). */
  sandwichNorm: boolean;
  sliding: SlidingRule;
  /** config.json's layer_types, when present, says which layers slide (Gemma 2/3). */
  readsLayerTypes: boolean;
  tensors: TensorNames;
  refuse: Refusal[];
}

/** The Llama layout every family here starts from. */
export const LLAMA_TENSORS: TensorNames = {
  embed: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  layer: (i) => {
    const p = `model.layers.${i}`;
    return {
      inputNorm: `${p}.input_layernorm.weight`,
      postAttentionNorm: `${p}.post_attention_layernorm.weight`,
      preFeedforwardNorm: `${p}.pre_feedforward_layernorm.weight`,
      postFeedforwardNorm: `${p}.post_feedforward_layernorm.weight`,
      qNorm: `${p}.self_attn.q_norm.weight`,
      kNorm: `${p}.self_attn.k_norm.weight`,
      qkv: [`${p}.self_attn.q_proj`, `${p}.self_attn.k_proj`, `${p}.self_attn.v_proj`],
      o: `${p}.self_attn.o_proj`,
      gateUp: [`${p}.mlp.gate_proj`, `${p}.mlp.up_proj`],
      down: `${p}.mlp.down_proj`,
    };
  },
};

/** Phi-3: q/k/v in one qkv_proj, gate/up in one gate_up_proj; the rest as Llama. */
const PHI3_TENSORS: TensorNames = {
  ...LLAMA_TENSORS,
  layer: (i) => ({
    ...LLAMA_TENSORS.layer(i),
    qkv: [`model.layers.${i}.self_attn.qkv_proj`],
    gateUp: [`model.layers.${i}.mlp.gate_up_proj`],
  }),
};

const llama: FamilyTraits = {
  family: 'llama',
  configClass: 'LlamaConfig',
  config: {
    num_key_value_heads: null,
    head_dim: null,
    hidden_act: 'silu',
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 2048,
    tie_word_embeddings: false,
  },
  normAddOne: false,
  embedScale: false,
  geluIsTanh: false,
  qkNorm: false,
  sandwichNorm: false,
  sliding: 'none',
  readsLayerTypes: false,
  tensors: LLAMA_TENSORS,
  refuse: [],
};

const mistral: FamilyTraits = {
  ...llama,
  family: 'mistral',
  configClass: 'MistralConfig',
  sliding: 'all',
  config: { ...llama.config, num_key_value_heads: 8, max_position_embeddings: 4096 * 32, sliding_window: 4096 },
};

// Qwen2/3 configs carry sliding_window but apply it only with use_sliding_window (refused here).
const qwenSlidingRefusal: Refusal = {
  field: 'use_sliding_window',
  refuse: (v) => v === true,
  reason: 'sliding-window attention for Qwen is not supported',
};

const qwen2: FamilyTraits = {
  ...llama,
  family: 'qwen2',
  configClass: 'Qwen2Config',
  refuse: [qwenSlidingRefusal],
  config: { ...llama.config, num_key_value_heads: 32, max_position_embeddings: 32768 },
};

const qwen3: FamilyTraits = {
  ...qwen2,
  family: 'qwen3',
  configClass: 'Qwen3Config',
  qkNorm: true,
  config: { ...qwen2.config, head_dim: 128 },
};

const gemma: FamilyTraits = {
  ...llama,
  family: 'gemma',
  configClass: 'GemmaConfig',
  normAddOne: true,
  embedScale: true,
  geluIsTanh: true,
  config: {
    ...llama.config,
    num_key_value_heads: 16,
    head_dim: 256,
    hidden_activation: null,
    hidden_act: 'gelu_pytorch_tanh',
    max_position_embeddings: 8192,
    tie_word_embeddings: true,
  },
};

const gemma2: FamilyTraits = {
  ...gemma,
  family: 'gemma2',
  configClass: 'Gemma2Config',
  sandwichNorm: true,
  sliding: 'even',
  readsLayerTypes: true,
  config: {
    num_key_value_heads: 4,
    head_dim: 256,
    hidden_activation: 'gelu_pytorch_tanh',
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 8192,
    tie_word_embeddings: true,
    sliding_window: 4096,
    query_pre_attn_scalar: 256,
    attn_logit_softcapping: 50,
    final_logit_softcapping: 30,
  },
};

const gemma3: FamilyTraits = {
  ...gemma2,
  family: 'gemma3',
  configClass: 'Gemma3TextConfig',
  qkNorm: true,
  sliding: 'pattern',
  config: {
    ...gemma2.config,
    rope_theta: 1_000_000,
    max_position_embeddings: 131_072,
    attn_logit_softcapping: null,
    final_logit_softcapping: null,
    rope_local_base_freq: 10000,
    sliding_window_pattern: 6,
  },
};

// Phi-3's long-context checkpoints (128k, Phi-3.5, Phi-4-mini) scale RoPE with per-frequency
// short/long factors that switch at original_max_position_embeddings; not built yet.
const longRope = (v: unknown) => v === 'longrope' || v === 'su';
const longRopeReason = 'Phi-3 long-context RoPE scaling is not supported yet (the 4k-context Phi-3 checkpoints have rope_scaling null)';

const phi3: FamilyTraits = {
  ...mistral,
  family: 'phi3',
  configClass: 'Phi3Config',
  tensors: PHI3_TENSORS,
  config: { ...llama.config, rms_norm_eps: 1e-5, max_position_embeddings: 4096, sliding_window: null },
  refuse: [
    { field: 'rope_scaling.type', refuse: longRope, reason: longRopeReason },
    { field: 'rope_scaling.rope_type', refuse: longRope, reason: longRopeReason },
  ],
};

/** model_type in config.json → family. */
export const FAMILIES: Readonly<Record<string, FamilyTraits>> = {
  llama,
  mistral,
  qwen2,
  qwen3,
  gemma,
  gemma2,
  gemma3_text: gemma3,
  phi3,
};
