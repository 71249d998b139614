import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint } from '../checkpoint/checkpoint.ts';
import { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from '../checkpoint/dtype.ts';
import { TINY_NAMES, makeTinyCheckpoint, pyFloatRepr, pythonJson, tinyCheckpoint, type TinyName } from './tiny-checkpoints.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tiny-ckpt-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const config = (name: TinyName) => JSON.parse(readFileSync(join(tinyCheckpoint(name), 'config.json'), 'utf8')) as Record<string, unknown>;

function withCheckpoint<T>(name: TinyName, fn: (c: Checkpoint) => T): T {
  const c = Checkpoint.open(tinyCheckpoint(name));
  try {
    return fn(c);
  } finally {
    c.close();
  }
}

describe('python-style JSON', () => {
  it('prints floats as Python repr does', () => {
    const cases: [number, string][] = [
      [1e-6, '1e-06'],
      [1e-5, '1e-05'],
      [0.02, '0.02'],
      [10000, '10000.0'],
      [500000, '500000.0'],
      [0, '0.0'],
      [1e16, '1e+16'],
      [0.0001, '0.0001'],
      [1.5e-7, '1.5e-07'],
      [123.456, '123.456'],
      [-2.5, '-2.5'],
      [1e15, '1000000000000000.0'],
    ];
    for (const [x, want] of cases) expect(pyFloatRepr(x)).toBe(want);
  });

  it('sorts keys and indents like json.dumps(indent=2, sort_keys=True)', () => {
    expect(pythonJson({ b: [1, 'x'], a: { d: null, c: true }, e: [] })).toBe(
      '{\n  "a": {\n    "c": true,\n    "d": null\n  },\n  "b": [\n    1,\n    "x"\n  ],\n  "e": []\n}',
    );
    expect(() => pythonJson({ a: 0.5 })).toThrow(/marked as a float/);
  });
});

describe('tiny checkpoints', () => {
  it('are byte-identical across builds and match the cached fixtures', () => {
    for (const name of TINY_NAMES) {
      const a = join(scratch, 'a', name);
      const b = join(scratch, 'b', name);
      makeTinyCheckpoint(name, a);
      makeTinyCheckpoint(name, b);
      const cached = tinyCheckpoint(name);
      const files = readdirSync(a).sort();
      expect(readdirSync(b).sort()).toEqual(files);
      expect(
        readdirSync(cached)
          .filter((f) => !f.startsWith('.'))
          .sort(),
      ).toEqual(files);
      for (const f of files) {
        const bytes = readFileSync(join(a, f));
        expect(readFileSync(join(b, f)).equals(bytes), `${name}/${f}`).toBe(true);
        expect(readFileSync(join(cached, f)).equals(bytes), `cached ${name}/${f}`).toBe(true);
      }
    }
  });

  it('returns the same folder on repeated calls and rejects unknown names', () => {
    expect(tinyCheckpoint('llama')).toBe(tinyCheckpoint('llama'));
    expect(() => makeTinyCheckpoint('gpt2' as TinyName, join(scratch, 'x'))).toThrow(/unknown tiny checkpoint "gpt2"/);
  });

  it('write configs and generation configs with the documented shapes', () => {
    for (const name of TINY_NAMES) {
      const dir = tinyCheckpoint(name);
      const c = config(name);
      const gen = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
      expect(gen.bos_token_id, name).toBe(c.bos_token_id);
      expect(gen.eos_token_id, name).toBe(c.eos_token_id);
      expect(
        readdirSync(dir).some((f) => f.startsWith('tokenizer')),
        name,
      ).toBe(false);
      expect(c.vocab_size).toBe(96);
      expect(c.hidden_size).toBe(32);
      expect(c.num_attention_heads).toBe(4);
      expect(c.num_key_value_heads).toBe(2);
      expect(c.intermediate_size).toBe(48);
      expect(c.max_position_embeddings).toBe(256);
      const gemma = name.startsWith('gemma');
      expect(c.num_hidden_layers, name).toBe(name === 'gemma2' || name === 'gemma3' ? 4 : 3);
      expect(c.head_dim ?? 8, name).toBe(gemma || name.startsWith('qwen3') ? 16 : 8);
      expect(c.rms_norm_eps, name).toBe(name.startsWith('llama') || name === 'phi3' ? 1e-5 : 1e-6);
      const text = readFileSync(join(dir, 'config.json'), 'utf8');
      expect(text.endsWith('}\n')).toBe(true);
      if (c.rms_norm_eps === 1e-6) expect(text).toContain('"rms_norm_eps": 1e-06');
    }
    expect(config('mistral').sliding_window).toBe(4);
    expect(config('llama3').rope_scaling).toEqual({
      factor: 8,
      high_freq_factor: 4,
      low_freq_factor: 1,
      original_max_position_embeddings: 192,
      rope_type: 'llama3',
    });
    expect(config('gemma2')).toMatchObject({
      attn_logit_softcapping: 5,
      final_logit_softcapping: 3,
      query_pre_attn_scalar: 24,
      sliding_window: 4,
    });
    expect(config('gemma3')).toMatchObject({
      model_type: 'gemma3_text',
      architectures: ['Gemma3ForCausalLM'],
      sliding_window_pattern: 4,
      _sliding_window_pattern: 4,
      layer_types: ['sliding_attention', 'sliding_attention', 'sliding_attention', 'full_attention'],
      rope_theta: 1e6,
      rope_local_base_freq: 10000,
      rope_scaling: { rope_type: 'linear', factor: 8 },
      attn_logit_softcapping: null,
    });
    expect(config('qwen2')).toMatchObject({ use_sliding_window: false, tie_word_embeddings: true });
    expect(config('qwen3-bf16').torch_dtype).toBe('bfloat16');
    expect(config('llama-tied').tie_word_embeddings).toBe(true);
  });

  it('hold the tensors each family defines', () => {
    const names = (n: TinyName) => withCheckpoint(n, (c) => [...c.tensors.keys()]);
    expect(names('llama')).toContain('lm_head.weight');
    expect(names('llama-tied')).not.toContain('lm_head.weight');
    for (const n of ['qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3'] as const) expect(names(n), n).not.toContain('lm_head.weight');
    const qwen2 = names('qwen2');
    expect(qwen2).toContain('model.layers.0.self_attn.q_proj.bias');
    expect(qwen2).toContain('model.layers.2.self_attn.v_proj.bias');
    expect(qwen2).not.toContain('model.layers.0.self_attn.o_proj.bias');
    withCheckpoint('qwen3', (c) => {
      expect(c.shape('model.layers.0.self_attn.q_norm.weight')).toEqual([16]);
      expect(c.shape('model.layers.0.self_attn.q_proj.weight')).toEqual([64, 32]);
      expect(c.shape('model.layers.0.self_attn.k_proj.weight')).toEqual([32, 32]);
    });
    for (const n of ['gemma2', 'gemma3'] as const) {
      const t = names(n);
      expect(t).toContain('model.layers.3.pre_feedforward_layernorm.weight');
      expect(t).toContain('model.layers.3.post_feedforward_layernorm.weight');
    }
    expect(names('gemma3')).toContain('model.layers.3.self_attn.k_norm.weight');
    expect(names('gemma')).not.toContain('model.layers.0.pre_feedforward_layernorm.weight');
    // phi3: q/k/v and gate/up fused, rows [q; k; v] and [gate; up].
    const phi3 = names('phi3');
    for (const n of ['q_proj', 'k_proj', 'v_proj']) expect(phi3).not.toContain(`model.layers.0.self_attn.${n}.weight`);
    expect(phi3).not.toContain('model.layers.0.mlp.gate_proj.weight');
    withCheckpoint('phi3', (c) => {
      expect(c.shape('model.layers.2.self_attn.qkv_proj.weight')).toEqual([32 + 16 + 16, 32]);
      expect(c.shape('model.layers.2.mlp.gate_up_proj.weight')).toEqual([2 * 48, 32]);
      expect(c.shape('lm_head.weight')).toEqual([96, 32]);
    });
    expect(config('phi3')).toMatchObject({ model_type: 'phi3', architectures: ['Phi3ForCausalLM'], sliding_window: 4, rope_scaling: null });
    expect(config('phi3').head_dim).toBeUndefined();
    // Norm weights: near 1, or near 0 where the family multiplies by (1 + w).
    const meanNorm = (n: TinyName) =>
      withCheckpoint(n, (c) => c.readFloat32('model.layers.1.input_layernorm.weight').reduce((a, b) => a + b) / 32);
    expect(Math.abs(meanNorm('llama') - 1)).toBeLessThan(0.1);
    expect(Math.abs(meanNorm('gemma2'))).toBeLessThan(0.1);
  });

  it('store the dtypes asked for, sharing values within a weight set', () => {
    withCheckpoint('qwen3-bf16', (bf) =>
      withCheckpoint('qwen3', (f32) => {
        expect(bf.dominantDtype).toBe('BF16');
        const name = 'model.layers.1.mlp.up_proj.weight';
        expect(bf.readFloat32(name)).toEqual(bf16ToF32(f32ToBf16(f32.readFloat32(name))));
      }),
    );
    withCheckpoint('llama-f16-sharded', (f16) =>
      withCheckpoint('llama', (f32) => {
        expect(f16.dominantDtype).toBe('F16');
        expect([...f16.tensors.keys()].sort()).toEqual([...f32.tensors.keys()].sort());
        for (const name of ['lm_head.weight', 'model.layers.2.self_attn.o_proj.weight']) {
          expect(f16.readFloat32(name)).toEqual(f16ToF32(f32ToF16(f32.readFloat32(name))));
        }
      }),
    );
    withCheckpoint('llama3', (l3) =>
      withCheckpoint('llama', (l) => {
        expect(l3.readFloat32('model.embed_tokens.weight')).toEqual(l.readFloat32('model.embed_tokens.weight'));
      }),
    );
  });

  it('split llama-f16-sharded into two shards with a consistent index', () => {
    const dir = tinyCheckpoint('llama-f16-sharded');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.safetensors'))
      .sort();
    expect(files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    withCheckpoint('llama-f16-sharded', (c) => {
      let total = 0;
      for (const [name, info] of c.tensors) {
        total += info.end - info.begin;
        expect(info.file.endsWith(index.weight_map[name]!), name).toBe(true);
      }
      expect(index.metadata.total_size).toBe(total);
      expect(Object.keys(index.weight_map).length).toBe(c.tensors.size);
      expect(new Set(Object.values(index.weight_map)).size).toBe(2);
    });
  });
});
