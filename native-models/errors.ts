// The studio's one error type. Every failure a user can cause is a StudioError with a stable `code`
// and a one-line message naming the file, field or flag and the problem. Faces map the code: the CLI
// to an exit code (main/cli/errors.ts), the app to a message. It lives here, not in main, because
// native-models imports nothing of main; main re-exports it from main/core/errors.ts.
//
// Codes (stable; add one only for a failure a face must treat differently):
//   usage       bad arguments: an unknown flag or value, a missing required input, an ambiguous name
//   not-found   a named file, folder, model or persona does not exist
//   format      a file's content is malformed or from a newer version (checkpoint, vector file, archive, database)
//   config      a model's config.json is unsupported or inconsistent with its weights
//   model-load  a compiled model cannot be loaded or run (no model loaded, provider failure)
//   steering    a steering or vector request does not fit the model (layer out of range, wrong hidden size)
//   cancelled   the caller cancelled the work
//   resource    the work needs more memory, disk or positions than there are
//   conflict    refused to protect data: the folder is not ours, the library is open elsewhere, still in use
//   network     the model hub (or its mirror) cannot be reached or answered with an error
//   internal    anything else: a bug; the message is what we know
export const ERROR_CODES = [
  'usage',
  'not-found',
  'format',
  'config',
  'model-load',
  'steering',
  'cancelled',
  'resource',
  'conflict',
  'network',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class StudioError extends Error {
  override name = 'StudioError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isErrorCode = (v: unknown): v is ErrorCode => typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);

/** Node's system errors (fs, spawn) that have a studio meaning; the rest are internal. */
const SYSTEM_CODES: Record<string, ErrorCode> = {
  ENOENT: 'not-found',
  ENOTDIR: 'not-found',
  EISDIR: 'usage',
  EACCES: 'conflict',
  EPERM: 'conflict',
  EEXIST: 'conflict',
  ENOSPC: 'resource',
  ENOMEM: 'resource',
  EMFILE: 'resource',
  ERR_OUT_OF_RANGE: 'resource',
  ABORT_ERR: 'cancelled',
};

/** The code of anything thrown: a StudioError's own, a system error's mapping, else internal. */
export function errorCode(e: unknown): ErrorCode {
  if (e instanceof StudioError) return e.code;
  if (e instanceof RangeError && /allocation|Array buffer|Invalid typed array length|Invalid string length/i.test(e.message))
    return 'resource';
  const sys = (e as { code?: unknown } | null)?.code;
  if (typeof sys === 'string' && SYSTEM_CODES[sys]) return SYSTEM_CODES[sys];
  if ((e as { name?: unknown } | null)?.name === 'AbortError') return 'cancelled';
  return 'internal';
}

/** The structural part of a zod error we read, so this module needs no zod at run time. */
export interface ZodLikeError {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

/**
 * One line for the first issue of a failed zod parse, naming the field path:
 * `<where><joiner><path>: <message>` (no joiner or path when the issue is at the root).
 * E.g. zodIssueLine(e, 'persona') → "persona.name: name is empty";
 * zodIssueLine(e, 'config.json', ': field ') → "config.json: field rope_theta: expected number";
 * with style 'indexed' the path reads like code: zodIssueLine(e, 'chat messages', '', 'indexed') → "chat messages[0][role]: …".
 */
export function zodIssueLine(error: ZodLikeError, where: string, joiner = '.', style: 'dotted' | 'indexed' | 'js' = 'dotted'): string {
  const issue = error.issues[0];
  if (!issue) return `${where}: invalid`;
  const path =
    style === 'dotted'
      ? issue.path.map(String).join('.')
      : style === 'indexed'
        ? issue.path.map((p) => `[${String(p)}]`).join('')
        : // 'js': names dotted, array indices bracketed (heldout.questions[3])
          issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
  return `${where}${path ? `${joiner}${path}` : ''}: ${issue.message}`;
}

/** A StudioError from a failed zod parse (see zodIssueLine). */
export function fromZod(
  code: ErrorCode,
  error: ZodLikeError,
  where: string,
  joiner?: string,
  style?: 'dotted' | 'indexed' | 'js',
): StudioError {
  return new StudioError(code, zodIssueLine(error, where, joiner, style));
}
