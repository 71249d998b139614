// The make-and-steer commands end to end on the demo model, in-process: personas train (resumable,
// from a prompt-set file or from plain prompt files), personas show, generate --persona, compare.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './test-support/run-cli.ts';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR } from '../core/test-support/demo-model.ts';
import { parsePersonaArg } from '../core/steering/persona-steering.ts';
import { parseLayers } from '../core/steering/layers.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-steer-cli-'));
const dataDir = join(root, 'data');
const run = (...argv: string[]) => runCli(dataDir, argv);
const runWith = (stdin: string[], ...argv: string[]) => runCli(dataDir, argv, stdin);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('steering arguments', () => {
  it('P=α splits at the last = only before a number', () => {
    expect(parsePersonaArg('pirate=1.5')).toEqual({ ref: 'pirate', alpha: 1.5 });
    expect(parsePersonaArg('a=b')).toEqual({ ref: 'a=b', alpha: null });
    expect(parsePersonaArg('x=-0.5')).toEqual({ ref: 'x', alpha: -0.5 });
    expect(() => parsePersonaArg('x=5000')).toThrow('outside -1000..1000');
  });
  it('one layer grammar', () => {
    expect(parseLayers('all', 3)).toEqual([0, 1, 2]);
    expect(parseLayers('2,4-6', 8)).toEqual([2, 4, 5, 6]);
    expect(() => parseLayers('5-3', 8)).toThrow('runs backwards');
    expect(() => parseLayers('8', 8)).toThrow("layer 8 is outside this model's layers 0-7");
    expect(() => parseLayers('x', 8)).toThrow('expected all, b, a-b or a comma list');
  });
});

