// Science on real pretrained weights: a persona trained from contrastive story openings on
// stories260K (TinyStories) moves the word frequencies of its stories the expected way.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileModel } from '../../../native-models/compile.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { CompiledModel } from '../engine/model.ts';
import { generateText } from '../engine/text-generation.ts';
import { residualNorms } from '../engine/capture.ts';
import { countMarkers } from '../evaluation/markers.ts';
import { inProcessBackend, trainPersona } from './train-persona.ts';
import { parsePromptSetFile } from './prompt-set-file.ts';

const STORIES = resolve(import.meta.dirname, '../../../../shared/models/stories260K');
const missing = existsSync(join(STORIES, 'config.json')) ? null : `${STORIES} is absent`;
if (missing) console.log(`skipping the stories260K persona test: ${missing}`);

const root = mkdtempSync(join(tmpdir(), 'ps-stories-'));
let model: CompiledModel;
let tok: TextTokenizer;
beforeAll(async () => {
  if (missing) return;
  const { dir } = await compileModel({ checkpointDir: STORIES, cacheRoot: root });
  model = await CompiledModel.load(dir, { provider: 'cpu', threads: 2 });
  tok = TextTokenizer.load(dir);
});
afterAll(async () => {
  await model?.release();
  rmSync(root, { recursive: true, force: true });
});

const NAMES = ['Lily', 'Tom', 'Ben', 'Sue', 'Max', 'Amy', 'Tim', 'Mia', 'Sam', 'Zoe'];
const HAPPY = ['happy', 'smiled', 'laughed', 'fun', 'glad'];
const SAD = ['sad', 'cried', 'cry', 'upset', 'scared'];

describe.skipIf(missing !== null)('stories260K: a happy ↔ sad persona from story openings', () => {
  it('raises happy words and lowers sad ones at α > 0, the reverse at α < 0', async () => {
    const set = parsePromptSetFile(
      {
        format: 'persona-studio/prompt-set',
        version: 1,
        name: 'happy-vs-sad',
        kind: 'prompts',
        positive: NAMES.map(
          (n) => `Once upon a time, ${n} was very happy. ${n} smiled and laughed and played all day. It was a happy day.`,
        ),
        negative: NAMES.map((n) => `Once upon a time, ${n} was very sad. ${n} cried and cried all day. It was a sad day.`),
      },
      'stories',
    );
    // no chat template: the prompts are raw text, the responses their continuations
    const t = await trainPersona(inProcessBackend(model, tok), set, { maxPairs: 10, maxNewTokens: 48 }, { chat: false });
    const norms = await residualNorms(
      model,
      [
        'Once upon a time, there was a little girl named Lily. She liked to play outside with her dog.',
        'One day, Tom went to the park with his mom. They saw a big tree and a bird.',
      ].map((s) => tok.encode(s)),
    );
    // Layer 3 of 5; this tiny model breaks from |α| ≈ 0.5 (norm scale), so the steps are small.
    const layer = 3;
    const score = async (alpha: number) => {
      const r = await generateText(model, tok, {
        rows: Array.from({ length: 64 }, (_, i) => ({
          prompt: { text: 'Once upon a time' },
          sampling: { temperature: 0.8, seed: 100 + i },
          steering: { terms: [{ vectors: new Map([[layer, t.layers[layer]!.vector]]), alpha, scale: 'norm' as const }] },
        })),
        maxNewTokens: 60,
        residualNorms: norms,
      });
      const happy = r.rows.reduce((s, x) => s + countMarkers(x.text, HAPPY), 0);
      const sad = r.rows.reduce((s, x) => s + countMarkers(x.text, SAD), 0);
      return { happy, sad, score: happy - sad };
    };
    const [neg, zero, pos] = [await score(-0.3), await score(0), await score(0.3)];
    console.log(
      `stories260K layer ${layer}: happy−sad word counts over 64 stories: α −0.3 ${neg.happy}−${neg.sad}, 0 ${zero.happy}−${zero.sad}, +0.3 ${pos.happy}−${pos.sad}`,
    );
    expect(pos.happy).toBeGreaterThan(zero.happy);
    expect(pos.score).toBeGreaterThan(zero.score + 3);
    expect(neg.score).toBeLessThan(zero.score);
  });
});
