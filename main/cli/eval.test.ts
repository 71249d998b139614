// persona-studio eval end to end on the demo model, in-process: steered at the defaults (said so)
// and then at a sweep's stored recommendation, the steered replies more pirate than the unsteered
// ones, a rerun resuming from the checkpoint, a local judge's mechanics (the demo model cannot
// grade: no scores, counted), and the HTML/JSON/PDF reports (the HTML self-contained).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './test-support/run-cli.ts';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR } from '../core/test-support/demo-model.ts';
import { findChromium } from '../core/evaluation/report-pdf.ts';
import type { EvalReport } from '../core/evaluation/evaluate.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-eval-cli-'));
const dataDir = join(root, 'data');
const run = (...argv: string[]) => runCli(dataDir, argv);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const small = ['--max-new-tokens', '24', '--samples', '2'];

describe('eval flags', () => {
  it('names the flag in one line', async () => {
    let r = await run('eval', '--persona', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toBe('persona-studio: eval: --model is required\n');
    r = await run('eval', '--model', 'm', '--persona', 'x', '--report', 'out.txt');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--report "out.txt": expected a .html, .json or .pdf file name');
    r = await run('eval', '--model', 'm', '--persona', 'x', '--judge', 'ftp://x');
    expect(r.err).toContain('--judge "ftp://x": expected an http(s) URL');
    r = await run('eval', '--model', 'm', '--persona', 'x', '--judge-model', 'q');
    expect(r.err).toContain('--judge-model: needs --judge URL');
    r = await run('eval', '--model', 'm', '--persona', 'x', '--layer', '-1');
    expect(r.err).toContain('--layer -1: expected an integer from 0 to 4096');
    r = await run('help');
    expect(r.out).toContain('persona-studio eval --model M --persona P');
  });
});

describe('eval on the demo model (pirate)', () => {
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
      '24',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  let first: EvalReport;
  it('without a sweep: the default layer and α, said so; steered replies read more pirate', async () => {
    const out = join(root, 'eval.json');
    const r = await run('eval', '--model', DEMO_MODEL_DIR, '--persona', 'pirate', ...small, '--report', out, '--json');
    expect(r.code, r.err).toBe(0);
    first = JSON.parse(r.out) as EvalReport;
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(r.out));
    expect(first.steeredAt).toMatchObject({ layer: 5, alpha: 1, source: 'default', recommendation: null });
    expect(first.steeredAt.note).toContain('no sweep recommendation is stored');
    expect(first.questions.length).toBeGreaterThan(3);
    expect(first.samples).toHaveLength(first.questions.length * 2 * 2);
    const steered = first.steered[0]!;
    expect(steered.alpha).toBe(1);
    expect(steered.traitGain).toBeGreaterThan(0);
    expect(steered.kl).toBeGreaterThan(0);
    expect(steered.markerScore!).toBeGreaterThan(first.unsteered.markerScore!);
    expect(first.provenance).toMatchObject({ judge: null, model: { contentHash: expect.any(String) }, vectors: { seed: 1 } });
    // the same seeds in both columns
    const seeds = (a: number | null) => first.samples.filter((s) => s.alpha === a).map((s) => s.seed);
    expect(seeds(1)).toEqual(seeds(null));
  }, 180_000);

  it('a rerun resumes from the checkpoint and gives the same replies', async () => {
    const r = await run('eval', '--model', DEMO_MODEL_DIR, '--persona', 'pirate', ...small, '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/resumed: \d+ generation batches were already done/);
    const again = JSON.parse(r.out) as EvalReport;
    expect(again.samples).toEqual(first.samples);
    expect(again.steered).toEqual(first.steered);
    expect(readdirSync(join(dataDir, 'jobs')).filter((j) => j.startsWith('eval-'))).toHaveLength(1);
  }, 120_000);

  it('after a sweep: steers at the stored recommendation, with its rule; α curves and a local judge', async () => {
    const s = await run(
      'sweep',
      '--model',
      DEMO_MODEL_DIR,
      '--persona',
      'pirate',
      '--layers',
      '4-6',
      '--alphas',
      '0.5,1',
      '--max-new-tokens',
      '24',
      '--max-ppl-increase',
      '9',
      '--json',
    );
    expect(s.code, s.err).toBe(0);
    const rec = (JSON.parse(s.out) as { recommendation: { layer: number; alpha: number } }).recommendation;
    expect(rec.layer).not.toBeNull();
    const html = join(root, 'eval.html');
    const r = await run(
      'eval',
      '--model',
      DEMO_MODEL_DIR,
      '--persona',
      'pirate',
      '--alphas',
      '0.5,2',
      '--judge',
      'local',
      '--max-new-tokens',
      '16',
      '--report',
      html,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`steered at layer ${rec.layer}, α ${rec.alpha}: the stored recommendation of sweep`);
    // the demo model was never taught to grade: the judge runs and scores nothing, and says so
    expect(r.out).toMatch(/judge trait — coherence — \(0\/\d+ scored\)/);
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<(script|img|iframe|embed|object|audio|video|source)\b[^>]*\b(src|data)\s*=/i);
    expect(page).not.toMatch(/<link\b/i);
    expect(page.replace(/<script>[\s\S]*?<\/script>/, '')).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(page).toContain('Recommendation rule: the largest trait gain');
    expect(page).toContain("curves('curveTrait'");
    const D = JSON.parse(/const D = (.*);\n/.exec(page)![1]!) as { alphas: number[] };
    expect(D.alphas).toEqual([0, ...[0.5, rec.alpha, 2].filter((a, i, xs) => xs.indexOf(a) === i).sort((a, b) => a - b)]);
    expect(page).toContain('judge: replies scored');
    // the judge's answers are cached beside the checkpoint: a rerun asks nothing again
    const judged = readdirSync(join(dataDir, 'jobs')).filter((j) => existsSync(join(dataDir, 'jobs', j, 'judge.jsonl')));
    expect(judged).toHaveLength(1);
  }, 240_000);

  const chromium = findChromium();
  if (!chromium) console.log('eval --report out.pdf: skipped, no Chromium on this machine (set PERSONA_STUDIO_CHROMIUM)');
  it.skipIf(!chromium)(
    '--report out.pdf prints a real PDF with a headless Chromium',
    async () => {
      const pdf = join(root, 'eval.pdf');
      const r = await run(
        'eval',
        '--model',
        DEMO_MODEL_DIR,
        '--persona',
        'pirate',
        '--alphas',
        '0.5,2',
        '--judge',
        'local',
        '--max-new-tokens',
        '16',
        '--report',
        pdf,
      );
      expect(r.code, r.err).toBe(0);
      expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
      const pages = Number(/Pages:\s+(\d+)/.exec(info)![1]);
      expect(pages).toBeGreaterThanOrEqual(2);
      // a plot and the text made it onto the pages
      const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
      expect(text).toContain('Evaluation: pirate');
      expect(text).toContain('Samples side by side');
    },
    240_000,
  );

  it('--report out.pdf with no Chromium writes the HTML instead, says so in one line, exits 3', async () => {
    const pdf = join(root, 'none.pdf');
    const saved = { ...process.env };
    process.env.PATH = '/nonexistent';
    for (const k of ['PERSONA_STUDIO_CHROMIUM', 'CHROMIUM_PATH', 'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH']) delete process.env[k];
    try {
      expect(findChromium()).toBeNull();
      const r = await run('eval', '--model', DEMO_MODEL_DIR, '--persona', 'pirate', ...small, '--report', pdf);
      expect(r.code).toBe(3);
      expect(r.err).toContain('no Chromium to print a PDF with');
      expect(existsSync(join(root, 'none.html'))).toBe(true);
    } finally {
      process.env = saved;
    }
  }, 120_000);
});
