// A Qwen3 Hugging Face checkpoint → GGUF v3 file llama.cpp loads, so llama.cpp can be timed on
// exactly the weights our engine runs. Streams one tensor at a time (a 0.6B F32 file is 2.4 GB).
//
// Types: Q4_0 (llama.cpp's closest match to our MatMulNBits int4: blocks of 32, one scale each,
// symmetric) for every 2-D weight, norms F32 — a "pure" Q4_0 file (llama-quantize would promote
// the tied output/embedding to Q6_K; we keep it Q4_0 because our int4 lm_head is 4-bit too);
// F32 and F16 store every 2-D weight as is.
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { Checkpoint } from '../../native-models/checkpoint/checkpoint.ts';
import { f32ToF16 } from '../../native-models/checkpoint/dtype.ts';
import { encodeGgufHeader, GgufType, type GgufKV } from '../../main/core/formats/gguf.ts';
import { StudioError, zodIssueLine } from '../../native-models/errors.ts';

export type GgufWeightType = 'F32' | 'F16' | 'Q4_0';

const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2 } as const;
/** general.file_type (llama_ftype) of a file whose 2-D weights are all of one type. */
const FILE_TYPE = { F32: 0, F16: 1, Q4_0: 2 } as const;
const ALIGN = 32;

// ---------------------------------------------------------------------------------------------
// Q4_0, as ggml's quantize_row_q4_0_ref: d = (the signed value of largest magnitude) / -8,
// q = min(15, trunc(x/d + 8.5)), bytes = f16 d, then 16 bytes with value j in the low nibble and
// value j+16 in the high nibble of byte j.

export const Q4_0_BLOCK = 32;
export const Q4_0_BYTES = 18;

