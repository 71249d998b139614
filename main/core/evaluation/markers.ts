// Lexical trait markers: how often a reply uses the words or phrases that signal a style (a prompt
// set's `markers`). A cheap, judge-free measure that is exact on the demo model, whose styles have
// fixed lexical signatures, and a useful sanity signal on real models.

/** Words of a text: lower-case runs of letters, digits and apostrophes. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9']+/g) ?? [];
}

/** Occurrences of each marker (a word or a phrase of words) in `text`, matched on whole words. */
export function countMarkers(text: string, markers: readonly string[]): number {
  const w = words(text);
  let n = 0;
  for (const m of markers) {
    const mw = words(m);
    if (mw.length === 0) continue;
    for (let i = 0; i + mw.length <= w.length; i++) {
      let ok = true;
      for (let j = 0; j < mw.length && ok; j++) ok = w[i + j] === mw[j];
      if (ok) n++;
    }
  }
  return n;
}

export interface MarkerStats {
  replies: number;
  words: number;
  /** Marker occurrences per 100 words over all replies together. */
  positiveRate: number;
  negativeRate: number;
  /** positiveRate − negativeRate: rises as replies move toward the positive pole. */
  score: number;
  /** Mean words per reply. */
  meanWords: number;
}

export function markerStats(
  replies: readonly string[],
  markers: { positive: readonly string[]; negative: readonly string[] },
): MarkerStats {
  let total = 0;
  let pos = 0;
  let neg = 0;
  for (const r of replies) {
    total += words(r).length;
    pos += countMarkers(r, markers.positive);
    neg += countMarkers(r, markers.negative);
  }
  const per100 = (n: number) => (total === 0 ? 0 : (100 * n) / total);
  return {
    replies: replies.length,
    words: total,
    positiveRate: per100(pos),
    negativeRate: per100(neg),
    score: per100(pos) - per100(neg),
    meanWords: replies.length === 0 ? 0 : total / replies.length,
  };
}
