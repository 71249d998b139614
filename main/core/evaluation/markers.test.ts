import { describe, it, expect } from 'vitest';
import { countMarkers, markerStats, words } from './markers.ts';

describe('lexical markers', () => {
  it('match whole words and phrases, case-insensitively', () => {
    expect(words("Arr, matey! Th' sea be grand.")).toEqual(['arr', 'matey', "th'", 'sea', 'be', 'grand']);
    expect(countMarkers('Arr, MATEY! arrr is not arr.', ['arr', 'matey'])).toBe(3);
    expect(countMarkers('In other words, in other words.', ['in other words'])).toBe(2);
    expect(countMarkers('other words in', ['in other words'])).toBe(0);
    expect(countMarkers('heyday', ['hey'])).toBe(0);
    expect(countMarkers('anything', [''])).toBe(0);
  });

  it('rates per 100 words, score = positive − negative', () => {
    const s = markerStats(['Sadly it rains.', 'What a wonderful day it is, sadly.'], { positive: ['wonderful'], negative: ['sadly'] });
    expect(s.words).toBe(10);
    expect(s.positiveRate).toBeCloseTo(10);
    expect(s.negativeRate).toBeCloseTo(20);
    expect(s.score).toBeCloseTo(-10);
    expect(s.meanWords).toBe(5);
    expect(markerStats([], { positive: ['a'], negative: [] }).score).toBe(0);
  });
});
