// config.json → ModelSpec: the one normalised description every builder step reads. What differs
// between families (traits, config-class defaults, tensor names) is data in families.ts; this file
// only applies it. Unsupported settings fail naming the field.
import { z } from 'zod';
import { StudioError, fromZod } from '../errors.ts';
import { FAMILIES, type ConfigDefaults, type Family, type TensorNames } from './families.ts';

export type { Family } from './families.ts';
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
  /** Where the family keeps each weight (fused q/k/v or gate/up included). */
  tensors: TensorNames;
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

const num = z.number();
const posInt = z.number().int().positive();
const ropeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: num.optional(),
    low_freq_factor: num.optional(),
    high_freq_factor: num.optional(),
    original_max_position_embeddings: posInt.optional(),
  })
  .passthrough();

const configSchema = z
  .object({
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
  })
  .passthrough();

export type HfConfig = z.infer<typeof configSchema>;

/** Inverse frequencies for one RoPE table, with the scaling variants Llama 3.x and Gemma 3 use. */
export function ropeInvFreq(
  headDim: number,
  theta: number,
  scaling: z.infer<typeof ropeScalingSchema> | null | undefined,
  where: string,
): Float64Array {
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
      throw new StudioError(
        'config',
        `${where}: rope_scaling (llama3) needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings`,
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
  const key = scaling.rope_type !== undefined ? 'rope_type' : 'type';
  throw new StudioError('config', `${where}: rope_scaling.${key} "${kind}" is not supported (supported: default, linear, llama3)`);
}

/** Reads a dotted path (rope_scaling.type) of a parsed config.json. */
function at(raw: object, path: string): unknown {
  let v: unknown = raw;
  for (const k of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

export function parseModelSpec(raw: unknown, where = 'config.json'): ModelSpec {
  if (typeof raw !== 'object' || raw === null) throw new StudioError('config', `${where}: not a JSON object`);
  const modelType = (raw as { model_type?: unknown }).model_type;
  if (typeof modelType !== 'string') throw new StudioError('config', `${where}: model_type is missing`);
  const traits = FAMILIES[modelType];
  if (!traits) {
    const hint = modelType === 'gemma3' ? ' (multimodal Gemma 3; use the text-only gemma3_text checkpoint)' : '';
    throw new StudioError(
      'config',
      `${where}: model_type "${modelType}" is not supported${hint} (supported: ${Object.keys(FAMILIES).join(', ')})`,
    );
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw fromZod('config', parsed.error, where, ': field ');
  }
  const c = parsed.data;
  for (const r of traits.refuse) {
    const v = at(c, r.field);
    if (r.refuse(v)) throw new StudioError('config', `${where}: ${r.field} ${JSON.stringify(v)}: ${r.reason}`);
  }
  const defaults = traits.config;
  // An absent field takes the family's config-class default; an explicit null keeps its meaning
  // (no window, no soft-cap, derived head counts). Fields the family does not read are ignored.
  type Key = keyof ConfigDefaults;
  const reads = (key: Key) => key in defaults;
  const value = <K extends Key>(key: K): NonNullable<ConfigDefaults[K]> | null =>
    (!reads(key) ? null : c[key] === undefined ? (defaults[key] ?? null) : c[key]) as NonNullable<ConfigDefaults[K]> | null;
  /** A setting where null means nothing (eps, theta…): null or absent both take the default. */
  const setting = <K extends 'rms_norm_eps' | 'rope_theta' | 'max_position_embeddings' | 'tie_word_embeddings'>(
    key: K,
  ): ConfigDefaults[K] => (c[key] ?? defaults[key]) as ConfigDefaults[K];

  const numHeads = c.num_attention_heads;
  const numKvHeads = value('num_key_value_heads') ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new StudioError('config', `${where}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  }
  const headDim = value('head_dim') ?? c.hidden_size / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw new StudioError('config', `${where}: head_dim ${headDim} must be an even integer`);
  if (c.partial_rotary_factor != null && c.partial_rotary_factor !== 1) {
    throw new StudioError('config', `${where}: partial_rotary_factor ${c.partial_rotary_factor} is not supported (only full rotary)`);
  }
  const actKey = (['hidden_activation', 'hidden_act'] as const).find((k) => value(k) != null);
  if (!actKey) throw new StudioError('config', `${where}: hidden_act is missing`);
  const act = value(actKey)!;
  let activation: Activation;
  if (act === 'silu' || act === 'swish') activation = 'silu';
  else if (act === 'gelu_pytorch_tanh' || (traits.geluIsTanh && act === 'gelu')) activation = 'gelu_tanh';
  else throw new StudioError('config', `${where}: ${actKey} "${act}" is not supported (silu, gelu_pytorch_tanh)`);

  // Which layers use a sliding window: layer_types where the family reads it, else the family rule.
  const window = value('sliding_window');
  let isSliding: (i: number) => boolean;
  if (traits.readsLayerTypes && c.layer_types) {
    if (c.layer_types.length !== c.num_hidden_layers) {
      throw new StudioError(
        'config',
        `${where}: layer_types has ${c.layer_types.length} entries, num_hidden_layers is ${c.num_hidden_layers}`,
      );
    }
    for (const t of c.layer_types) {
      if (t !== 'sliding_attention' && t !== 'full_attention')
        throw new StudioError('config', `${where}: layer_types entry "${t}" is not supported`);
    }
    isSliding = (i) => c.layer_types![i] === 'sliding_attention';
  } else if (traits.sliding === 'all') {
    isSliding = () => true;
  } else if (traits.sliding === 'even') {
    isSliding = (i) => i % 2 === 0;
  } else if (traits.sliding === 'pattern') {
    const pattern = value('sliding_window_pattern') ?? 1;
    isSliding = (i) => (i + 1) % pattern !== 0;
  } else {
    isSliding = () => false;
  }
  if (window === null && traits.sliding !== 'all' && [...Array(c.num_hidden_layers).keys()].some(isSliding)) {
    throw new StudioError('config', `${where}: sliding_window is null but layer_types/sliding_window_pattern ask for sliding layers`);
  }

  const ropeTables = [ropeInvFreq(headDim, setting('rope_theta'), c.rope_scaling, where)];
  const localBase = value('rope_local_base_freq');
  if (localBase !== null) ropeTables.push(ropeInvFreq(headDim, localBase, null, where));
  const layers: LayerSpec[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const sliding = window !== null && isSliding(i);
    layers.push({ window: sliding ? window : null, rope: sliding && localBase !== null ? 1 : 0 });
  }

  const eos = c.eos_token_id;
  const queryScalar = value('query_pre_attn_scalar');
  return {
    family: traits.family,
    modelType,
    tensors: traits.tensors,
    vocabSize: c.vocab_size,
    hidden: c.hidden_size,
    intermediate: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads,
    numKvHeads,
    headDim,
    rmsEps: setting('rms_norm_eps'),
    normAddOne: traits.normAddOne,
    embedScale: traits.embedScale ? Math.sqrt(c.hidden_size) : null,
    activation,
    qkNorm: traits.qkNorm,
    sandwichNorm: traits.sandwichNorm,
    attnScale: (queryScalar ?? headDim) ** -0.5,
    attnSoftcap: value('attn_logit_softcapping'),
    finalSoftcap: value('final_logit_softcapping'),
    tiedEmbeddings: setting('tie_word_embeddings'),
    maxPositions: setting('max_position_embeddings'),
    ropeTables,
    layers,
    bosId: c.bos_token_id ?? null,
    eosIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
  };
}