export function quantizeQ4_0(x: Float32Array): Uint8Array {
  if (x.length % Q4_0_BLOCK !== 0) throw new Error(`quantizeQ4_0: ${x.length} values is not a multiple of ${Q4_0_BLOCK}`);
  const nb = x.length / Q4_0_BLOCK;
  const out = new Uint8Array(nb * Q4_0_BYTES);
  const ds = new Float32Array(nb);
  const f = Math.fround;
  for (let b = 0; b < nb; b++) {
    const base = b * Q4_0_BLOCK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < Q4_0_BLOCK; j++) {
      const v = x[base + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = f(max / -8);
    const id = d ? f(1 / d) : 0;
    ds[b] = d;
    const o = b * Q4_0_BYTES + 2;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(f(f(x[base + j]! * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(f(f(x[base + 16 + j]! * id) + 8.5)));
      out[o + j] = q0 | (q1 << 4);
    }
  }
  const dh = f32ToF16(ds);
  for (let b = 0; b < nb; b++) {
    out[b * Q4_0_BYTES] = dh[b]! & 0xff;
    out[b * Q4_0_BYTES + 1] = dh[b]! >>> 8;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// GGUF v3 metadata (the header itself is main/core/formats/gguf.ts's encodeGgufHeader).

const u32 = (key: string, value: number): GgufKV => ({ key, type: GgufType.UINT32, value });
const f32 = (key: string, value: number): GgufKV => ({ key, type: GgufType.FLOAT32, value });
const str = (key: string, value: string): GgufKV => ({ key, type: GgufType.STRING, value });

export interface PlannedTensor {
  /** GGUF name (token_embd.weight, blk.N.attn_q.weight, …). */
  name: string;
  /** Checkpoint tensor it comes from. */
  source: string;
  /** GGUF dims: fastest-varying first (the reverse of the PyTorch shape). */
  ne: number[];
  type: GgufWeightType;
  bytes: number;
}

const RENAMES: [RegExp, string][] = [
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'blk.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.([qkv])_proj\.weight$/, 'blk.$1.attn_$2.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.weight$/, 'blk.$1.attn_output.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.([qk])_norm\.weight$/, 'blk.$1.attn_$2_norm.weight'],
  [/^model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight$/, 'blk.$1.ffn_$2.weight'],
];

function tensorBytes(ne: number[], type: GgufWeightType): number {
  const n = ne.reduce((a, b) => a * b, 1);
  return type === 'F32' ? n * 4 : type === 'F16' ? n * 2 : (n / Q4_0_BLOCK) * Q4_0_BYTES;
}

/** The tensors a GGUF of `type` holds for this checkpoint, in file order. */
export function planTensors(ckpt: Checkpoint, type: GgufWeightType): PlannedTensor[] {
  const order = (n: string) => {
    const m = /^blk\.(\d+)\./.exec(n);
    return m ? 1 + Number(m[1]) : n.startsWith('token_embd') ? 0 : 1e9;
  };
  return [...ckpt.tensors.keys()]
    .map((source) => {
      const rule = RENAMES.find(([re]) => re.test(source));
      if (!rule) throw new Error(`${ckpt.dir}: tensor ${source} has no GGUF name (only qwen3 checkpoints are exported)`);
      const ne = [...ckpt.shape(source)].reverse();
      const t: GgufWeightType = ne.length === 1 ? 'F32' : type;
      if (t === 'Q4_0' && ne[0]! % Q4_0_BLOCK !== 0)
        throw new Error(`${ckpt.dir}: tensor ${source} has rows of ${ne[0]} values, not a multiple of 32 (Q4_0 blocks)`);
      return { name: source.replace(rule[0], rule[1]), source, ne, type: t, bytes: tensorBytes(ne, t) };
    })
    .sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// The tokenizer: Hugging Face byte-level BPE tokenizer.json → tokenizer.ggml.model "gpt2".

const tokenizerSchema = z.object({
  model: z.object({
    type: z.literal('BPE'),
    vocab: z.record(z.string(), z.number().int().nonnegative()),
    merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
  }),
  added_tokens: z.array(z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean() })).default([]),
  pre_tokenizer: z.unknown().optional(),
});

/** Qwen2's split regex (digits one by one, letters with one leading non-letter), as tokenizer.json writes it. */
const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * llama.cpp's name for the pre-tokenizer (`tokenizer.ggml.pre`), which it cannot read from the regex:
 * a lone ByteLevel with its own regex is GPT-2's split, 'gpt-2' (the demo model's tokenizer), a Split on
 * Qwen2's regex then ByteLevel is 'qwen2'. Anything else is refused rather than guessed, since a
 * wrong split tokenizes differently without any error.
 */
function preTokenizerName(pre: unknown, path: string): 'gpt-2' | 'qwen2' {
  const p = pre as { type?: string; use_regex?: boolean; pretokenizers?: { type?: string; pattern?: { Regex?: string } }[] } | undefined;
  if (p?.type === 'ByteLevel' && p.use_regex !== false) return 'gpt-2';
  if (p?.type === 'Sequence' && p.pretokenizers?.[0]?.type === 'Split' && p.pretokenizers[0].pattern?.Regex === QWEN2_SPLIT) return 'qwen2';
  throw new StudioError(
    'format',
    `${path}: pre_tokenizer: ${JSON.stringify(pre)?.slice(0, 80)} is neither GPT-2's nor Qwen2's split (the exporter knows only those)`,
  );
}

// llama_token_type
const TOKEN_NORMAL = 1,
  TOKEN_CONTROL = 3,
  TOKEN_USER_DEFINED = 4,
  TOKEN_UNUSED = 5;

function tokenizerMeta(path: string, vocabSize: number, cfg: { bos?: number; eos: number }): GgufKV[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read the tokenizer (${(e as Error).message})`, { cause: e });
  }
  const parsed = tokenizerSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StudioError('format', `${zodIssueLine(parsed.error, path, ': ')} (a byte-level BPE tokenizer.json is needed)`);
  }
  const tok = parsed.data;
  const tokens = new Array<string | undefined>(vocabSize);
  const types = new Array<number>(vocabSize).fill(TOKEN_UNUSED);
  for (const [s, id] of Object.entries(tok.model.vocab)) {
    if (id >= vocabSize) throw new Error(`${path}: model.vocab: token id ${id} is outside the model's ${vocabSize} embeddings`);
    tokens[id] = s;
    types[id] = TOKEN_NORMAL;
  }
  for (const a of tok.added_tokens) {
    if (a.id >= vocabSize) throw new Error(`${path}: added_tokens: token id ${a.id} is outside the model's ${vocabSize} embeddings`);
    tokens[a.id] = a.content;
    types[a.id] = a.special ? TOKEN_CONTROL : TOKEN_USER_DEFINED;
  }
  // Embedding rows beyond the tokenizer get placeholder tokens, as convert_hf_to_gguf.py does.
  const filled = Array.from(tokens, (t, i) => t ?? `[PAD${i}]`);
  const merges = tok.model.merges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  const meta: GgufKV[] = [
    str('tokenizer.ggml.model', 'gpt2'),
    str('tokenizer.ggml.pre', preTokenizerName(tok.pre_tokenizer, path)),
    { key: 'tokenizer.ggml.tokens', type: GgufType.ARRAY, itemType: GgufType.STRING, value: filled },
    { key: 'tokenizer.ggml.token_type', type: GgufType.ARRAY, itemType: GgufType.INT32, value: types },
    { key: 'tokenizer.ggml.merges', type: GgufType.ARRAY, itemType: GgufType.STRING, value: merges },
    u32('tokenizer.ggml.eos_token_id', cfg.eos),
    { key: 'tokenizer.ggml.add_bos_token', type: GgufType.BOOL, value: false },
  ];
  if (cfg.bos !== undefined) meta.push(u32('tokenizer.ggml.bos_token_id', cfg.bos), u32('tokenizer.ggml.padding_token_id', cfg.bos));
  return meta;
}

// ---------------------------------------------------------------------------------------------

const qwen3ConfigSchema = z.object({
  model_type: z.literal('qwen3'),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive(),
  head_dim: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().positive(),
  rope_scaling: z.null().optional(),
  bos_token_id: z.number().int().nonnegative().nullish(),
  eos_token_id: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()).min(1)]),
});

