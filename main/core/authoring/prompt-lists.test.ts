import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPromptList, splitHeldOut } from './prompt-lists.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-lists-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const p = join(root, name);
  writeFileSync(p, content);
  return p;
};

describe('prompt lists', () => {
  it('reads text, JSON, JSONL and Alpaca records', () => {
    expect(readPromptList(file('a.txt', '\uFEFFBe formal.\r\n\n  Be polite.  \n'))).toEqual(['Be formal.', 'Be polite.']);
    expect(readPromptList(file('a.json', JSON.stringify(['x', { text: 'y' }, { prompt: 'z' }, { question: 'q' }])))).toEqual([
      'x',
      'y',
      'z',
      'q',
    ]);
    expect(
      readPromptList(
        file('a.jsonl', '"x"\n{"instruction": "Add", "input": "2 and 3", "output": "5"}\n\n{"instruction": "Hi", "input": ""}\n'),
      ),
    ).toEqual(['x', 'Add\n\n2 and 3', 'Hi']);
    expect(readPromptList(file('alpaca.json', JSON.stringify([{ instruction: 'Sum', input: '1, 2', output: '3' }])))).toEqual([
      'Sum\n\n1, 2',
    ]);
  });

  it.each([
    ['empty.txt', '\n \n', 'empty.txt: has no prompts'],
    ['bin.txt', Buffer.from([0x41, 0, 0x42]), 'bin.txt: is binary (it contains NUL bytes), not a prompt file'],
    ['latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'latin1.txt: is not UTF-8 text'],
    ['bad.json', '[1,', 'bad.json: is not JSON'],
    ['obj.json', '{"a": 1}', 'obj.json: expected a JSON array of prompts or records'],
    ['set.json', '{"format": "persona-studio/prompt-set"}', 'set.json: is a prompt-set file'],
    ['num.json', '[3]', 'num.json: entry 0: expected a string or a record, got number'],
    ['rec.jsonl', '{"output": "x"}', 'rec.jsonl: line 1: a record needs a "text", "prompt", "question" or "instruction" string field'],
    ['broken.jsonl', '"ok"\n{', 'broken.jsonl: line 2: not JSON'],
    ['huge.txt', 'x'.repeat(20_001), 'huge.txt: line 1: a prompt of 20001 characters (at most 20000)'],
  ])('refuses %s in one line', (name, content, message) => {
    const p = file(name, content);
    expect(() => readPromptList(p)).toThrow(message);
    try {
      readPromptList(p);
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message.startsWith(p)).toBe(true);
    }
  });

  it('refuses a folder and a missing file', () => {
    expect(() => readPromptList(root)).toThrow('is not a regular file');
    expect(() => readPromptList(join(root, 'nope.txt'))).toThrow('nope.txt: no such file');
  });

  it('splits held-out entries deterministically', () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    expect(splitHeldOut(xs, 0.2)).toEqual({ train: [0, 1, 2, 3, 5, 6, 7, 8], heldout: [4, 9] });
    expect(splitHeldOut([1, 2, 3], 0.5)).toEqual({ train: [1, 2, 3], heldout: [] });
    expect(splitHeldOut(xs, 0)).toEqual({ train: xs, heldout: [] });
    expect(() => splitHeldOut(xs, 1)).toThrow('held-out fraction 1 is not in [0, 1)');
  });
});
