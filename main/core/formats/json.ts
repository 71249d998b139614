// JSON read from a file: nesting depth checked on the text first (see json-limits.ts), parsed once,
// and any failure reported as one FormatError naming the file.
import { jsonDepthExceeded, MAX_JSON_DEPTH } from '../../../native-models/checkpoint/json-limits.ts';
import { FormatError } from './errors.ts';

/** Parses `text` (the `what` of `file`, found at byte `offset` when known). */
export function parseFileJson(text: string, file: string, what: string, offset: number | null = null): unknown {
  if (jsonDepthExceeded(text) >= 0) throw new FormatError(file, offset, `${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, offset, `${what} is not valid JSON (${(e as Error).message})`);
  }
}
