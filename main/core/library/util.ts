// Small helpers shared by the stores.
import { randomUUID } from 'node:crypto';
import { fromZod, type ZodLikeError } from '../errors.ts';

export const newId = (): string => randomUUID();
export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** Monotonic wall-clock milliseconds, so ordering by time is stable within one process. */
let last = 0;
export function nowMs(): number {
  const t = Date.now();
  last = t > last ? t : last + 1;
  return last;
}

/** JSON for a column; undefined becomes null. */
export const toJson = (v: unknown): string => JSON.stringify(v === undefined ? null : v);
export const fromJson = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

/** A LIKE pattern matching `text` anywhere, with %, _ and \ taken literally (use ESCAPE '\'). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Parses with a zod schema and throws one line naming the field. */
export function parseInput<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodLikeError } },
  value: unknown,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw fromZod('usage', r.error, what);
}