describe('personas train → show → generate --persona → compare', () => {
  beforeAll(async () => {
    const r = await run(
      'personas',
      'train',
      '--model',
      DEMO_MODEL_DIR,
      '--name',
      'pirate',
      '--prompt-set',
      join(PROMPT_SETS_DIR, 'pirate-vs-plain.json'),
      '--max-pairs',
      '16',
      '--max-new-tokens',
      '48',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
  });

  it('stored every layer with held-out separation, and shows it', async () => {
    const r = await run('personas', 'show', 'pirate', '--json');
    expect(r.code).toBe(0);
    const { vectors } = JSON.parse(r.out);
    expect(vectors[0].layers).toHaveLength(8);
    expect(vectors[0].layers[5].separation.auc).toBeGreaterThan(0.9);
    expect(vectors[0].method).toBe('mean-diff');
  });

  it('the prompts joined the library; training again from the stored set resumes from the checkpoint', async () => {
    const jobs = readdirSync(join(dataDir, 'jobs'));
    expect(jobs.some((j) => j.startsWith('train-'))).toBe(true);
    // --prompt-set by library name: the same prompts, so the same checkpoint
    const r = await run(
      'personas',
      'train',
      '--model',
      DEMO_MODEL_DIR,
      '--name',
      'pirate again',
      '--prompt-set',
      'pirate-vs-plain',
      '--max-pairs',
      '16',
      '--max-new-tokens',
      '48',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/resumed: \d+ generation batches were already done/);
    const { vectors } = JSON.parse((await run('personas', 'show', 'pirate again', '--json')).out);
    expect(vectors[0].provenance).toMatchObject({ promptSetVersion: 1 });
    expect(typeof vectors[0].provenance.promptSetId).toBe('string');
  });

  it('generate --persona steers (α 0 equals unsteered) and calibrates norms once', async () => {
    const base = ['generate', '--model', DEMO_MODEL_DIR, '--prompt', 'Describe bread for me.', '--seed', '3', '--json'];
    const plain = JSON.parse((await run(...base)).out);
    const zero = await run(...base, '--persona', 'pirate=0');
    expect(zero.code, zero.err).toBe(0);
    expect(JSON.parse(zero.out).generatedTokens).toEqual(plain.generatedTokens);
    const steered = JSON.parse((await run(...base, '--persona', 'pirate', '--alpha', '1')).out);
    expect(steered.generatedTokens).not.toEqual(plain.generatedTokens);
    expect(steered.steering).toEqual(['pirate α 1 (norm) at layer 5']);
    const models = join(dataDir, 'models');
    expect(readdirSync(models).some((d) => existsSync(join(models, d, 'residual-norms.json')))).toBe(true);
  });

  it('compare gives one column per α from one run, α 0 equal to the unsteered reply', async () => {
    const r = await run(
      'compare',
      '--model',
      DEMO_MODEL_DIR,
      '--prompt',
      'Describe bread for me.',
      '--persona',
      'pirate',
      '--alphas',
      '-1,0,1',
      '--seed',
      '3',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const c = JSON.parse(r.out);
    expect(c.columns.map((x: { alpha: number }) => x.alpha)).toEqual([-1, 0, 1]);
    const plain = JSON.parse(
      (await run('generate', '--model', DEMO_MODEL_DIR, '--prompt', 'Describe bread for me.', '--seed', '3', '--json')).out,
    );
    expect(c.columns[1].text).toBe(plain.text);
    expect(new Set(c.columns.map((x: { text: string }) => x.text)).size).toBe(3);
  });

  it('chat: streamed turns, commands between turns, a trait meter, bad commands cost one line', async () => {
    const r = await runWith(
      [
        'Tell me about owls.',
        '/alpha 1',
        '/layers 9',
        '/persona nobody',
        'Describe bread for me.',
        '/persona none',
        '/reset',
        'What makes tea special?',
        '/quit',
        'never read',
      ],
      'chat',
      '--model',
      DEMO_MODEL_DIR,
      '--persona',
      'pirate',
      '--alpha',
      '0',
      '--seed',
      '5',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('(α 1)');
    expect(r.out).toContain('(no persona)');
    expect(r.out).toContain('(conversation cleared)');
    expect(r.err).toMatch(/\/layers "9": layer 9 is outside this model's layers 0-7 \(steering\)/);
    expect(r.err).toMatch(/--persona "nobody": no persona has that id or name/);
    // two steered replies had a meter, the unsteered one none
    expect(r.err.match(/\[trait [+-]\d+\.\d\d/g)).toHaveLength(2);
    expect(r.out).toMatch(/tea/i);
    expect(r.out).not.toContain('never read');
  });

  it('personas create: the demo model cannot write the prompts, so the template is used and it says why', async () => {
    const r = await run(
      'personas',
      'create',
      '--model',
      DEMO_MODEL_DIR,
      '--name',
      'sunny',
      '--description',
      'cheerful and upbeat',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/the model's answer was refused: attempt 1: /);
    expect(r.err).toContain('using our template for "cheerful and upbeat"');
    const out = JSON.parse(r.out);
    expect(out.source).toBe('template');
    expect(out.set.positive).toContain('You are cheerful and upbeat.');
    expect(out.promptSet.version).toBe(1);
  });

  it('trains from plain prompt files too, and refuses bad input in one line', async () => {
    const pos = join(root, 'pos.txt');
    const neg = join(root, 'neg.txt');
    writeFileSync(pos, Array.from({ length: 10 }, (_, i) => `Talk like a pirate about topic ${i}.`).join('\n'));
    writeFileSync(neg, Array.from({ length: 10 }, (_, i) => `Speak plainly about topic ${i}.`).join('\n'));
    const ok = await run(
      'personas',
      'train',
      '--model',
      DEMO_MODEL_DIR,
      '--name',
      'files',
      '--positive',
      pos,
      '--negative',
      neg,
      '--max-pairs',
      '8',
      '--max-new-tokens',
      '16',
      '--method',
      'pca',
    );
    expect(ok.code, ok.err).toBe(0);
    writeFileSync(join(root, 'empty.txt'), '\n');
    const bad = await run(
      'personas',
      'train',
      '--model',
      DEMO_MODEL_DIR,
      '--name',
      'x',
      '--positive',
      join(root, 'empty.txt'),
      '--negative',
      neg,
    );
    expect(bad.code).toBe(4);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toContain('empty.txt: has no prompts');
    const missing = await run('generate', '--model', DEMO_MODEL_DIR, '--prompt', 'x', '--persona', 'nobody');
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('--persona "nobody": no persona has that id or name, and no such file');
  });
});
