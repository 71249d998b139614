// generate() refuses what it cannot honour before anything runs: every layer a row names must be a
// block of the model (steering, ablation, monitor), in one line naming the row and the layer.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../../native-models/compile.ts';
import { tinyCheckpoint } from '../../../native-models/test-support/tiny-checkpoints.ts';
import { CompiledModel } from './model.ts';
import { generate, type GenerateRow } from './generate.ts';
import { StudioError } from '../errors.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-generate-'));
let model: CompiledModel;

beforeAll(async () => {
  const dir = (await compileModel({ checkpointDir: tinyCheckpoint('qwen3'), cacheRoot: root, options: { requireTokenizer: false } })).dir;
  model = await CompiledModel.load(dir, { provider: 'cpu', threads: 1 });
});
afterAll(async () => {
  await model.release();
  rmSync(root, { recursive: true, force: true });
});

describe('generate validates layers against the model (3 blocks, hidden 32)', () => {
  const u = Float32Array.from({ length: 32 }, (_, i) => (i % 3) - 1);
  const refused = async (row: Omit<GenerateRow, 'prompt'>): Promise<string> => {
    const forward = model.forward.bind(model);
    let runs = 0;
    model.forward = (x) => {
      runs++;
      return forward(x);
    };
    try {
      await generate(model, { rows: [{ prompt: [1, 2, 3] }, { prompt: [4, 5], ...row }], maxNewTokens: 3, stopTokenIds: [] });
    } catch (e) {
      expect(e).toBeInstanceOf(StudioError);
      expect((e as StudioError).code).toBe('steering');
      expect(runs).toBe(0); // refused before any forward
      return (e as Error).message;
    } finally {
      model.forward = forward;
    }
    throw new Error('expected generate to refuse the row');
  };

  it('ablation, steering and monitor layers beyond the last block', async () => {
    expect(await refused({ steering: { ablate: [{ vectors: new Map([[0, u]]), layers: [7] }] } })).toBe(
      'ablation row 1: layer 7 does not exist (model has 3 layers)',
    );
    expect(await refused({ steering: { terms: [{ vectors: new Map([[3, u]]), alpha: 1, scale: 'raw' }] } })).toBe(
      'steering row 1: layer 3 does not exist (model has 3 layers)',
    );
    expect(await refused({ monitor: { layer: 7, vector: u } })).toBe('monitor row 1: layer 7 does not exist (model has 3 layers)');
    expect(await refused({ monitor: { layer: 1, vector: new Float32Array(5) } })).toBe(
      'monitor row 1: vector has 5 values, model hidden size is 32',
    );
  });

  it('an ablation at a layer that exists changes the output there', async () => {
    const run = (layers: number[]) =>
      generate(model, {
        rows: [
          {
            prompt: [4, 8, 15, 16],
            sampling: { greedy: true },
            monitor: { layer: 2, vector: u },
            steering: { ablate: [{ vectors: new Map([[0, u]]), layers }] },
          },
        ],
        maxNewTokens: 4,
        stopTokenIds: [],
      });
    const at2 = await run([2]);
    // after ablating u at block 2, the residual stream there has no component along u
    for (const p of at2.rows[0]!.projections) expect(Math.abs(p)).toBeLessThan(1e-4);
    const at0 = await run([0]);
    expect(at0.rows[0]!.projections.some((p) => Math.abs(p) > 1e-2)).toBe(true);
  });
});
