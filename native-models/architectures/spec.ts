// config.json → ModelSpec: the one normalised description every builder step reads. Each family
// is a small set of overrides on the llama defaults; unsupported settings fail naming the field.
import { z } from 'zod';
import { StudioError, fromZod } from '../errors.ts';

export type Family = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma' | 'gemma2' | 'gemma3';
export type Activation = 'silu' | 'gelu_tanh';

export interface LayerSpec {
  /** Attend to the last `window` positions (including the current one), or everything when null. */
  window: number | null;
  /** Which RoPE table this layer uses (index into ModelSpec.ropeTables). */
  rope: number;
}

export interface ModelSpec {
  family: Family;
  modelType: string;
  vocabSize: number;
  hidden: number;
  intermediate: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsEps: number;
  /** Gemma stores RMSNorm weights as w with output x̂·(1+w); we fold the +1 in at compile time. */
  normAddOne: boolean;
  embedScale: number | null;
  activation: Activation;
  qkNorm: boolean;
  /** Gemma 2/3: norms after attention and around the MLP (four per block). */
  sandwichNorm: boolean;
  attnScale: number;
  attnSoftcap: number | null;
  finalSoftcap: number | null;
  tiedEmbeddings: boolean;
  maxPositions: number;
  /** Inverse RoPE frequencies [headDim/2] per distinct table (Gemma 3 has a local and a global one). */
  ropeTables: Float64Array[];
  layers: LayerSpec[];
  bosId: number | null;
  eosIds: number[];
}

const FAMILIES: Record<string, Family> = {
  llama: 'llama', mistral: 'mistral', qwen2: 'qwen2', qwen3: 'qwen3',
  gemma: 'gemma', gemma2: 'gemma2', gemma3_text: 'gemma3',
};

const num = z.number();
const posInt = z.number().int().positive();
const ropeScalingSchema = z.object({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  factor: num.optional(),
  low_freq_factor: num.optional(),
  high_freq_factor: num.optional(),
  original_max_position_embeddings: posInt.optional(),
}).passthrough();

const configSchema = z.object({
  model_type: z.string(),
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullish(),
  head_dim: posInt.nullish(),
  rms_norm_eps: num.nullish(),
  rope_theta: num.nullish(),
  rope_scaling: ropeScalingSchema.nullish(),
  rope_local_base_freq: num.nullish(),
  max_position_embeddings: posInt.nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  hidden_act: z.string().nullish(),
  hidden_activation: z.string().nullish(),
  sliding_window: posInt.nullish(),
  use_sliding_window: z.boolean().nullish(),
  sliding_window_pattern: posInt.nullish(),
  layer_types: z.array(z.string()).nullish(),
  query_pre_attn_scalar: num.nullish(),
  attn_logit_softcapping: num.nullish(),
  final_logit_softcapping: num.nullish(),
  partial_rotary_factor: num.nullish(),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullish(),
}).passthrough();

export type HfConfig = z.infer<typeof configSchema>;

