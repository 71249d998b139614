// The models the studio offers to download, as data: each one's hub id, licence, gating and the
// architecture numbers from its config.json, from which the parameter count, the download size and
// the memory per precision are computed (the same tensor inventory the compiler writes, see
// architectures/weights.ts), not typed in. `recommend()` picks for this machine from its memory and
// the execution provider.
//
// Revisions: every entry says `revision: 'main'`. Pinning happens at download time: the branch is
// resolved to its commit and that commit is what the cache (refs/main, snapshots/{commit}) and the
// library (source `org/name@commit`) record. No commit hash is written here, since none was checked.
import { freemem, totalmem } from 'node:os';
import { defaultPrecision } from './default-precision.ts';

export type CatalogPrecision = 'fp32' | 'fp16' | 'int8' | 'int4';
export const CATALOG_PRECISIONS: readonly CatalogPrecision[] = ['fp32', 'fp16', 'int8', 'int4'];

/** The config.json numbers the sizes follow from. */
export interface CatalogArchitecture {
  modelType: 'qwen2' | 'qwen3' | 'llama' | 'gemma2' | 'gemma3_text';
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  tiedEmbeddings: boolean;
  /** q/k/v biases (Qwen2). */
  qkvBias: boolean;
  /** The checkpoint's torch_dtype: bytes per weight in the download. */
  checkpointBytesPerParam: 2 | 4;
}

export interface CatalogEntry {
  repo: string;
  label: string;
  licence: string;
  gated: boolean;
  revision: 'main';
  note: string;
  default?: true;
  arch: CatalogArchitecture;
}

const PIN_NOTE = 'pinned at download time: the commit main resolves to is recorded in the HF cache and the library';
const m = (repo: string, label: string, licence: string, gated: boolean, arch: CatalogArchitecture, dflt = false): CatalogEntry => ({
  repo,
  label,
  licence,
  gated,
  revision: 'main',
  note: PIN_NOTE,
  ...(dflt ? { default: true as const } : {}),
  arch,
});
const bf16 = 2 as const;

