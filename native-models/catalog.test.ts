// The catalog's sizes are computed from architecture numbers; checked here against the parameter
// counts the model cards publish (an independent source), and the recommendation rules.
import { describe, it, expect } from 'vitest';
import { CATALOG, catalogFor, compiledWeightBytes, parameterCount } from './catalog.ts';
import { FAMILIES } from './architectures/families.ts';

// Published totals (model cards / safetensors metadata on the hub).
const PUBLISHED: Record<string, number> = {
  'Qwen/Qwen3-0.6B': 596_049_920,
  'Qwen/Qwen2.5-0.5B-Instruct': 494_032_768,
  'Qwen/Qwen2.5-1.5B-Instruct': 1_543_714_304,
  'HuggingFaceTB/SmolLM2-135M-Instruct': 134_515_008,
  'HuggingFaceTB/SmolLM2-360M-Instruct': 361_821_120,
  'HuggingFaceTB/SmolLM2-1.7B-Instruct': 1_711_376_384,
  'meta-llama/Llama-3.2-1B-Instruct': 1_235_814_400,
  'meta-llama/Llama-3.2-3B-Instruct': 3_212_749_824,
  'google/gemma-2-2b-it': 2_614_341_888,
};

describe('model catalog', () => {
  it('parameter counts computed from the architecture equal the published ones', () => {
    for (const [repo, n] of Object.entries(PUBLISHED)) {
      const e = CATALOG.find((c) => c.repo === repo)!;
      expect(parameterCount(e.arch), repo).toBe(n);
    }
  });

  it('every entry is a family the compiler knows, revision main (pinned at download), one default', () => {
    for (const e of CATALOG) {
      expect(Object.keys(FAMILIES), e.repo).toContain(e.arch.modelType);
      expect(e.revision).toBe('main');
    }
    expect(CATALOG.filter((e) => e.default).map((e) => e.repo)).toEqual(['Qwen/Qwen3-0.6B']);
    expect(CATALOG.filter((e) => e.gated).every((e) => /^(meta-llama|google)\//.test(e.repo))).toBe(true);
  });

  it('sizes shrink with precision; int4 is the CPU choice, fp16 the GPU one', () => {
    for (const e of CATALOG) {
      const [f32, f16, i8, i4] = (['fp32', 'fp16', 'int8', 'int4'] as const).map((p) => compiledWeightBytes(e.arch, p));
      expect(f32! > f16! && f16! > i8! && i8! > i4!, e.repo).toBe(true);
    }
    // Each row's precision is what a compile with no --precision produces on that provider.
    const qwen = (provider: string) => catalogFor({ totalBytes: 2 ** 40, freeBytes: 2 ** 40, provider }).find((r) => r.default)!;
    expect(['cpu', 'cuda', 'dml'].map((p) => qwen(p).precision)).toEqual(['int4', 'fp16', 'fp16']);
  });

  it('recommends the default when it fits, else the largest open model that fits, else none', () => {
    const GiB = 2 ** 30;
    const rec = (free: number) => catalogFor({ totalBytes: 64 * GiB, freeBytes: free, provider: 'cpu' }).filter((r) => r.recommended);
    expect(rec(16 * GiB).map((r) => r.repo)).toEqual(['Qwen/Qwen3-0.6B']);
    const small = rec(1.0 * GiB);
    expect(small).toHaveLength(1);
    expect(small[0]!.gated).toBe(false);
    expect(small[0]!.repo).toBe('HuggingFaceTB/SmolLM2-360M-Instruct');
    expect(rec(0.1 * GiB)).toEqual([]);
  });
});