export interface ExportRequest {
  checkpointDir: string;
  out: string;
  type: GgufWeightType;
  /** A Hugging Face tokenizer.json whose ids match the checkpoint's embedding rows. */
  tokenizerJson: string;
}

export interface ExportResult {
  path: string;
  cached: boolean;
  tensors: PlannedTensor[];
  dataBytes: number;
}

/** Writes `out` once (atomically, via a temporary sibling); an existing file is reused. */
export function exportQwen3Gguf(req: ExportRequest): ExportResult {
  const ckpt = Checkpoint.open(req.checkpointDir);
  try {
    const parsed = qwen3ConfigSchema.safeParse(ckpt.config);
    if (!parsed.success) {
      throw new StudioError(
        'config',
        `${zodIssueLine(parsed.error, `${req.checkpointDir}/config.json`, ': ')} (the GGUF exporter handles plain qwen3 checkpoints)`,
      );
    }
    const c = parsed.data;
    const tensors = planTensors(ckpt, req.type);
    const dataBytes = tensors.reduce((n, t) => n + Math.ceil(t.bytes / ALIGN) * ALIGN, 0);
    if (existsSync(req.out)) return { path: req.out, cached: true, tensors, dataBytes };

    const a = 'qwen3';
    const eos = Array.isArray(c.eos_token_id) ? c.eos_token_id[0]! : c.eos_token_id;
    const meta: GgufKV[] = [
      str('general.architecture', a),
      str('general.name', `persona-studio bench export (${req.type})`),
      u32('general.file_type', FILE_TYPE[req.type]),
      u32(`${a}.context_length`, c.max_position_embeddings),
      u32(`${a}.embedding_length`, c.hidden_size),
      u32(`${a}.block_count`, c.num_hidden_layers),
      u32(`${a}.feed_forward_length`, c.intermediate_size),
      u32(`${a}.attention.head_count`, c.num_attention_heads),
      u32(`${a}.attention.head_count_kv`, c.num_key_value_heads),
      u32(`${a}.attention.key_length`, c.head_dim),
      u32(`${a}.attention.value_length`, c.head_dim),
      f32(`${a}.attention.layer_norm_rms_epsilon`, c.rms_norm_eps),
      f32(`${a}.rope.freq_base`, c.rope_theta),
      ...tokenizerMeta(req.tokenizerJson, c.vocab_size, { bos: c.bos_token_id ?? undefined, eos }),
    ];
    const header = encodeGgufHeader(
      meta,
      tensors.map((t) => ({ name: t.name, shape: t.ne, type: GGML_TYPE[t.type], bytes: t.bytes })),
      ALIGN,
    );

    const tmp = `${req.out}.partial-${process.pid}`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, header);
        for (const t of tensors) {
          const x = ckpt.readFloat32(t.source);
          const data = t.type === 'Q4_0' ? quantizeQ4_0(x) : t.type === 'F16' ? f32ToF16(x) : x;
          writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
          const pad = (ALIGN - (data.byteLength % ALIGN)) % ALIGN;
          if (pad) writeSync(fd, new Uint8Array(pad));
        }
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, req.out);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return { path: req.out, cached: false, tensors, dataBytes };
  } finally {
    ckpt.close();
  }
}
