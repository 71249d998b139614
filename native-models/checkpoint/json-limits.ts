// Limits for JSON that comes from files. V8's JSON.parse is iterative, but everything that walks the
// result afterwards (zod, JSON.stringify, structured clone) recurses, and a few megabytes of "[[[[…"
// become millions of nested objects: so nesting depth is checked on the text, before parsing.

/** Deepest array/object nesting the studio accepts in JSON read from a file. Real headers use 3. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first offset where `text` nests arrays/objects deeper than `max`, or -1. One linear pass,
 * no recursion, no allocation; strings (and escapes inside them) are skipped.
 */
export function jsonDepthExceeded(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}
