// Layer × α sweeps on the demo model: the recommendation is stable across seeds, a killed sweep
// resumes to the uninterrupted result, trait projection rises with α, and the HTML report is
// self-contained with one heatmap cell per (layer, α).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inProcessBackend, trainPersona } from '../authoring/train-persona.ts';
import { calibrateNorms, demoPromptSet, loadDemoModel, type DemoModel } from '../test-support/demo-model.ts';
import { inProcessSweepBackend, neutralPrompts, runSweep, type SweepInput, type SweepResult } from './sweep.ts';
import { reportHtml, reportJson, sweepReport } from './sweep-report.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-sweep-'));
let m: DemoModel;
let input: SweepInput;
beforeAll(async () => {
  m = await loadDemoModel(root);
  const set = demoPromptSet('pirate-vs-plain');
  const t = await trainPersona(inProcessBackend(m.model, m.tokenizer), set, { maxPairs: 16, maxNewTokens: 24 }, { chat: true });
  input = {
    vectors: new Map(t.layers.map((l) => [l.layer, l.vector])),
    questions: set.heldout.questions.slice(0, 6),
    neutralPrompts: neutralPrompts(m.tokenizer).slice(0, 4),
    markers: set.markers,
    residualNorms: await calibrateNorms(m, set.questions.slice(0, 8)),
    chat: true,
  };
}, 60_000);
afterAll(async () => {
  await m?.model.release();
  rmSync(root, { recursive: true, force: true });
});

// The demo model's unsteered replies are near-memorised (perplexity ≈ 1.1), so any style change
// multiplies it: the test's rule allows ×10 where the default allows ×1.5.
const grid = (seed: number) => ({
  layers: [...Array(8).keys()],
  alphas: [0.5, 1],
  maxNewTokens: 24,
  seed,
  rule: { maxPerplexityIncrease: 9, maxKl: 1 },
});
const backend = () => inProcessSweepBackend(m.model, m.tokenizer);
let first: SweepResult;

describe('runSweep on the demo model (pirate-vs-plain)', () => {
  it('recommends the same or an adjacent layer across two seeds, and projection rises with α', async () => {
    first = await runSweep(backend(), input, grid(1));
    const second = await runSweep(backend(), input, grid(2));
    const [a, b] = [first.recommendation, second.recommendation];
    console.log(`recommended: seed 1 layer ${a.layer} α ${a.alpha}; seed 2 layer ${b.layer} α ${b.alpha}`);
    expect(a.layer).not.toBeNull();
    expect(b.layer).not.toBeNull();
    expect(Math.abs(a.layer! - b.layer!)).toBeLessThanOrEqual(1);
    expect(a.rule).toContain('within 900%');
    for (const r of [first, second]) {
      expect(r.cells).toHaveLength(16);
      const gain = (alpha: number) => r.cells.filter((c) => c.alpha === alpha).map((c) => c.traitGain);
      const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      // α 1 moves every layer's replies toward the persona; on average α 1 > α 0.5 > unsteered
      expect(gain(1).every((g) => g > 0)).toBe(true);
      expect(avg(gain(1))).toBeGreaterThan(avg(gain(0.5)));
      expect(avg(gain(0.5))).toBeGreaterThan(0);
      // KL grows with α at every layer (the same neutral prompts, deterministic)
      for (const l of r.settings.layers) {
        const [k5, k1] = [0.5, 1].map((al) => r.cells.find((c) => c.layer === l && c.alpha === al)!.kl);
        expect(k1!).toBeGreaterThan(k5!);
      }
    }
  }, 120_000);

  it('resumes a killed sweep to exactly the uninterrupted result', async () => {
    const s = { ...grid(1), layers: [5, 6, 7], batchSize: 8 };
    const whole = await runSweep(backend(), input, s);
    const dir = join(root, 'ckpt');
    const ac = new AbortController();
    await expect(
      runSweep(backend(), input, s, {
        checkpointDir: dir,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.stage === 'generate' && p.done >= 16) ac.abort(new Error('killed'));
        },
      }),
    ).rejects.toThrow('killed');
    const lines = readFileSync(join(dir, 'responses.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    writeFileSync(join(dir, 'responses.jsonl'), `${lines.join('\n')}\n[{"i": 17, "prom`); // a line cut by the kill
    const resumed = await runSweep(backend(), input, s, { checkpointDir: dir });
    expect(resumed.resumedBatches).toBe(2);
    expect(resumed.samples).toEqual(whole.samples);
    expect(resumed.cells).toEqual(whole.cells);
    expect(resumed.recommendation).toEqual(whole.recommendation);
    await expect(runSweep(backend(), input, { ...s, seed: 3 }, { checkpointDir: dir })).rejects.toThrow('belongs to other settings');
  }, 120_000);

  it('writes a self-contained HTML report with one heatmap cell per (layer, α), and a JSON report', () => {
    const prov = {
      model: { name: 'demo', id: null, contentHash: null },
      persona: { name: 'pirate <b>', id: null, vectorId: null },
      questionsFrom: 'test',
      appVersion: 'test',
      createdAt: new Date(0).toISOString(),
      wallMs: 1,
    };
    const rep = sweepReport(first, prov);
    const html = reportHtml(rep);
    // Nothing is fetched: no element that loads a resource names one (plotly.js is inline; its own
    // source holds only links for map attributions, which this report never draws), and outside
    // plotly.js the report has no URL at all.
    expect(html).not.toMatch(/<(script|img|iframe|embed|object|audio|video|source)\b[^>]*\b(src|data)\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    const ownMarkup = html.replace(/<script>[\s\S]*?<\/script>/, '');
    expect(ownMarkup).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).toContain('Plotly.newPlot');
    expect(html.length).toBeGreaterThan(1_000_000);
    expect(html).toContain('pirate &#60;b&#62;');
    const data = JSON.parse(/const D = (.*);\n/.exec(html)![1]!) as { traitGain: number[][]; layers: number[]; alphas: number[] };
    expect(data.traitGain).toHaveLength(8);
    expect(data.traitGain.every((row) => row.length === 2)).toBe(true);
    expect(data.traitGain.flat()).toHaveLength(rep.settings.layers.length * rep.settings.alphas.length);
    const json = JSON.parse(reportJson(rep)) as { settings: unknown; samples: unknown[]; cells: unknown[] };
    expect(json.samples).toHaveLength((16 + 1) * 6);
    expect(json.settings).toMatchObject({ seed: 1, maxNewTokens: 24 });
  });
});
