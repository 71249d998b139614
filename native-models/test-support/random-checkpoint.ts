// Random checkpoints of any llama/qwen2/qwen3 shape (bf16 or f32), written tensor by tensor so
// generating a large one never holds the whole model in memory. Speed and memory do not depend on
// the weights' values, so these stand in for real models in benchmarks and load tests.
import { openSync, writeSync, closeSync, mkdirSync, writeFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { f32ToBf16 } from '../checkpoint/dtype.ts';

export const QWEN3_06B_CONFIG = {
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  vocab_size: 151936,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  max_position_embeddings: 40960,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  rope_scaling: null,
  tie_word_embeddings: true,
  hidden_act: 'silu',
  attention_bias: false,
  use_sliding_window: false,
  bos_token_id: 151643,
  eos_token_id: 151645,
  torch_dtype: 'bfloat16',
};

export type RandomConfig = typeof QWEN3_06B_CONFIG;

function tensorList(c: RandomConfig): Array<{ name: string; shape: number[]; std: number; one?: boolean }> {
  const t: Array<{ name: string; shape: number[]; std: number; one?: boolean }> = [];
  const H = c.hidden_size,
    D = c.head_dim,
    I = c.intermediate_size;
  t.push({ name: 'model.embed_tokens.weight', shape: [c.vocab_size, H], std: 0.02 });
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    t.push({ name: `${p}.input_layernorm.weight`, shape: [H], std: 0, one: true });
    t.push({ name: `${p}.post_attention_layernorm.weight`, shape: [H], std: 0, one: true });
    t.push({ name: `${p}.self_attn.q_proj.weight`, shape: [c.num_attention_heads * D, H], std: 0.02 });
    t.push({ name: `${p}.self_attn.k_proj.weight`, shape: [c.num_key_value_heads * D, H], std: 0.02 });
    t.push({ name: `${p}.self_attn.v_proj.weight`, shape: [c.num_key_value_heads * D, H], std: 0.02 });
    t.push({ name: `${p}.self_attn.o_proj.weight`, shape: [H, c.num_attention_heads * D], std: 0.02 });
    if (c.model_type === 'qwen3') {
      t.push({ name: `${p}.self_attn.q_norm.weight`, shape: [D], std: 0, one: true });
      t.push({ name: `${p}.self_attn.k_norm.weight`, shape: [D], std: 0, one: true });
    }
    t.push({ name: `${p}.mlp.gate_proj.weight`, shape: [I, H], std: 0.02 });
    t.push({ name: `${p}.mlp.up_proj.weight`, shape: [I, H], std: 0.02 });
    t.push({ name: `${p}.mlp.down_proj.weight`, shape: [H, I], std: 0.02 });
  }
  t.push({ name: 'model.norm.weight', shape: [H], std: 0, one: true });
  if (!c.tie_word_embeddings) t.push({ name: 'lm_head.weight', shape: [c.vocab_size, H], std: 0.02 });
  return t;
}

/** Writes a random checkpoint of `config`'s shape into `dir` once (atomically); returns dir. */
export function ensureRandomCheckpoint(dir: string, config: RandomConfig = QWEN3_06B_CONFIG, dtype: 'BF16' | 'F32' = 'BF16'): string {
  if (existsSync(join(dir, 'config.json'))) return dir;
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const list = tensorList(config);
  const width = dtype === 'BF16' ? 2 : 4;
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const t of list) {
    const n = t.shape.reduce((a, b) => a * b, 1) * width;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const fd = openSync(join(tmp, 'model.safetensors'), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(json));
  let s = 0x9e3779b9;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (const t of list) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const chunk = 1 << 22;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const f = new Float32Array(m);
      // uniform with the given std (sqrt(3)·std bounds) is enough for timing
      for (let i = 0; i < m; i++) f[i] = t.one ? 1 : (rand() * 2 - 1) * t.std * 1.7320508;
      const b = dtype === 'BF16' ? f32ToBf16(f) : f;
      writeSync(fd, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    }
  }
  closeSync(fd);
  writeFileSync(join(tmp, 'config.json'), JSON.stringify({ ...config, torch_dtype: dtype === 'BF16' ? 'bfloat16' : 'float32' }, null, 2));
  renameSync(tmp, dir);
  return dir;
}
