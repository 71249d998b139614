// Word-level differences between two replies, for the Compare screen's highlighting: the longest
// common subsequence of words (whitespace kept with the word before it), so each word of `text`
// is marked as shared with `base` or new. Replies are at most a few hundred words: O(n·m) is fine.

export interface DiffPart {
  text: string;
  /** True: not in the base reply at this point of the common sequence. */
  changed: boolean;
}

/** Words with their trailing whitespace (leading whitespace is its own piece). */
export function words(text: string): string[] {
  return text.match(/\s+|\S+\s*/g) ?? [];
}

const key = (w: string) => w.trim();

/** `text` split into runs of words shared with `base` and words that differ. */
export function wordDiff(base: string, text: string): DiffPart[] {
  const a = words(base);
  const b = words(text);
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the common sequence's length of a[i..] and b[j..]
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = key(a[i]!) === key(b[j]!) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const parts: DiffPart[] = [];
  const push = (w: string, changed: boolean) => {
    const last = parts[parts.length - 1];
    if (last && last.changed === changed) last.text += w;
    else parts.push({ text: w, changed });
  };
  let i = 0;
  let j = 0;
  while (j < m) {
    if (i < n && key(a[i]!) === key(b[j]!)) {
      push(b[j]!, false);
      i++;
      j++;
    } else if (i < n && lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else push(b[j++]!, true);
  }
  return parts;
}