/** Inverse frequencies for one RoPE table, with the scaling variants Llama 3.x and Gemma 3 use. */
export function ropeInvFreq(headDim: number, theta: number, scaling: z.infer<typeof ropeScalingSchema> | null | undefined, where: string): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  if (!scaling) return inv;
  const kind = scaling.rope_type ?? scaling.type ?? 'default';
  if (kind === 'default') return inv;
  const factor = scaling.factor;
  if (kind === 'linear') {
    if (!factor) throw new StudioError('config', `${where}: rope_scaling.factor is required for rope_type linear`);
    return inv.map((f) => f / factor);
  }
  if (kind === 'llama3') {
    const { low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: orig } = scaling;
    if (!factor || !low || !high || !orig) {
      throw new StudioError('config', `${where}: rope_scaling (llama3) needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings`);
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
  throw new StudioError('config', `${where}: rope_scaling.rope_type "${kind}" is not supported (supported: default, linear, llama3)`);
}

export function parseModelSpec(raw: unknown, where = 'config.json'): ModelSpec {
  if (typeof raw !== 'object' || raw === null) throw new StudioError('config', `${where}: not a JSON object`);
  const modelType = (raw as { model_type?: unknown }).model_type;
  if (typeof modelType !== 'string') throw new StudioError('config', `${where}: model_type is missing`);
  const family = FAMILIES[modelType];
  if (!family) {
    const hint = modelType === 'gemma3' ? ' (multimodal Gemma 3; use the text-only gemma3_text checkpoint)' : '';
    throw new StudioError('config', `${where}: model_type "${modelType}" is not supported${hint} (supported: ${Object.keys(FAMILIES).join(', ')})`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw fromZod('config', parsed.error, where, ': field ');
  }
  const c = parsed.data;
  const gemma = family.startsWith('gemma');
  const numHeads = c.num_attention_heads;
  const numKvHeads = c.num_key_value_heads ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new StudioError('config', `${where}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  }
  const headDim = c.head_dim ?? c.hidden_size / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new StudioError('config', `${where}: head_dim ${headDim} must be an even integer`);
  if (c.partial_rotary_factor != null && c.partial_rotary_factor !== 1) {
    throw new StudioError('config', `${where}: partial_rotary_factor ${c.partial_rotary_factor} is not supported (only full rotary)`);
  }
  const act = c.hidden_activation ?? c.hidden_act ?? (gemma ? 'gelu_pytorch_tanh' : 'silu');
  let activation: Activation;
  if (act === 'silu' || act === 'swish') activation = 'silu';
  else if (act === 'gelu_pytorch_tanh' || (gemma && act === 'gelu')) activation = 'gelu_tanh';
  else throw new StudioError('config', `${where}: ${c.hidden_activation ? 'hidden_activation' : 'hidden_act'} "${act}" is not supported (silu, gelu_pytorch_tanh)`);

  // Which layers use a sliding window, per the family's convention.
  const window = c.sliding_window ?? null;
  let isSliding: (i: number) => boolean = () => false;
  if (c.layer_types) {
    if (c.layer_types.length !== c.num_hidden_layers) {
      throw new StudioError('config', `${where}: layer_types has ${c.layer_types.length} entries, num_hidden_layers is ${c.num_hidden_layers}`);
    }
    for (const t of c.layer_types) {
      if (t !== 'sliding_attention' && t !== 'full_attention') throw new StudioError('config', `${where}: layer_types entry "${t}" is not supported`);
    }
    isSliding = (i) => c.layer_types![i] === 'sliding_attention';
  } else if (family === 'mistral') {
    isSliding = () => window !== null;
  } else if (family === 'gemma2') {
    isSliding = (i) => i % 2 === 0;
  } else if (family === 'gemma3') {
    const pattern = c.sliding_window_pattern ?? 6;
    isSliding = (i) => (i + 1) % pattern !== 0;
  } else if ((family === 'qwen2' || family === 'qwen3') && c.use_sliding_window) {
    throw new StudioError('config', `${where}: use_sliding_window true is not supported for ${modelType}`);
  }
  if (window === null && [...Array(c.num_hidden_layers).keys()].some(isSliding)) {
    throw new StudioError('config', `${where}: sliding_window is required by layer_types/sliding_window_pattern`);
  }

  const theta = c.rope_theta ?? 10000;
  const ropeTables = [ropeInvFreq(headDim, theta, c.rope_scaling, where)];
  let localRope = 0;
  if (family === 'gemma3') {
    ropeTables.push(ropeInvFreq(headDim, c.rope_local_base_freq ?? 10000, null, where));
    localRope = 1;
  }
  const layers: LayerSpec[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const sliding = isSliding(i);
    layers.push({ window: sliding ? window : null, rope: sliding ? localRope : 0 });
  }

  const eos = c.eos_token_id;
  return {
    family,
    modelType,
    vocabSize: c.vocab_size,
    hidden: c.hidden_size,
    intermediate: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads,
    numKvHeads,
    headDim,
    rmsEps: c.rms_norm_eps ?? 1e-6,
    normAddOne: gemma,
    embedScale: gemma ? Math.sqrt(c.hidden_size) : null,
    activation,
    qkNorm: family === 'qwen3' || family === 'gemma3',
    sandwichNorm: family === 'gemma2' || family === 'gemma3',
    attnScale: (gemma && c.query_pre_attn_scalar ? c.query_pre_attn_scalar : headDim) ** -0.5,
    attnSoftcap: c.attn_logit_softcapping ?? null,
    finalSoftcap: c.final_logit_softcapping ?? null,
    tiedEmbeddings: c.tie_word_embeddings ?? gemma,
    maxPositions: c.max_position_embeddings ?? 4096,
    ropeTables,
    layers,
    bosId: c.bos_token_id ?? null,
    eosIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
  };
}