// Numbers from each model's config.json on the hub (hidden_size, num_hidden_layers, intermediate_size,
// num_attention_heads, num_key_value_heads, head_dim, vocab_size, tie_word_embeddings).
export const CATALOG: readonly CatalogEntry[] = [
  m(
    'Qwen/Qwen3-0.6B',
    'Qwen3 0.6B',
    'apache-2.0',
    false,
    {
      modelType: 'qwen3',
      layers: 28,
      hidden: 1024,
      intermediate: 3072,
      heads: 16,
      kvHeads: 8,
      headDim: 128,
      vocab: 151936,
      tiedEmbeddings: true,
      qkvBias: false,
      checkpointBytesPerParam: bf16,
    },
    true,
  ),
  m('Qwen/Qwen3-1.7B', 'Qwen3 1.7B', 'apache-2.0', false, {
    modelType: 'qwen3',
    layers: 28,
    hidden: 2048,
    intermediate: 6144,
    heads: 16,
    kvHeads: 8,
    headDim: 128,
    vocab: 151936,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('Qwen/Qwen2.5-0.5B-Instruct', 'Qwen2.5 0.5B Instruct', 'apache-2.0', false, {
    modelType: 'qwen2',
    layers: 24,
    hidden: 896,
    intermediate: 4864,
    heads: 14,
    kvHeads: 2,
    headDim: 64,
    vocab: 151936,
    tiedEmbeddings: true,
    qkvBias: true,
    checkpointBytesPerParam: bf16,
  }),
  m('Qwen/Qwen2.5-1.5B-Instruct', 'Qwen2.5 1.5B Instruct', 'apache-2.0', false, {
    modelType: 'qwen2',
    layers: 28,
    hidden: 1536,
    intermediate: 8960,
    heads: 12,
    kvHeads: 2,
    headDim: 128,
    vocab: 151936,
    tiedEmbeddings: true,
    qkvBias: true,
    checkpointBytesPerParam: bf16,
  }),
  m('HuggingFaceTB/SmolLM2-135M-Instruct', 'SmolLM2 135M Instruct', 'apache-2.0', false, {
    modelType: 'llama',
    layers: 30,
    hidden: 576,
    intermediate: 1536,
    heads: 9,
    kvHeads: 3,
    headDim: 64,
    vocab: 49152,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('HuggingFaceTB/SmolLM2-360M-Instruct', 'SmolLM2 360M Instruct', 'apache-2.0', false, {
    modelType: 'llama',
    layers: 32,
    hidden: 960,
    intermediate: 2560,
    heads: 15,
    kvHeads: 5,
    headDim: 64,
    vocab: 49152,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('HuggingFaceTB/SmolLM2-1.7B-Instruct', 'SmolLM2 1.7B Instruct', 'apache-2.0', false, {
    modelType: 'llama',
    layers: 24,
    hidden: 2048,
    intermediate: 8192,
    heads: 32,
    kvHeads: 32,
    headDim: 64,
    vocab: 49152,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('meta-llama/Llama-3.2-1B-Instruct', 'Llama 3.2 1B Instruct', 'llama3.2', true, {
    modelType: 'llama',
    layers: 16,
    hidden: 2048,
    intermediate: 8192,
    heads: 32,
    kvHeads: 8,
    headDim: 64,
    vocab: 128256,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('meta-llama/Llama-3.2-3B-Instruct', 'Llama 3.2 3B Instruct', 'llama3.2', true, {
    modelType: 'llama',
    layers: 28,
    hidden: 3072,
    intermediate: 8192,
    heads: 24,
    kvHeads: 8,
    headDim: 128,
    vocab: 128256,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('google/gemma-2-2b-it', 'Gemma 2 2B it', 'gemma', true, {
    modelType: 'gemma2',
    layers: 26,
    hidden: 2304,
    intermediate: 9216,
    heads: 8,
    kvHeads: 4,
    headDim: 256,
    vocab: 256000,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('google/gemma-3-270m-it', 'Gemma 3 270M it', 'gemma', true, {
    modelType: 'gemma3_text',
    layers: 18,
    hidden: 640,
    intermediate: 2048,
    heads: 4,
    kvHeads: 1,
    headDim: 256,
    vocab: 262144,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
  m('google/gemma-3-1b-it', 'Gemma 3 1B it', 'gemma', true, {
    modelType: 'gemma3_text',
    layers: 26,
    hidden: 1152,
    intermediate: 6912,
    heads: 4,
    kvHeads: 1,
    headDim: 256,
    vocab: 262144,
    tiedEmbeddings: true,
    qkvBias: false,
    checkpointBytesPerParam: bf16,
  }),
];

/** Tensor inventory of a decoder: the linear weights (quantisable), the embedding table, the small float tensors. */
function inventory(a: CatalogArchitecture) {
  const q = a.heads * a.headDim;
  const kv = a.kvHeads * a.headDim;
  const attn = a.hidden * q + 2 * a.hidden * kv + q * a.hidden;
  const mlp = 3 * a.hidden * a.intermediate;
  // Norms: 2 per layer (input, post-attention), 4 with Gemma 2/3's sandwich norms, + q/k norms (Qwen3, Gemma 3), + the final norm.
  const normsPerLayer =
    (a.modelType.startsWith('gemma') ? 4 : 2) * a.hidden + (a.modelType === 'qwen3' || a.modelType === 'gemma3_text' ? 2 * a.headDim : 0);
  const small = a.layers * (normsPerLayer + (a.qkvBias ? q + 2 * kv : 0)) + a.hidden;
  const embed = a.vocab * a.hidden;
  return { linear: a.layers * (attn + mlp), embed, lmHead: a.tiedEmbeddings ? 0 : embed, small };
}

/** Parameters, as the checkpoint counts them (a tied lm_head is the embedding). */
export function parameterCount(a: CatalogArchitecture): number {
  const t = inventory(a);
  return t.linear + t.embed + t.lmHead + t.small;
}

/** Bytes of the safetensors weights on the hub (the tokenizer files add a few MB). */
export const downloadBytes = (a: CatalogArchitecture): number => parameterCount(a) * a.checkpointBytesPerParam;

/**
 * Bytes of model.onnx.data as the compiler writes it (architectures/weights.ts): fp32 everything
 * (a tied lm_head shares the table); fp16 halves it and gives lm_head its own fp16 copy; int8/int4
 * store linears and lm_head as MatMulNBits (bits/8 per weight + an fp32 scale per block) beside an
 * fp16 embedding table. Small tensors stay fp32.
 */
export function compiledWeightBytes(a: CatalogArchitecture, precision: CatalogPrecision, blockSize = 32): number {
  const t = inventory(a);
  const head = a.vocab * a.hidden; // the lm_head matmul's weights, tied or not
  if (precision === 'fp32') return 4 * (t.linear + t.embed + t.lmHead + t.small);
  if (precision === 'fp16') return 2 * (t.linear + t.embed + head) + 4 * t.small;
  const perWeight = (precision === 'int4' ? 0.5 : 1) + 4 / blockSize;
  return Math.ceil(perWeight * (t.linear + head)) + 2 * t.embed + 4 * t.small;
}

/** KV cache bytes for `positions` tokens (float32 on CPU, float16 with fp16 weights). */
export const kvCacheBytes = (a: CatalogArchitecture, positions: number, precision: CatalogPrecision): number =>
  2 * a.layers * a.kvHeads * a.headDim * positions * (precision === 'fp16' ? 2 : 4);

/** onnxruntime's arenas, the tokenizer and activations beyond the KV cache: a fixed allowance, stated rather than hidden. */
export const RUNTIME_OVERHEAD_BYTES = 512 * 2 ** 20;
export const CONTEXT_POSITIONS = 2048;

/** Memory to run the model: weights + KV cache for CONTEXT_POSITIONS + RUNTIME_OVERHEAD_BYTES. */
export const memoryBytes = (a: CatalogArchitecture, precision: CatalogPrecision): number =>
  compiledWeightBytes(a, precision) + kvCacheBytes(a, CONTEXT_POSITIONS, precision) + RUNTIME_OVERHEAD_BYTES;

export interface MachineInfo {
  totalBytes: number;
  freeBytes: number;
  provider: string;
}

export const thisMachine = (provider = 'cpu'): MachineInfo => ({ totalBytes: totalmem(), freeBytes: freemem(), provider });

export interface CatalogRow {
  repo: string;
  label: string;
  licence: string;
  gated: boolean;
  revision: 'main';
  note: string;
  default: boolean;
  parameters: number;
  downloadBytes: number;
  memoryBytes: Record<CatalogPrecision, number>;
  precision: CatalogPrecision;
  /** Runs at `precision` in the memory free now. */
  fits: boolean;
  recommended: boolean;
}

/**
 * Every entry with its sizes, for this machine. The recommendation: the default (Qwen3-0.6B) when it
 * fits in free memory at the provider's precision, else the largest model that does; gated models
 * are only recommended when nothing open fits (they need an account and HF_TOKEN).
 */
export function catalogFor(machine: MachineInfo): CatalogRow[] {
  const rows: CatalogRow[] = CATALOG.map((e) => {
    // What a compile on this provider will produce with no precision asked for.
    const precision = defaultPrecision(machine.provider, parameterCount(e.arch));
    const mem = Object.fromEntries(CATALOG_PRECISIONS.map((p) => [p, memoryBytes(e.arch, p)])) as Record<CatalogPrecision, number>;
    return {
      repo: e.repo,
      label: e.label,
      licence: e.licence,
      gated: e.gated,
      revision: e.revision,
      note: e.note,
      default: e.default === true,
      parameters: parameterCount(e.arch),
      downloadBytes: downloadBytes(e.arch),
      memoryBytes: mem,
      precision,
      fits: mem[precision] <= machine.freeBytes,
      recommended: false,
    };
  });
  const dflt = rows.find((r) => r.default && r.fits);
  const bySize = [...rows].sort((a, b) => b.parameters - a.parameters);
  const pick = dflt ?? bySize.find((r) => r.fits && !r.gated) ?? bySize.find((r) => r.fits);
  if (pick) pick.recommended = true;
  return rows;
}
