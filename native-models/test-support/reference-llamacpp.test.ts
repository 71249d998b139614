// Cross-checks the reference forward pass against llama.cpp (node-llama-cpp's prebuilt CPU binary),
// an implementation written by other people: each tiny checkpoint is converted to a GGUF file here
// and the raw logits at every position are compared.
//
// llama.cpp's gemma2/gemma3 always scale attention by 1/sqrt(head_dim) and hard-code Gemma 3's
// sliding pattern to 6, so those two run as variants with query_pre_attn_scalar = head_dim (and
// gemma3 with 6 layers, the last global); mistral is left out (llama.cpp's llama graph has no
// sliding window). llama.cpp keeps its KV cache in f16, hence a tolerance of 3e-2 on logits of
// magnitude ~5–15; semantic slips (wrong RoPE scaling, missing 1 + w) move logits by 0.3 or more.
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type Token } from 'node-llama-cpp';
import { Checkpoint } from '../checkpoint/checkpoint.ts';
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import { ReferenceModel } from './reference.ts';
import { tinyCheckpoint, type TinyName } from './tiny-checkpoints.ts';

// ---------------------------------------------------------------------------------------------
// A minimal GGUF v3 writer (F32 tensors only).

type Meta = ['u32' | 'f32', number] | ['str', string] | ['bool', boolean] | ['strs', string[]] | ['f32s', number[]] | ['i32s', number[]];

