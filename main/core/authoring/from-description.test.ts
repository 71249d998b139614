// Personas from a description: the strict parser on hand-written model-like answers, the retry and
// the template fallback with its reasons, and the real demo model (which cannot follow the
// meta-prompt, so the template takes over — and says why).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDescription, fromTemplate, metaPrompt, parseGenerated, promptSetFromDescription } from './from-description.ts';
import { loadDemoModel } from '../test-support/demo-model.ts';
import { generateText } from '../engine/text-generation.ts';

const good = {
  positive: [
    'Be formal and professional.',
    'Use a formal tone.',
    'Write like a business letter.',
    'Address the user courteously.',
    'Keep a professional register.',
  ],
  negative: ['Be casual.', 'Talk like a friend.', 'Use slang.', 'Keep it relaxed.', 'No formality.'],
  questions: [
    'How do I write a cover letter?',
    'What is a good lunch?',
    'How do trains work?',
    'Tell me about tea.',
    'How do I plan a trip?',
  ],
};

describe('parsing a model-written prompt set', () => {
  it.each([
    ['bare JSON', JSON.stringify(good)],
    ['a ```json fence with prose around it', `Sure! Here it is:\n\`\`\`json\n${JSON.stringify(good, null, 2)}\n\`\`\`\nHope that helps.`],
    ['prose then JSON', `Here you go. ${JSON.stringify(good)}`],
  ])('accepts %s', (_name, text) => {
    const r = parseGenerated(text, 10);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.positive).toEqual(good.positive);
  });

  it.each([
    ['no JSON', 'I cannot do that.', 'no JSON object in the answer'],
    ['broken JSON', '{"positive": ["a", }', 'the JSON does not parse'],
    ['a missing field', JSON.stringify({ positive: good.positive, negative: good.negative }), 'questions: Invalid input'],
    ['an extra field', JSON.stringify({ ...good, eval: 'x' }), 'Unrecognized key'],
    ['wrong types', JSON.stringify({ ...good, positive: [1, 2, 3] }), 'positive.0: Invalid input'],
    [
      'too few prompts',
      JSON.stringify({ ...good, negative: ['Be casual.', 'Be casual.'] }),
      'negative: 1 distinct prompts, at least 5 needed',
    ],
    [
      'a prompt on both sides',
      JSON.stringify({ ...good, negative: [...good.negative, good.positive[0]] }),
      'the same prompt is on both sides',
    ],
    ['too few questions', JSON.stringify({ ...good, questions: ['Why?', 'How so?'] }), 'questions: 2 distinct, at least 4 needed'],
  ])('refuses %s, saying why', (_name, text, why) => {
    const r = parseGenerated(text, 10);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toContain(why);
  });
});

describe('promptSetFromDescription', () => {
  it('retries with a new seed and uses the first answer that parses, holding out a fifth', async () => {
    const seeds: number[] = [];
    const answers = ['not json', JSON.stringify(good)];
    const r = await promptSetFromDescription(
      async (prompt, seed) => {
        seeds.push(seed);
        expect(prompt).toBe(metaPrompt('formal and professional', 10));
        return answers.shift()!;
      },
      { name: 'formal', description: '  formal and\nprofessional ' },
    );
    expect(seeds).toEqual([1, 2]);
    expect(r.source).toBe('model');
    expect(r.refusals).toEqual(['attempt 1: no JSON object in the answer']);
    expect(r.set.positive.length + r.set.heldout.positive.length).toBe(5);
    expect(r.set.heldout.questions.length).toBe(1);
    expect(r.set.description).toBe('formal and professional');
  });

  it('falls back to the template for the same description — never another trait — and says why', async () => {
    const r = await promptSetFromDescription(async () => 'Arr!', { name: 'pirate', description: 'a pirate', attempts: 2 });
    expect(r.source).toBe('template');
    expect(r.refusals).toEqual(['attempt 1: no JSON object in the answer', 'attempt 2: no JSON object in the answer']);
    expect(r.set.positive).toContain('You are a pirate.');
    expect(r.set.positive.every((p) => p.includes('a pirate'))).toBe(true);
    expect(r.set.source).toMatch(/^template generic/);
    expect(fromTemplate('x', 'cheerful').heldout.questions.length).toBeGreaterThan(0);
  });

  it('refuses an empty or huge description in one line', () => {
    expect(() => checkDescription(' ')).toThrow('--description: expected 2 to 200 characters, got 0');
    expect(() => checkDescription('x'.repeat(201))).toThrow('got 201');
  });

  it('on the demo model (it was never taught to write JSON): the template, with the reasons', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ps-desc-'));
    const m = await loadDemoModel(root);
    try {
      const r = await promptSetFromDescription(
        async (prompt, seed) =>
          (
            await generateText(m.model, m.tokenizer, {
              rows: [{ prompt: { messages: [{ role: 'user', content: prompt }] }, sampling: { seed } }],
              maxNewTokens: 96,
            })
          ).rows[0]!.text,
        { name: 'cheerful', description: 'cheerful and upbeat' },
      );
      expect(r.source).toBe('template');
      expect(r.refusals).toHaveLength(3);
      expect(r.set.positive[0]).toBe('You are cheerful and upbeat.');
    } finally {
      await m.model.release();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
