import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrationSequences, ensureNorms, NORMS_FILE, readNorms } from './calibration.ts';
import { residualNorms } from '../engine/capture.ts';
import { loadDemoModel, type DemoModel } from '../test-support/demo-model.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-calib-'));
let m: DemoModel;
beforeAll(async () => {
  m = await loadDemoModel(root);
});
afterAll(async () => {
  await m?.model.release();
  rmSync(root, { recursive: true, force: true });
});

describe('residual-norm calibration', () => {
  it('measures once, stores beside the model, and reads back what it measured', async () => {
    const L = m.model.arch.numLayers;
    expect(readNorms(m.dir, L)).toBeNull();
    let calls = 0;
    const measure = (seqs: number[][]) => {
      calls++;
      return residualNorms(m.model, seqs);
    };
    const first = await ensureNorms(m.dir, L, m.tokenizer, measure);
    expect(first.length).toBe(L);
    expect([...first].every((x) => x > 0)).toBe(true);
    // equal to the engine's own measurement on the same sequences
    const direct = await residualNorms(m.model, calibrationSequences(m.tokenizer));
    // (as stored: 7 significant digits, so the first run steers exactly as every later one)
    expect([...first]).toEqual([...direct].map((x) => Math.fround(+x.toPrecision(7))));
    const again = await ensureNorms(m.dir, L, m.tokenizer, measure);
    expect(calls).toBe(1);
    expect([...again]).toEqual([...first]);
    // chat-formatted for a chat model
    expect(m.tokenizer.decode(calibrationSequences(m.tokenizer)[0]!)).toMatch(/^<\|im_start\|>user\n/);
  });

  it('ignores a damaged or mismatched file and measures again', async () => {
    const L = m.model.arch.numLayers;
    writeFileSync(join(m.dir, NORMS_FILE), '{"version": 1, "norms": [1, 2]');
    expect(readNorms(m.dir, L)).toBeNull();
    writeFileSync(join(m.dir, NORMS_FILE), JSON.stringify({ version: 1, norms: [1, 2], textHash: 'x', sequences: 1, createdAt: '' }));
    expect(readNorms(m.dir, L)).toBeNull(); // wrong layer count
    const n = await ensureNorms(m.dir, L, m.tokenizer, (s) => residualNorms(m.model, s));
    expect(n.length).toBe(L);
    expect(JSON.parse(readFileSync(join(m.dir, NORMS_FILE), 'utf8')).norms).toHaveLength(L);
  });
});
