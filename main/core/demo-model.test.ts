// The committed demo model (assets/demo-model) is the studio's test bed: it must chat, follow style
// system prompts it never saw, and — the point of the studio — be steerable toward a style by a
// persona direction built from contrastive system prompts, with no system prompt at all.
// Figures for the same measurements, with more samples, come from bench/demo-model.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextTokenizer } from '../../native-models/tokenizer/tokenizer.ts';
import { markerStats, words } from './evaluation/markers.ts';
import {
  DEMO_MODEL_DIR,
  calibrateNorms,
  demoPromptSet,
  directionFromSystemPrompts,
  loadDemoModel,
  sampleReplies,
  steerAt,
  type DemoModel,
  type ReplyRow,
} from './test-support/demo-model.ts';
import type { PromptSetFile } from './authoring/prompt-set-file.ts';
import { generate } from './engine/generate.ts';
import { exportQwen3Gguf } from '../../bench/engine/gguf-export.ts';
import { disposeLlamaCpp, llamaCppGreedy, llamaCppTokenize } from '../../native-models/test-support/llamacpp.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-demo-'));
let m: DemoModel;
let norms: Float32Array;
const SAMPLES = 32;

beforeAll(async () => {
  m = await loadDemoModel(root);
  console.log(`demo model: compiled in ${m.compileMs.toFixed(0)} ms, model and tokenizer loaded in ${m.loadMs.toFixed(0)} ms`);
  norms = await calibrateNorms(m, demoPromptSet('formal-vs-casual').questions);
});
afterAll(async () => {
  await m?.model.release();
  await disposeLlamaCpp();
  rmSync(root, { recursive: true, force: true });
});

const markersOf = (set: PromptSetFile) => ({ positive: set.markers?.positive ?? [], negative: set.markers?.negative ?? [] });
/** Held-out questions (unseen question frames), optionally under held-out system prompts. */
const rows = (set: PromptSetFile, systems: string[] | null, steering?: ReplyRow['steering'], samples = SAMPLES): ReplyRow[] =>
  Array.from({ length: samples }, (_, i) => ({
    system: systems ? systems[i % systems.length] : undefined,
    question: set.heldout.questions[i % set.heldout.questions.length]!,
    seed: 700 + i,
    steering,
  }));
const texts = async (r: ReplyRow[]) => (await sampleReplies(m, r, { residualNorms: norms })).map((x) => x.text);

describe('demo model files', () => {
  it('is a Qwen3 checkpoint under 10 MB with <|im_end|> as EOS everywhere and a plain ChatML template', () => {
    const config = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'config.json'), 'utf8'));
    const gen = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'generation_config.json'), 'utf8'));
    const tc = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'tokenizer_config.json'), 'utf8'));
    expect(config.architectures).toEqual(['Qwen3ForCausalLM']);
    expect(statSync(join(DEMO_MODEL_DIR, 'model.safetensors')).size).toBeLessThan(10e6);
    const tok = TextTokenizer.load(DEMO_MODEL_DIR);
    const imEnd = tok.encode('<|im_end|>', { addSpecialTokens: false });
    expect(imEnd).toHaveLength(1);
    expect(config.eos_token_id).toBe(imEnd[0]);
    expect(gen.eos_token_id).toBe(imEnd[0]);
    expect(tc.eos_token).toBe('<|im_end|>');
    expect(tok.eosIds).toContain(imEnd[0]);
    // No think block: the prompt is exactly what the model was trained on.
    expect(tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true, enableThinking: false })).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('tokenizer.json gives the same ids as the training side (bpe.py)', () => {
    const tok = TextTokenizer.load(DEMO_MODEL_DIR);
    const checks = JSON.parse(readFileSync(join(import.meta.dirname, '../../native-models/demo-model/tokenizer-check.json'), 'utf8')) as {
      text: string;
      ids: number[];
    }[];
    expect(checks.length).toBeGreaterThan(30);
    for (const c of checks) expect(tok.encode(c.text, { addSpecialTokens: false }), JSON.stringify(c.text)).toEqual(c.ids);
    for (const c of checks) expect(tok.decode(c.ids)).toBe(c.text);
  });
});

describe('demo model against llama.cpp (an independent implementation)', () => {
  // The demo model exported to an F32 GGUF (GPT-2's pre-tokenizer split, as its tokenizer.json
  // says) and run by llama.cpp through node-llama-cpp's prebuilt binary: the same tokens for text,
  // and the same greedy replies token for token, for chat prompts on held-out questions.
  let gguf: string;
  beforeAll(() => {
    gguf = exportQwen3Gguf({
      checkpointDir: DEMO_MODEL_DIR,
      out: join(root, 'demo-model.F32.gguf'),
      type: 'F32',
      tokenizerJson: join(DEMO_MODEL_DIR, 'tokenizer.json'),
    }).path;
  });
  it('tokenizes text as we do', async () => {
    const set = demoPromptSet('pirate-vs-plain');
    for (const text of [...set.heldout.questions.slice(0, 4), 'Numbers 1234 and 56, "quotes", émigrés — naïve?\n\nTwo lines.'])
      expect(await llamaCppTokenize(gguf, text), text).toEqual(m.tokenizer.encode(text, { addSpecialTokens: false }));
  });
  it('gives the same greedy replies, token for token', async () => {
    const set = demoPromptSet('formal-vs-casual');
    const prompts = [
      m.tokenizer.encodeChat([{ role: 'user', content: set.heldout.questions[0]! }], { addGenerationPrompt: true }),
      m.tokenizer.encodeChat(
        [
          { role: 'system', content: set.heldout.positive[0]! },
          { role: 'user', content: set.heldout.questions[1]! },
        ],
        { addGenerationPrompt: true },
      ),
    ];
    const eos = m.tokenizer.encode('<|im_end|>', { addSpecialTokens: false });
    for (const prompt of prompts) {
      const ours = (await generate(m.model, { rows: [{ prompt, sampling: { greedy: true } }], maxNewTokens: 48, stopTokenIds: eos }))
        .rows[0]!;
      const theirs = await llamaCppGreedy(gguf, prompt, 48);
      // Both stop at <|im_end|>: ours keeps it as the last token, node-llama-cpp does not yield it.
      expect(ours.finish).toBe('eos');
      expect(ours.tokens.length).toBeGreaterThan(8);
      expect(ours.tokens.slice(0, -1)).toEqual(theirs);
    }
  });
});

