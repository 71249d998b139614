import { describe, expect, it } from 'vitest';
import { wordDiff, words } from './word-diff.ts';

describe('wordDiff', () => {
  it('marks the words that are not in the base reply, keeping the text intact', () => {
    const parts = wordDiff('Islands are land in the sea.', 'Arr, islands be land in the sea!');
    expect(parts.map((p) => p.text).join('')).toBe('Arr, islands be land in the sea!');
    expect(parts.filter((p) => p.changed).map((p) => p.text.trim())).toEqual(['Arr, islands be', 'sea!']);
    expect(parts.find((p) => !p.changed)!.text).toBe('land in the ');
  });

  it('has nothing changed for the same reply, everything for an empty base', () => {
    expect(wordDiff('a b c', 'a b c')).toEqual([{ text: 'a b c', changed: false }]);
    expect(wordDiff('', 'a b')).toEqual([{ text: 'a b', changed: true }]);
    expect(wordDiff('a b', '')).toEqual([]);
    expect(words('  a  b\n')).toEqual(['  ', 'a  ', 'b\n']);
  });
});
