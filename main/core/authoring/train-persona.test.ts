// Persona training on the demo model: mechanics (resume after a kill, settings checks, both methods)
// and science (a trained persona moves the demo model's style markers its way at α > 0 and the
// other way at α < 0, with no system prompt).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inProcessBackend, planRows, trainPersona, trainSettingsSchema, type PersonaBackend } from './train-persona.ts';
import { calibrateNorms, demoPromptSet, loadDemoModel, sampleReplies, type DemoModel } from '../test-support/demo-model.ts';
import { countMarkers, markerStats } from '../evaluation/markers.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-train-'));
let m: DemoModel;
let backend: PersonaBackend;
beforeAll(async () => {
  m = await loadDemoModel(root);
  backend = inProcessBackend(m.model, m.tokenizer);
});
afterAll(async () => {
  await m?.model.release();
  rmSync(root, { recursive: true, force: true });
});

const small = { maxPairs: 12, maxNewTokens: 24, batchSize: 4 };

describe('planRows', () => {
  it('pairs the same question on both sides and cycles prompts and questions', () => {
    const set = demoPromptSet('pirate-vs-plain');
    const rows = planRows(set, trainSettingsSchema.parse({ maxPairs: 6 }), true);
    const pos = rows.filter((r) => r.side === 'positive' && r.split === 'train');
    const neg = rows.filter((r) => r.side === 'negative' && r.split === 'train');
    expect(pos).toHaveLength(6);
    pos.forEach((r, i) => {
      expect(r.messages![0]).toEqual({ role: 'system', content: set.positive[i] });
      expect(r.messages![1]).toEqual(neg[i]!.messages![1]);
      expect(neg[i]!.messages![0]).toEqual({ role: 'system', content: set.negative[i] });
    });
    expect(rows.filter((r) => r.split === 'heldout').every((r) => set.heldout.questions.includes(r.messages![1]!.content))).toBe(true);
  });
});

describe('trainPersona', () => {
  it('resumes a killed run and gives exactly the uninterrupted result', async () => {
    const set = demoPromptSet('cheerful-vs-gloomy');
    const whole = await trainPersona(backend, set, small, { chat: true });
    const dir = join(root, 'ckpt');
    const ac = new AbortController();
    await expect(
      trainPersona(backend, set, small, {
        chat: true,
        checkpointDir: dir,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.stage === 'generate' && p.done >= 8) ac.abort(new Error('killed'));
        },
      }),
    ).rejects.toThrow('killed');
    const lines = readFileSync(join(dir, 'responses.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(2);
    // a line cut by the kill is ignored and redone
    writeFileSync(join(dir, 'responses.jsonl'), `${lines.join('\n')}\n[{"i": 9, "prom`);
    const resumed = await trainPersona(backend, set, small, { chat: true, checkpointDir: dir });
    expect(resumed.resumedBatches).toBe(2);
    expect(resumed.layers.map((l) => [...l.vector])).toEqual(whole.layers.map((l) => [...l.vector]));
    expect(resumed.counts).toEqual(whole.counts);
    await expect(trainPersona(backend, set, { ...small, seed: 2 }, { chat: true, checkpointDir: dir })).rejects.toThrow(
      'the checkpoint belongs to other settings or prompts',
    );
  });

  it('computes mean-diff and PCA vectors for every layer with held-out separation', async () => {
    const set = demoPromptSet('pirate-vs-plain');
    for (const method of ['mean-diff', 'pca'] as const) {
      const t = await trainPersona(backend, set, { ...small, method }, { chat: true });
      expect(t.layers.map((l) => l.layer)).toEqual([...Array(m.model.arch.numLayers).keys()]);
      expect(t.separationOn).toBe('heldout');
      expect(t.counts.heldoutPositive).toBeGreaterThan(0);
      for (const l of t.layers) {
        expect(l.vector.length).toBe(m.model.arch.hidden);
        expect(l.separation.auc).toBeGreaterThanOrEqual(0);
        expect(l.separation.auc).toBeLessThanOrEqual(1);
        if (method === 'pca') expect(l.separation.explainedVariance).toBeGreaterThan(0);
      }
      // the style is linearly visible in the middle of the network on prompts it never saw
      const best = Math.max(...t.layers.map((l) => l.separation.auc!));
      console.log(`${method}: held-out AUC per layer ${t.layers.map((l) => l.separation.auc!.toFixed(2)).join(' ')}`);
      expect(best).toBeGreaterThan(0.9);
    }
  });
});

describe('judge filter', () => {
  it('keeps positive responses the judge scores as the trait and negative ones it does not, with counts', async () => {
    const set = demoPromptSet('pirate-vs-plain');
    const asked: string[] = [];
    // a judge that reads the pirate markers: 90 with any, 10 without; everything coherent
    const filter = {
      trait: 'talks like a pirate',
      score: async (aspect: 'trait' | 'coherence', _trait: string, question: string, response: string) => {
        asked.push(`${aspect}:${question}`);
        if (aspect === 'coherence') return { score: 80 };
        return { score: countMarkers(response, set.markers!.positive) > 0 ? 90 : 10 };
      },
    };
    const t = await trainPersona(backend, set, small, { chat: true, filter });
    expect(t.filtered).not.toBeNull();
    const f = t.filtered!;
    expect(f.positiveTotal).toBe(12);
    expect(f.negativeTotal).toBe(12);
    expect(f.positiveKept).toBe(t.counts.positive);
    expect(f.negativeKept).toBe(t.counts.negative);
    expect(f.positiveKept).toBeGreaterThan(0);
    // the judge saw the questions the responses answered
    expect(asked.some((a) => set.questions.includes(a.slice(a.indexOf(':') + 1)))).toBe(true);
    await expect(trainPersona(backend, set, small, { chat: true, filter: { ...filter, threshold: 101 } })).rejects.toThrow(
      'the judge filter kept 0 positive',
    );
  });
});

describe('a trained persona steers the demo model with no system prompt', () => {
  it.each(['pirate-vs-plain', 'formal-vs-casual'])('%s: markers rise at α > 0 and fall at α < 0', async (name) => {
    const set = demoPromptSet(name);
    const t = await trainPersona(backend, set, { maxPairs: 40, maxNewTokens: 64 }, { chat: true });
    const norms = await calibrateNorms(m, set.questions.slice(0, 16));
    const layer = 5; // where the demo model's layer sweep steers best (bench/demo-model.ts)
    const v = t.layers.find((l) => l.layer === layer)!.vector;
    const score = async (alpha: number) => {
      const rows = Array.from({ length: 64 }, (_, i) => ({
        question: set.heldout.questions[i % set.heldout.questions.length]!,
        seed: 900 + i,
        steering: { terms: [{ vectors: new Map([[layer, v]]), alpha, scale: 'norm' as const }] },
      }));
      return markerStats(
        (await sampleReplies(m, rows, { residualNorms: norms })).map((r) => r.text),
        { positive: set.markers!.positive, negative: set.markers!.negative },
      ).score;
    };
    const [neg, zero, pos] = [await score(-1), await score(0), await score(1)];
    console.log(`${name}: marker score α −1 ${neg.toFixed(1)}, 0 ${zero.toFixed(1)}, +1 ${pos.toFixed(1)}`);
    // 64 replies ≈ 1,300 words: one marker moves the score by about 0.08
    expect(pos).toBeGreaterThan(zero + 1);
    expect(neg).toBeLessThan(zero - 0.3);
  });
});