describe('demo model chats', () => {
  it('answers held-out questions about the asked topic and ends with EOS', async () => {
    const set = demoPromptSet('formal-vs-casual');
    const r = await sampleReplies(m, rows(set, null), { residualNorms: norms });
    const qs = rows(set, null).map((x) => x.question);
    const STOP = new Set([
      'what',
      'can',
      'you',
      'tell',
      'me',
      'about',
      'the',
      'a',
      'of',
      'to',
      'is',
      'i',
      'do',
      'for',
      'and',
      'on',
      'some',
      'how',
      'would',
      'describe',
      'comes',
      'mind',
      'when',
      'think',
      'makes',
      'special',
      'give',
      'information',
      'could',
      'little',
    ]);
    const eos = r.filter((x) => x.finish === 'eos').length;
    const onTopic = r.filter((x, i) => words(qs[i]!).some((w) => !STOP.has(w) && words(x.text).includes(w))).length;
    console.log(
      `held-out questions: ${eos}/${r.length} replies end with EOS, ${onTopic}/${r.length} share a content word with the question; e.g. ${JSON.stringify(qs[0])} → ${JSON.stringify(r[0]!.text)}`,
    );
    expect(eos).toBeGreaterThanOrEqual(0.9 * r.length);
    expect(onTopic).toBeGreaterThanOrEqual(0.75 * r.length);
  });
});

const AXES = ['formal-vs-casual', 'cheerful-vs-gloomy', 'pirate-vs-plain', 'verbose-vs-terse'] as const;

describe('style follows held-out system prompts, both poles of every axis', () => {
  it.each(AXES)('%s', async (name) => {
    const set = demoPromptSet(name);
    const mk = markersOf(set);
    const lengthAxis = name === 'verbose-vs-terse';
    const measure = (t: string[]) => (lengthAxis ? markerStats(t, mk).meanWords : markerStats(t, mk).score);
    const none = measure(await texts(rows(set, null)));
    const pos = measure(await texts(rows(set, set.heldout.positive)));
    const neg = measure(await texts(rows(set, set.heldout.negative)));
    console.log(
      `${name}: ${lengthAxis ? 'mean words' : 'marker score'} no system ${none.toFixed(1)}, positive ${pos.toFixed(1)}, negative ${neg.toFixed(1)}`,
    );
    if (lengthAxis) {
      expect(pos).toBeGreaterThan(none * 1.5);
      expect(neg).toBeLessThan(none * 0.75);
    } else {
      // scores are per 100 words: 5 is one marker every 20 words
      expect(pos).toBeGreaterThan(none + 5);
      expect(neg).toBeLessThan(none - 5);
    }
  });

  it('replies without a system prompt carry no style', async () => {
    const all = AXES.flatMap((n) => [...(demoPromptSet(n).markers?.positive ?? []), ...(demoPromptSet(n).markers?.negative ?? [])]);
    const s = markerStats(await texts(rows(demoPromptSet('formal-vs-casual'), null)), { positive: all, negative: [] });
    console.log(`no system prompt: ${s.positiveRate.toFixed(2)} style markers per 100 words`);
    expect(s.positiveRate).toBeLessThan(2);
  });
});

// α in the norm scale (α × the layer's typical residual norm × the unit direction). Layer 5 of 8 is
// where bench/demo-model.ts's layer sweep steered best; |α| 1 moves three axes both ways, at a cost
// in fluency this toy model shows early (its table and samples are in assets/demo-model/README.md).
export const STEER_LAYER = 5;
const STEER_ALPHAS = [-1, 0, 1];
describe('a persona direction from contrastive system prompts steers with no system prompt', () => {
  it.each(['pirate-vs-plain', 'cheerful-vs-gloomy', 'formal-vs-casual'] as const)(
    '%s: α < 0 < α moves the marker score monotonically',
    async (name) => {
      const set = demoPromptSet(name);
      const dir = await directionFromSystemPrompts(m, set, 2);
      const layer = STEER_LAYER;
      const scores: number[] = [];
      for (const a of STEER_ALPHAS)
        scores.push(markerStats(await texts(rows(set, null, steerAt(dir, layer, a), 2 * SAMPLES)), markersOf(set)).score);
      console.log(`${name} at layer ${layer}: marker score ${STEER_ALPHAS.map((a, i) => `α ${a}: ${scores[i]!.toFixed(1)}`).join(', ')}`);
      // 64 replies are about 1,300 words, so one marker moves the score by about 0.08. The negative
      // poles (plain, gloomy, casual) are reached less strongly than the positive ones: the sweep's table
      // shows the same asymmetry.
      expect(scores[1]! - scores[0]!).toBeGreaterThan(0.3);
      expect(scores[2]! - scores[1]!).toBeGreaterThan(1);
    },
  );
});
