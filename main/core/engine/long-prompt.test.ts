// Long prompts. onnxruntime's Linux telemetry used to run a recursive regex over the process's
// command line and kill the process by SIGSEGV when a `--prompt` of ~15,000+ characters was on it
// (see ort-env.ts); and a one-shot prefill's attention grew as the square of the prompt. These
// check that the process survives such command lines, that a too-long prompt gets one line, that a
// 51,000-character prompt runs on a model with the positions for it, and that a prefill run in
// chunks through the KV cache gives exactly what the one-shot prefill gives.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync, copyFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../../../native-models/compile.ts';
import { tinyCheckpoint } from '../../../native-models/test-support/tiny-checkpoints.ts';
import { ensureRandomCheckpoint, QWEN3_06B_CONFIG } from '../../../native-models/test-support/random-checkpoint.ts';
import { CompiledModel } from './model.ts';
import { generate, prefillChunkSize, type GenerateRow } from './generate.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..', '..');
const CLI = join(REPO, 'bin', 'persona-studio.mjs');
const STORIES = resolve(REPO, '..', 'shared', 'models', 'stories260K');
const haveStories = existsSync(join(STORIES, 'model.safetensors'));
if (!haveStories) console.warn(`long-prompt.test: skipping the CLI runs: ${STORIES} is absent (the real tokenizer they need)`);

const root = mkdtempSync(join(tmpdir(), 'ps-long-'));
let qwenDir: string;

beforeAll(async () => {
  qwenDir = (await compileModel({ checkpointDir: tinyCheckpoint('qwen3'), cacheRoot: root, options: { requireTokenizer: false } })).dir;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI as a user would; the allocator variable is set so the launcher does not re-spawn. */
function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, '--data-dir', join(root, 'data'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
    maxBuffer: 1 << 24,
  });
}

/** stderr without the compile progress bar the first use of a checkpoint prints. */
const messages = (stderr: string) => stderr.split('\n').filter((l) => l.trim() && !l.startsWith('compiling'));

const onceUponATime = (times: number) => 'once upon a time '.repeat(times);

describe('a long command line', () => {
  it('does not kill a process whose engine worker starts onnxruntime (60,000 characters)', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(HERE, 'test-support', 'load-with-long-argv.ts'), qwenDir, 'x'.repeat(60_000)],
      {
        encoding: 'utf8',
        cwd: REPO,
      },
    );
    expect({ signal: child.signal, status: child.status, stderr: child.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(child.stdout).toMatch(/^loaded on cpu/);
  });

  it.skipIf(!haveStories)("a 17,000-character prompt over stories260K's 512 positions is refused in one line", () => {
    const r = cli(['generate', '--model', STORIES, '--raw', '--prompt', onceUponATime(1000), '--greedy', '--max-new-tokens', '5']);
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0);
    expect(messages(r.stderr)).toHaveLength(1);
    expect(messages(r.stderr)[0]).toMatch(/prompt of 5002 tokens \+ 5 new tokens exceeds the model's 512 positions/);
  });

  it.skipIf(!haveStories)('a 51,000-character prompt runs on a tiny Qwen3 with 40,960 positions', () => {
    // One layer and one head keep the 15,002-token prefill to a few seconds; the tokenizer is
    // stories260K's (vocabulary 512), the config is Qwen3-0.6B's otherwise.
    const ckpt = ensureRandomCheckpoint(
      join(root, 'qwen3-40960'),
      {
        ...QWEN3_06B_CONFIG,
        vocab_size: 512,
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 1,
        num_attention_heads: 1,
        num_key_value_heads: 1,
        head_dim: 16,
        bos_token_id: 1,
        eos_token_id: 2,
      },
      'F32',
    );
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(STORIES, f), join(ckpt, f));
    const prompt = onceUponATime(3000);
    expect(prompt.length).toBe(51_000);
    const r = cli(['generate', '--model', ckpt, '--raw', '--prompt', prompt, '--greedy', '--max-new-tokens', '5', '--json']);
    expect({ signal: r.signal, status: r.status, messages: messages(r.stderr) }).toEqual({ signal: null, status: 0, messages: [] });
    const out = JSON.parse(r.stdout) as { promptTokens: number[]; generatedTokens: number[]; finish: string };
    expect(out.promptTokens).toHaveLength(15_002);
    expect(out.generatedTokens).toHaveLength(5);
    expect(out.finish).toBe('length');
  });
});

describe('chunked prefill', () => {
  it('bounds each run: the one-shot prefill when it fits, chunks beyond', () => {
    expect(prefillChunkSize(1, 16, 512)).toBe(512);
    // Qwen3-0.6B's 16 heads at 15,104 slots: 64 MiB / (16 · 15,104 · 4 bytes) = 69 tokens a run
    expect(prefillChunkSize(1, 16, 15_104)).toBe(69);
    expect(prefillChunkSize(64, 16, 40_960)).toBe(1);
  });

  it('gives the one-shot result: left padding, steering, ablation and monitors across chunk boundaries', async () => {
    const model = await CompiledModel.load(qwenDir, { provider: 'cpu', threads: 1 });
    try {
      const hidden = model.arch.hidden;
      const v = Float32Array.from({ length: hidden }, (_, i) => ((i * 7) % 5) - 2);
      const u = Float32Array.from({ length: hidden }, (_, i) => ((i * 3) % 4) - 1.5);
      const ids = (n: number, k: number) => Array.from({ length: n }, (_, i) => (i * k + 5) % 90);
      const rows: GenerateRow[] = [
        { prompt: ids(200, 7), sampling: { greedy: true }, monitor: { layer: 1, vector: v } },
        {
          prompt: ids(137, 11),
          sampling: { temperature: 1, seed: 3 },
          steering: { terms: [{ vectors: new Map([[1, v]]), alpha: 1.5, scale: 'raw' }] },
          monitor: { layer: 2, vector: u },
        },
        { prompt: ids(61, 13), sampling: { greedy: true }, steering: { ablate: [{ vectors: new Map([[0, u]]) }] } },
      ];
      const run = (prefillChunk: number) => generate(model, { rows, maxNewTokens: 20, stopTokenIds: [], prefillChunk });
      const whole = await run(200);
      const forward = model.forward.bind(model);
      const seqs: number[] = [];
      model.forward = (x) => {
        seqs.push(x.seq);
        return forward(x);
      };
      const chunked = await run(16);
      expect(seqs.slice(0, 13)).toEqual([...Array(12).fill(16), 8]); // 200 = 12 × 16 + 8, then decode steps
      for (const [r, row] of whole.rows.entries()) {
        expect(chunked.rows[r]!.tokens).toEqual(row.tokens);
        expect(chunked.rows[r]!.projections).toHaveLength(row.projections.length);
        chunked.rows[r]!.projections.forEach((p, i) => expect(p).toBeCloseTo(row.projections[i]!, 4));
      }
    } finally {
      await model.release();
    }
  });
});