class ByteSink {
  readonly parts: Buffer[] = [];
  length = 0;
  put(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  num(kind: 'u32' | 'i32' | 'u64' | 'f32', x: number): void {
    const b = Buffer.alloc(kind === 'u64' ? 8 : 4);
    if (kind === 'u32') b.writeUInt32LE(x);
    else if (kind === 'i32') b.writeInt32LE(x);
    else if (kind === 'f32') b.writeFloatLE(x);
    else b.writeBigUInt64LE(BigInt(x));
    this.put(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.num('u64', b.length);
    this.put(b);
  }
}

const GGUF_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9 } as const;

function writeGguf(path: string, meta: [string, Meta][], tensors: { name: string; ne: number[]; data: Float32Array }[]): void {
  const w = new ByteSink();
  w.put(Buffer.from('GGUF'));
  w.num('u32', 3);
  w.num('u64', tensors.length);
  w.num('u64', meta.length);
  for (const [key, [kind, value]] of meta) {
    w.str(key);
    if (kind === 'u32' || kind === 'f32') {
      w.num('u32', GGUF_TYPE[kind]);
      w.num(kind, value as number);
    } else if (kind === 'str') {
      w.num('u32', GGUF_TYPE.str);
      w.str(value as string);
    } else if (kind === 'bool') {
      w.num('u32', GGUF_TYPE.bool);
      w.put(Buffer.from([value ? 1 : 0]));
    } else {
      const items = value as (string | number)[];
      w.num('u32', GGUF_TYPE.arr);
      w.num('u32', kind === 'strs' ? GGUF_TYPE.str : kind === 'f32s' ? GGUF_TYPE.f32 : GGUF_TYPE.i32);
      w.num('u64', items.length);
      for (const x of items) {
        if (kind === 'strs') w.str(x as string);
        else w.num(kind === 'f32s' ? 'f32' : 'i32', x as number);
      }
    }
  }
  const align = (n: number) => Math.ceil(n / 32) * 32;
  let offset = 0;
  const offsets = tensors.map((t) => {
    const o = offset;
    offset = align(offset + t.data.byteLength);
    return o;
  });
  tensors.forEach((t, i) => {
    w.str(t.name);
    w.num('u32', t.ne.length);
    for (const d of t.ne) w.num('u64', d);
    w.num('u32', 0); // GGML_TYPE_F32
    w.num('u64', offsets[i]!);
  });
  w.put(Buffer.alloc(align(w.length) - w.length));
  const start = w.length;
  tensors.forEach((t, i) => {
    w.put(Buffer.alloc(offsets[i]! - (w.length - start)));
    w.put(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
  writeFileSync(path, Buffer.concat(w.parts));
}

// ---------------------------------------------------------------------------------------------
// Hugging Face folder -> GGUF, the way llama.cpp's convert_hf_to_gguf.py lays it out.

const RENAMES: [RegExp, string][] = [
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'blk.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)$/, 'blk.$1.attn_$2.$3'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.weight$/, 'blk.$1.attn_output.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.([qk])_norm\.weight$/, 'blk.$1.attn_$2_norm.weight'],
  [/^model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight$/, 'blk.$1.ffn_$2.weight'],
  // Phi-3's fused tensors keep their layout in GGUF: llama.cpp splits [q; k; v] and [gate; up] itself.
  [/^model\.layers\.(\d+)\.self_attn\.qkv_proj\.weight$/, 'blk.$1.attn_qkv.weight'],
  [/^model\.layers\.(\d+)\.mlp\.gate_up_proj\.weight$/, 'blk.$1.ffn_up.weight'],
  [/^model\.layers\.(\d+)\.pre_feedforward_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_feedforward_layernorm\.weight$/, 'blk.$1.post_ffw_norm.weight'],
];

function toGguf(dir: string, out: string): void {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const arch: string = cfg.model_type === 'gemma3_text' ? 'gemma3' : cfg.model_type;
  const gemma = arch.startsWith('gemma');
  const sandwich = arch === 'gemma2' || arch === 'gemma3';
  const H: number = cfg.hidden_size;
  const V: number = cfg.vocab_size;
  const hd: number = cfg.head_dim ?? H / cfg.num_attention_heads;
  const meta: [string, Meta][] = [
    ['general.architecture', ['str', arch]],
    [`${arch}.context_length`, ['u32', cfg.max_position_embeddings]],
    [`${arch}.embedding_length`, ['u32', H]],
    [`${arch}.block_count`, ['u32', cfg.num_hidden_layers]],
    [`${arch}.feed_forward_length`, ['u32', cfg.intermediate_size]],
    [`${arch}.attention.head_count`, ['u32', cfg.num_attention_heads]],
    [`${arch}.attention.head_count_kv`, ['u32', cfg.num_key_value_heads]],
    [`${arch}.attention.layer_norm_rms_epsilon`, ['f32', cfg.rms_norm_eps]],
    [`${arch}.rope.freq_base`, ['f32', cfg.rope_theta]],
    [`${arch}.attention.key_length`, ['u32', hd]],
    [`${arch}.attention.value_length`, ['u32', hd]],
  ];
  if (arch === 'gemma2')
    meta.push(
      [`${arch}.attn_logit_softcapping`, ['f32', cfg.attn_logit_softcapping]],
      [`${arch}.final_logit_softcapping`, ['f32', cfg.final_logit_softcapping]],
    );
  if (sandwich) meta.push([`${arch}.attention.sliding_window`, ['u32', cfg.sliding_window]]);
  if (arch === 'gemma3' && cfg.rope_scaling)
    meta.push([`${arch}.rope.scaling.type`, ['str', 'linear']], [`${arch}.rope.scaling.factor`, ['f32', cfg.rope_scaling.factor]]);
  // An SPM vocabulary: the model's V tokens, then 256 byte tokens so llama.cpp's byte fallback
  // always finds one. Their embedding/output rows are zero and only ids < V are compared.
  const tokens = [
    ...Array.from({ length: V }, (_, i) => (i === 0 ? '<unk>' : i === 1 ? '<s>' : i === 2 ? '</s>' : `▁t${i}`)),
    ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`),
  ];
  meta.push(
    ['tokenizer.ggml.model', ['str', 'llama']],
    ['tokenizer.ggml.tokens', ['strs', tokens]],
    ['tokenizer.ggml.scores', ['f32s', tokens.map(() => 0)]],
    ['tokenizer.ggml.token_type', ['i32s', tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i >= V ? 6 : 1))]],
    ['tokenizer.ggml.bos_token_id', ['u32', 1]],
    ['tokenizer.ggml.eos_token_id', ['u32', 2]],
    ['tokenizer.ggml.add_bos_token', ['bool', false]],
  );
  const renames: [RegExp, string][] = [
    ...RENAMES,
    [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, sandwich ? 'blk.$1.post_attention_norm.weight' : 'blk.$1.ffn_norm.weight'],
  ];
  const ckpt = Checkpoint.open(dir);
  const tensors = [...ckpt.tensors.keys()].sort().map((name) => {
    const rule = renames.find(([re]) => re.test(name));
    if (!rule) throw new Error(`toGguf: no GGUF name for ${name}`);
    let data = ckpt.readFloat32(name);
    let ne = [...ckpt.shape(name)].reverse();
    if (gemma && name.endsWith('norm.weight')) data = data.map((x) => x + 1); // llama.cpp multiplies by w
    if (arch === 'llama' && /self_attn\.[qk]_proj\.weight$/.test(name)) {
      // llama.cpp's llama graph rotates interleaved pairs; convert_hf_to_gguf permutes rows back.
      const heads: number = name.includes('q_proj') ? cfg.num_attention_heads : cfg.num_key_value_heads;
      const permuted = new Float32Array(data.length);
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < hd / 2; i++) {
          for (let j = 0; j < 2; j++) {
            const from = (h * hd + j * (hd / 2) + i) * H;
            permuted.set(data.subarray(from, from + H), (h * hd + 2 * i + j) * H);
          }
        }
      }
      data = permuted;
    }
    if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') {
      const padded = new Float32Array((V + 256) * H);
      padded.set(data);
      data = padded;
      ne = [H, V + 256];
    }
    return { name: name.replace(rule[0], rule[1]), ne, data };
  });
  ckpt.close();
  const rs = cfg.rope_scaling;
  if (arch === 'llama' && rs?.rope_type === 'llama3') {
    // convert_hf_to_gguf stores llama3 scaling as per-frequency divisors in rope_freqs.weight.
    const lowWavelen = rs.original_max_position_embeddings / rs.low_freq_factor;
    const highWavelen = rs.original_max_position_embeddings / rs.high_freq_factor;
    const factors = Array.from({ length: hd / 2 }, (_, i) => {
      const wavelen = 2 * Math.PI * cfg.rope_theta ** ((2 * i) / hd);
      if (wavelen < highWavelen) return 1;
      if (wavelen > lowWavelen) return rs.factor;
      const smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
      return 1 / ((1 - smooth) / rs.factor + smooth);
    });
    tensors.push({ name: 'rope_freqs.weight', ne: [hd / 2], data: Float32Array.from(factors) });
  }
  writeGguf(out, meta, tensors);
}

// ---------------------------------------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'reference-llamacpp-'));

function variant(name: TinyName, edit: (cfg: Record<string, unknown>) => void): string {
  const src = tinyCheckpoint(name);
  const dir = mkdtempSync(join(scratch, `${name}-`));
  for (const f of readdirSync(src)) if (!f.startsWith('.')) copyFileSync(join(src, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

/** gemma3 grown to 6 layers (layers 4, 5 copy 0, 1) so llama.cpp's fixed pattern puts a global layer last. */
function gemma3SixLayers(): string {
  const dir = variant('gemma3', (c) => {
    c.query_pre_attn_scalar = 16;
    c.num_hidden_layers = 6;
    c.layer_types = [...Array(5).fill('sliding_attention'), 'full_attention'];
  });
  const src = Checkpoint.open(tinyCheckpoint('gemma3'));
  const tensors = [...src.tensors.keys()].map((name) => ({ name, shape: src.shape(name), data: src.readFloat32(name) }));
  src.close();
  for (const t of [...tensors]) {
    const m = /^model\.layers\.([01])\.(.*)$/.exec(t.name);
    if (m) tensors.push({ ...t, name: `model.layers.${Number(m[1]) + 4}.${m[2]}` });
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

const TOKENS = [1, 5, 17, 42, 9, 63, 27, 80, 11, 3, 50, 7, 33, 60];
const CASES: [string, () => string][] = [
  ['llama', () => tinyCheckpoint('llama')],
  ['llama-tied', () => tinyCheckpoint('llama-tied')],
  ['llama3', () => tinyCheckpoint('llama3')],
  ['qwen2', () => tinyCheckpoint('qwen2')],
  ['qwen3', () => tinyCheckpoint('qwen3')],
  ['qwen3-bf16', () => tinyCheckpoint('qwen3-bf16')],
  ['gemma', () => tinyCheckpoint('gemma')],
  [
    'gemma2 (query_pre_attn_scalar 16)',
    () =>
      variant('gemma2', (c) => {
        c.query_pre_attn_scalar = 16;
      }),
  ],
  ['gemma3 (query_pre_attn_scalar 16, 6 layers)', gemma3SixLayers],
  // llama.cpp disables Phi-3's sliding window (llama.cpp PR 13676), so compare without one.
  [
    'phi3 (no sliding window)',
    () =>
      variant('phi3', (c) => {
        c.sliding_window = null;
      }),
  ],
];

// Loaded while the tests are collected, so that without llama.cpp they are reported as skipped
// (with the reason printed) rather than run as empty passes.
let llama: Llama | null = null;
try {
  llama = await getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    usePrebuiltBinaries: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
  });
} catch (e) {
  console.warn(
    `reference-llamacpp.test: skipping the llama.cpp cross-checks: llama.cpp unavailable (${(e as Error).message.split('\n')[0]})`,
  );
}
afterAll(async () => {
  await llama?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * llama.cpp's next-token log-probabilities at every position of `tokens` (temperature 1, no
 * filtering), so they compare with the log-softmax of the reference logits.
 */
async function llamaCppLogProbs(ggufPath: string, tokens: number[], vocab: number): Promise<Float32Array[]> {
  const model = await llama!.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
  // One thread: two spin against the test runner on a 2-core machine.
  const context = await model.createContext({ contextSize: 64, batchSize: 64, threads: 1 });
  try {
    const options = { temperature: 1, topK: vocab, topP: 1, minP: 0 };
    const results = await context
      .getSequence()
      .controlledEvaluate(tokens.map((t) => [t as Token, { generateNext: { probabilities: true, options } }]));
    return results.map((r, i) => {
      const probs = r?.next.probabilities;
      if (!probs) throw new Error(`llama.cpp returned no probabilities at position ${i}`);
      const out = new Float32Array(vocab).fill(-Infinity);
      for (const [tok, p] of probs) if (tok < vocab) out[tok] = Math.log(p);
      return out;
    });
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

describe.skipIf(!llama)('reference vs llama.cpp on the tiny checkpoints', () => {
  it.each(CASES)('%s: logits agree at every position', async (label, make) => {
    const dir = make();
    const gguf = join(scratch, `${label.replace(/\W+/g, '_')}.gguf`);
    toGguf(dir, gguf);
    const ref = ReferenceModel.load(dir);
    const want = ref.forward(TOKENS).logits.map((l) => {
      const m = Math.max(...l);
      const lse = m + Math.log(l.reduce((s, x) => s + Math.exp(x - m), 0));
      return l.map((x) => x - lse);
    });
    const got = await llamaCppLogProbs(gguf, TOKENS, ref.vocab);
    // node-llama-cpp 3.21 reports the probabilities of the likeliest tokens only, renormalised over
    // them: compare log-probabilities relative to the top token (equal to logit differences).
    let worst = 0;
    let compared = 0;
    got.forEach((g, i) => {
      const top = want[i]!.indexOf(Math.max(...want[i]!));
      expect(Number.isFinite(g[top]!)).toBe(true);
      for (let v = 0; v < ref.vocab; v++) {
        if (!Number.isFinite(g[v]!) || want[i]![v]! < -12) continue;
        worst = Math.max(worst, Math.abs(g[v]! - g[top]! - (want[i]![v]! - want[i]![top]!)));
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(TOKENS.length * 5);
    console.log(`${label}: max |Δ logit difference| reference vs llama.cpp ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(3e-2);
  });
});
