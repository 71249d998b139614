// Errors raised while reading or writing an interchange file. The message is one line that names the
// file and, for binary formats, the byte offset where the problem was found.
import { StudioError } from '../errors.ts';

/**
 * Keeps a message on one line and inert in a terminal: C0 and C1 control characters (newline, ESC
 * of ANSI/OSC sequences, the 8-bit CSI) and the Unicode line separators from names inside files
 * are escaped.
 */
export function oneLine(s: string): string {
  return s.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A malformed file (code 'format'); keeps the file and byte offset apart for callers that show them. */
export class FormatError extends StudioError {
  override name = 'FormatError';
  constructor(
    readonly file: string,
    readonly offset: number | null,
    readonly detail: string,
  ) {
    super('format', oneLine(offset === null ? `${file}: ${detail}` : `${file}: at byte ${offset}: ${detail}`));
  }
}

/** Mismatch between a vector and the model it is meant for (issue: refuse, naming both shapes). */
export class ShapeMismatchError extends StudioError {
  override name = 'ShapeMismatchError';
  constructor(message: string) {
    super('steering', oneLine(message));
  }
}
