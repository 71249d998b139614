import { describe, expect, it, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ReferenceModel } from './reference.ts';
import { TINY_NAMES, tinyCheckpoint, type TinyName } from './tiny-checkpoints.ts';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../checkpoint/safetensors.ts';

const STORIES = join(import.meta.dirname, '..', '..', '..', 'shared', 'models', 'stories260K');
const haveStories = existsSync(join(STORIES, 'model.safetensors'));
if (!haveStories)
  console.log(`reference.test: skipping the stories260K checks: ${STORIES} is absent (it lives in ../shared beside the repo)`);

/**
 * Greedy from BOS on stories260K.gguf with llama.cpp (node-llama-cpp 3.22, CPU, temperature 0),
 * measured once: an implementation independent of ours, on the same trained weights.
 */
const LLAMA_CPP_GREEDY = [
  403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265,
  282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352,
];

const scratch = mkdtempSync(join(tmpdir(), 'reference-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of a tiny checkpoint with its config.json edited. */
function variant(name: TinyName, edit: (cfg: Record<string, unknown>) => void): string {
  const src = tinyCheckpoint(name);
  const dir = mkdtempSync(join(scratch, `${name}-`));
  for (const f of readdirSync(src)) if (!f.startsWith('.')) copyFileSync(join(src, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

const load = (name: TinyName) => ReferenceModel.load(tinyCheckpoint(name));
const TOKENS = [1, 5, 17, 42, 9, 63, 27, 80, 11, 3, 50, 7];
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const same = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) => maxDiff(x, b[i]!) === 0);
function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe.skipIf(!haveStories)('reference on stories260K (a trained Llama)', () => {
  it('greedy-generates the same story as llama.cpp, deterministically', () => {
    const model = ReferenceModel.load(STORIES);
    expect([model.numLayers, model.hidden, model.vocab]).toEqual([5, 64, 512]);
    const t0 = performance.now();
    const ids = model.greedy([1], 40);
    const ms = performance.now() - t0;
    const again = model.greedy([1], 40);
    const tok = new Tokenizer(
      JSON.parse(readFileSync(join(STORIES, 'tokenizer.json'), 'utf8')),
      JSON.parse(readFileSync(join(STORIES, 'tokenizer_config.json'), 'utf8')),
    );
    const text = tok.decode(ids);
    console.log(`stories260K greedy (${ms.toFixed(0)} ms): ${JSON.stringify(ids)}\n  ${JSON.stringify(text)}`);
    expect(again).toEqual(ids);
    expect(new Set(ids).size).toBeGreaterThan(15);
    expect(ids).toEqual(LLAMA_CPP_GREEDY);
    expect(text.startsWith('Once upon a time')).toBe(true);
  });
});

describe('reference on the tiny checkpoints', () => {
  it.each(TINY_NAMES)('%s: shapes, finiteness, causality, steering and ablation', (name) => {
    const model = load(name);
    const n = TOKENS.length;
    const base = model.forward(TOKENS);
    expect(base.logits.length).toBe(n);
    expect(base.hidden.length).toBe(model.numLayers);
    for (const l of base.logits) {
      expect(l.length).toBe(model.vocab);
      expect(l.every(Number.isFinite)).toBe(true);
    }
    for (const layer of base.hidden) {
      expect(layer.length).toBe(n);
      for (const h of layer) expect(h.length).toBe(model.hidden);
    }
    // Not degenerate: the top token varies with position and logits have spread.
    const argmax = base.logits.map((l) => l.indexOf(Math.max(...l)));
    expect(new Set(argmax).size, `${name} argmax ${argmax}`).toBeGreaterThan(3);

    // Causal: changing tokens after position 5 leaves positions 0..5 bit-identical.
    const tail = model.forward([...TOKENS.slice(0, 6), 90, 91, 92]);
    expect(same(tail.logits.slice(0, 6), base.logits.slice(0, 6))).toBe(true);
    expect(same(tail.hidden[model.numLayers - 1]!.slice(0, 6), base.hidden[model.numLayers - 1]!.slice(0, 6))).toBe(true);
    expect(maxDiff(tail.logits[6]!, base.logits[6]!)).toBeGreaterThan(1e-3);

    // A zero steering vector changes nothing.
    const zero = new Map([[1, new Float32Array(model.hidden)]]);
    const z = model.forward(TOKENS, { steer: zero });
    expect(same(z.logits, base.logits)).toBe(true);

    // Steering at block 1: earlier blocks untouched, block 1 shifted by exactly v, later ones and logits changed.
    const v = Float32Array.from({ length: model.hidden }, (_, i) => Math.sin(i + 1));
    const s = model.forward(TOKENS, { steer: new Map([[1, v]]) });
    expect(same(s.hidden[0]!, base.hidden[0]!)).toBe(true);
    for (let t = 0; t < n; t++) {
      const shifted = base.hidden[1]![t]!.map((x, i) => x + v[i]!);
      expect(maxDiff(s.hidden[1]![t]!, shifted)).toBeLessThan(1e-5);
      expect(maxDiff(s.hidden[2]![t]!, base.hidden[2]![t]!)).toBeGreaterThan(1e-3);
      expect(maxDiff(s.logits[t]!, base.logits[t]!)).toBeGreaterThan(1e-3);
    }
    // Steering after the last block still reaches the logits (through the final norm).
    const last = model.forward(TOKENS, { steer: new Map([[model.numLayers - 1, v]]) });
    expect(maxDiff(last.logits[n - 1]!, base.logits[n - 1]!)).toBeGreaterThan(1e-3);

    // Ablation at block 0 removes the component along u at every position, then steering adds on top.
    const u = unit(base.hidden[0]![n - 1]!);
    const a = model.forward(TOKENS, { ablate: new Map([[0, u]]) });
    for (const h of a.hidden[0]!) expect(Math.abs(h.reduce((acc, x, i) => acc + x * u[i]!, 0))).toBeLessThan(1e-5);
    expect(maxDiff(a.logits[n - 1]!, base.logits[n - 1]!)).toBeGreaterThan(1e-3);
    const as = model.forward(TOKENS, { ablate: new Map([[0, u]]), steer: new Map([[0, u]]) });
    for (const h of as.hidden[0]!) expect(Math.abs(h.reduce((acc, x, i) => acc + x * u[i]!, 0) - 1)).toBeLessThan(1e-5);
  });

  /** For each position, whether the output at `layer` (or the logits) changes when token 0 changes. */
  function dependsOnToken0(model: ReferenceModel, layer: number | 'logits'): boolean[] {
    const a = model.forward(TOKENS);
    const b = model.forward([7, ...TOKENS.slice(1)]);
    const pick = (r: typeof a) => (layer === 'logits' ? r.logits : r.hidden[layer]!);
    return pick(a).map((x, i) => maxDiff(x, pick(b)[i]!) > 0);
  }
  const upTo = (k: number) => TOKENS.map((_, i) => i <= k);

  it('sliding window: a query sees exactly the last `window` positions, compounding over layers', () => {
    // mistral, window 4, 3 layers: block b output at position i reaches back 3·(b+1) positions.
    // phi3 likewise (window 4 on every layer).
    for (const name of ['mistral', 'phi3'] as const) {
      const model = load(name);
      expect(dependsOnToken0(model, 0), name).toEqual(upTo(3));
      expect(dependsOnToken0(model, 1), name).toEqual(upTo(6));
      expect(dependsOnToken0(model, 'logits'), name).toEqual(upTo(9));
    }
    // Full attention everywhere.
    for (const name of ['llama', 'llama3', 'qwen2', 'qwen3', 'gemma'] as const) {
      expect(dependsOnToken0(load(name), 'logits'), name).toEqual(upTo(TOKENS.length));
    }
    // gemma2: even layers slide, odd ones are global.
    const gemma2 = load('gemma2');
    expect(dependsOnToken0(gemma2, 0)).toEqual(upTo(3));
    expect(dependsOnToken0(gemma2, 1)).toEqual(upTo(TOKENS.length));
    // gemma3: layers 0-2 slide, layer 3 is global.
    const gemma3 = load('gemma3');
    expect(dependsOnToken0(gemma3, 2)).toEqual(upTo(9));
    expect(dependsOnToken0(gemma3, 3)).toEqual(upTo(TOKENS.length));
  });

  it('qwen2 ignores sliding_window while use_sliding_window is false, and applies it past max_window_layers when true', () => {
    const off = load('qwen2').forward(TOKENS);
    const on = ReferenceModel.load(
      variant('qwen2', (c) => {
        c.use_sliding_window = true;
      }),
    ).forward(TOKENS);
    // Off: a plain full-attention model (every position sees token 0).
    expect(dependsOnToken0(load('qwen2'), 'logits')).toEqual(upTo(TOKENS.length));
    // On: layer 0 (< max_window_layers = 1) stays global, so block 0 is unchanged; layer 1 slides with
    // window 4, so block 1 differs exactly from position 4 on (positions 0-3 see all their keys anyway).
    expect(same(on.hidden[0]!, off.hidden[0]!)).toBe(true);
    expect(on.hidden[1]!.map((h, i) => maxDiff(h, off.hidden[1]![i]!) > 0)).toEqual(TOKENS.map((_, i) => i >= 4));
  });

  it('a llama checkpoint relabelled as mistral without a window gives identical logits', () => {
    const asMistral = ReferenceModel.load(
      variant('llama', (c) => {
        c.model_type = 'mistral';
        c.architectures = ['MistralForCausalLM'];
        c.sliding_window = null;
      }),
    );
    expect(same(asMistral.forward(TOKENS).logits, load('llama').forward(TOKENS).logits)).toBe(true);
  });

  it('phi3 equals a mistral checkpoint holding its fused qkv_proj and gate_up_proj split by rows', () => {
    const src = tinyCheckpoint('phi3');
    const dir = mkdtempSync(join(scratch, 'phi3-as-mistral-'));
    const file = new SafetensorsFile(join(src, 'model.safetensors'));
    const tensors: TensorToWrite[] = [];
    const rows = (name: string, data: Float32Array, from: number, count: number) =>
      tensors.push({ name, shape: [count, 32], data: data.slice(from * 32, (from + count) * 32) });
    for (const [name, info] of file.tensors) {
      const data = file.readFloat32(name);
      const p = name.slice(0, name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
      if (name.endsWith('qkv_proj.weight')) {
        rows(`${p}q_proj.weight`, data, 0, 32);
        rows(`${p}k_proj.weight`, data, 32, 16);
        rows(`${p}v_proj.weight`, data, 48, 16);
      } else if (name.endsWith('gate_up_proj.weight')) {
        rows(`${p}gate_proj.weight`, data, 0, 48);
        rows(`${p}up_proj.weight`, data, 48, 48);
      } else {
        tensors.push({ name, shape: info.shape, data });
      }
    }
    file.close();
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'mistral', architectures: ['MistralForCausalLM'] }));
    const asMistral = ReferenceModel.load(dir).forward(TOKENS);
    const phi3 = load('phi3').forward(TOKENS);
    expect(same(asMistral.logits, phi3.logits)).toBe(true);
    expect(same(asMistral.hidden[2]!, phi3.hidden[2]!)).toBe(true);
    // The split matters: k and v swapped is a different model.
    const swapped = mkdtempSync(join(scratch, 'phi3-swapped-'));
    for (const t of tensors)
      if (t.name.endsWith('k_proj.weight')) t.name = t.name.replace('k_proj', 'v_proj');
      else if (t.name.endsWith('v_proj.weight')) t.name = t.name.replace('v_proj', 'k_proj');
    writeSafetensors(join(swapped, 'model.safetensors'), tensors);
    copyFileSync(join(dir, 'config.json'), join(swapped, 'config.json'));
    expect(maxDiff(ReferenceModel.load(swapped).forward(TOKENS).logits[11]!, phi3.logits[11]!)).toBeGreaterThan(1e-3);
  });

  it('llama3 shares llama weights: identical at position 0, RoPE scaling changes later positions', () => {
    const llama = load('llama').forward(TOKENS).logits;
    const llama3 = load('llama3').forward(TOKENS).logits;
    expect(maxDiff(llama3[0]!, llama[0]!)).toBe(0);
    expect(maxDiff(llama3[8]!, llama[8]!)).toBeGreaterThan(1e-3);
    const unscaled = ReferenceModel.load(
      variant('llama3', (c) => {
        c.rope_scaling = null;
      }),
    ).forward(TOKENS).logits;
    expect(maxDiff(unscaled[0]!, llama3[0]!)).toBe(0);
    expect(maxDiff(unscaled[8]!, llama3[8]!)).toBeGreaterThan(1e-3);
  });

  it('reduced-precision variants track their float32 twins', () => {
    const pairs: [TinyName, TinyName, number][] = [
      ['llama-f16-sharded', 'llama', 0.02],
      ['qwen3-bf16', 'qwen3', 0.25],
    ];
    for (const [low, full, tol] of pairs) {
      const a = load(low).forward(TOKENS).logits;
      const b = load(full).forward(TOKENS).logits;
      const d = Math.max(...a.map((x, i) => maxDiff(x, b[i]!)));
      console.log(`${low} vs ${full}: max |Δlogit| ${d.toExponential(2)}`);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(tol);
    }
  });

  it('gemma2 soft-capping bites: logits stay inside ±final cap, and removing either cap changes them', () => {
    const logits = load('gemma2').forward(TOKENS).logits;
    const all = logits.flatMap((l) => [...l]);
    expect(Math.max(...all.map(Math.abs))).toBeLessThan(3);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(2);
    const noAttnCap = ReferenceModel.load(
      variant('gemma2', (c) => {
        c.attn_logit_softcapping = null;
      }),
    ).forward(TOKENS).logits;
    expect(maxDiff(noAttnCap[11]!, logits[11]!)).toBeGreaterThan(1e-3);
    const noFinalCap = ReferenceModel.load(
      variant('gemma2', (c) => {
        c.final_logit_softcapping = null;
      }),
    ).forward(TOKENS).logits;
    expect(Math.max(...noFinalCap.flatMap((l) => [...l]).map(Math.abs))).toBeGreaterThan(3);
  });

  it('gemma3 applies query_pre_attn_scalar and the global-layer RoPE scaling', () => {
    const base = load('gemma3').forward(TOKENS).logits;
    const byHeadDim = ReferenceModel.load(
      variant('gemma3', (c) => {
        c.query_pre_attn_scalar = 16;
      }),
    ).forward(TOKENS).logits;
    expect(maxDiff(byHeadDim[11]!, base[11]!)).toBeGreaterThan(1e-3);
    const unscaled = ReferenceModel.load(
      variant('gemma3', (c) => {
        c.rope_scaling = null;
      }),
    );
    const u = unscaled.forward(TOKENS);
    const b = load('gemma3').forward(TOKENS);
    // Only the global layer (3) uses rope_scaling: blocks 0-2 are unchanged.
    expect(same(u.hidden[2]!, b.hidden[2]!)).toBe(true);
    expect(maxDiff(u.hidden[3]![11]!, b.hidden[3]![11]!)).toBeGreaterThan(1e-4);
  });

  it('rejects what it does not model with one clear line', () => {
    const bad = variant('llama', (c) => {
      c.model_type = 'gpt2';
    });
    expect(() => ReferenceModel.load(bad)).toThrow(/config\.json: model_type "gpt2" is not supported/);
    expect(() =>
      ReferenceModel.load(
        variant('llama3', (c) => {
          c.rope_scaling = { rope_type: 'yarn', factor: 4 };
        }),
      ),
    ).toThrow(/rope_scaling type "yarn"/);
    const longrope = { type: 'longrope', short_factor: [1, 1, 1, 1], long_factor: [2, 2, 2, 2], factor: 32 };
    expect(() =>
      ReferenceModel.load(
        variant('phi3', (c) => {
          c.rope_scaling = longrope;
        }),
      ),
    ).toThrow(/rope_scaling type "longrope"/);
    expect(() =>
      ReferenceModel.load(
        variant('phi3', (c) => {
          c.partial_rotary_factor = 0.75;
        }),
      ),
    ).toThrow(/partial_rotary_factor/);
    // An untied config without lm_head.weight.
    expect(() =>
      ReferenceModel.load(
        variant('llama-tied', (c) => {
          c.tie_word_embeddings = false;
        }),
      ),
    ).toThrow(/lm_head\.weight is missing/);
    // qwen2 tensors in a llama config: the q/k/v biases are not part of a llama model.
    expect(() =>
      ReferenceModel.load(
        variant('qwen2', (c) => {
          c.model_type = 'llama';
          c.tie_word_embeddings = true;
        }),
      ),
    ).toThrow(/_proj\.bias is not part of a llama model/);
    const model = load('llama');
    expect(() => model.forward([1, 200])).toThrow(/token 200 at position 1/);
    expect(() => model.forward([1], { steer: new Map([[0, new Float32Array(3)]]) })).toThrow(/steer vector for block 0 has 3 values/);
    expect(() => model.forward([1], { ablate: new Map([[5, new Float32Array(32)]]) })).toThrow(/ablate block 5/);
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    expect(() => ReferenceModel.load(empty)).toThrow(/config\.json: missing/);
  });
});
