// CI runs the demo model's recipe end to end in its tiny configuration (a few steps): corpus,
// tokenizer training, the Qwen3 model in torch, the f16 safetensors writer and the HF files. The
// output must compile and its tokenizer must agree with the training side's ids. The full training
// (about an hour on 2 cores) is not run here; its output is committed in assets/demo-model.
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../compile.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';

const PYTHON = '/usr/bin/python3';
const torchCheck = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const noTorch = torchCheck.status !== 0 ? `${PYTHON} cannot import torch (apt-get install python3-torch)` : null;
if (noTorch) console.log(`skipping the demo-model training test: ${noTorch}`);

const root = mkdtempSync(join(tmpdir(), 'ps-demo-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(noTorch !== null)('demo model recipe (tiny configuration)', () => {
  it('trains, writes a Hugging Face folder that compiles, and its tokenizer.json matches bpe.py', async () => {
    const out = join(root, 'model');
    const check = join(root, 'tokenizer-check.json');
    const log = execFileSync(
      PYTHON,
      [join(import.meta.dirname, 'train.py'), '--out', out, '--tiny', '--threads', '1', '--tokenizer-check', check],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(log).toMatch(/step 6\/6 loss \d/);
    expect(log).toMatch(/eval val \(seen splits\) [\d.]+, unseen topics [\d.]+/);
    for (const f of [
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'README.md',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/\| 6 \| [\d.]+ \|/);
    const tok = TextTokenizer.load(out);
    for (const c of JSON.parse(readFileSync(check, 'utf8')) as { text: string; ids: number[] }[]) {
      expect(tok.encode(c.text, { addSpecialTokens: false })).toEqual(c.ids);
    }
    const { dir, manifest } = await compileModel({ checkpointDir: out, cacheRoot: join(root, 'cache') });
    expect(existsSync(dir)).toBe(true);
    expect(manifest.architecture.numLayers).toBe(2);
  });
});
