// CLI failures print one line and exit with the code's documented status (specs.ts EXIT_CODES_HELP,
// README); PERSONA_STUDIO_DEBUG=1 adds the stack.
import { errorCode, type ErrorCode } from '../core/errors.ts';

export const EXIT_CODES: Record<ErrorCode, number> = {
  internal: 1,
  usage: 2,
  'not-found': 3,
  format: 4,
  config: 5,
  'model-load': 6,
  steering: 7,
  cancelled: 8,
  resource: 9,
  conflict: 10,
  network: 11,
};

/**
 * Keeps a message on one line whatever it quotes (file names and values may hold newlines): a newline
 * becomes a space, any other control character (C0, DEL, C1) or line separator a \\u escape.
 */
const oneLine = (s: string) =>
  s.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => (c === '\n' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

export function reportError(e: unknown, stderr: (s: string) => void): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = errorCode(e);
  const message = err.message || err.name || 'unknown error';
  const detail = process.env.PERSONA_STUDIO_DEBUG === '1' ? (err.stack ?? message) : oneLine(message.split('\n')[0]!);
  stderr(`persona-studio: ${detail}\n`);
  return EXIT_CODES[code];
}
