// The `steerable: false` compile option (the baseline benchmarks measure steering's cost against):
// the same decoder without steer/ablate inputs, giving the unsteered logits of the steerable graph,
// and an engine that refuses to steer it in one line.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../../native-models/compile.ts';
import { tinyCheckpoint } from '../../../native-models/test-support/tiny-checkpoints.ts';
import { CompiledModel } from './model.ts';
import { generate } from './generate.ts';

const cacheRoot = mkdtempSync(join(tmpdir(), 'ps-steerable-'));
afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

describe('compile option steerable: false', () => {
  it('has no steering inputs, the unsteered outputs of the steerable graph, and refuses steering', async () => {
    const compile = (steerable: boolean) =>
      compileModel({ checkpointDir: tinyCheckpoint('qwen3'), cacheRoot, options: { requireTokenizer: false, steerable } });
    const [on, off] = [await compile(true), await compile(false)];
    expect(off.dir).not.toBe(on.dir); // a different cache key
    expect(on.manifest.options.steerable).toBe(true);
    expect(off.manifest.options.steerable).toBe(false);
    const [steerable, plain] = [await CompiledModel.load(on.dir, { threads: 1 }), await CompiledModel.load(off.dir, { threads: 1 })];
    try {
      const names = (m: CompiledModel) => (m as unknown as { session: { inputNames: string[] } }).session.inputNames;
      expect(names(plain).filter((n) => n.startsWith('steer.') || n.startsWith('ablate.'))).toEqual([]);
      expect(names(steerable).filter((n) => n.startsWith('steer.'))).toHaveLength(3);
      const row = {
        prompt: [3, 14, 15, 92, 65],
        sampling: { greedy: true },
        monitor: { layer: 2, vector: Float32Array.from({ length: 32 }, (_, i) => i - 16) },
      };
      const a = await generate(steerable, { rows: [row], maxNewTokens: 8, stopTokenIds: [] });
      const b = await generate(plain, { rows: [row], maxNewTokens: 8, stopTokenIds: [] });
      expect(b.rows[0]!.tokens).toEqual(a.rows[0]!.tokens);
      b.rows[0]!.projections.forEach((p, i) => expect(p).toBeCloseTo(a.rows[0]!.projections[i]!, 4));
      await expect(
        generate(plain, {
          rows: [{ ...row, steering: { terms: [{ vectors: new Map([[1, new Float32Array(32).fill(1)]]), alpha: 1, scale: 'raw' }] } }],
          maxNewTokens: 2,
          stopTokenIds: [],
        }),
      ).rejects.toThrow(/compiled without steering inputs \(steerable: false\)/);
    } finally {
      await steerable.release();
      await plain.release();
    }
  });
});
