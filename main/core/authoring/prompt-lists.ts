// Lists of prompts from the files people already have: plain text (one prompt a line), a JSON array,
// JSON Lines, and Alpaca-style records ({instruction, input?, output?}: the prompt is the
// instruction, followed by the input when there is one). Errors name the file and, where it helps,
// the line or entry.
import path from 'node:path';
import { FormatError } from '../formats/errors.ts';
import { readBounded } from '../formats/file-io.ts';
import { PROMPT_SET_FORMAT } from './prompt-set-file.ts';

export const MAX_PROMPT_LIST_BYTES = 64 * 1024 * 1024;
export const MAX_PROMPT_CHARS = 20_000;

/** The prompt a record stands for: a string, or {text|prompt|question|instruction(+input)}. */
function recordText(rec: unknown, file: string, where: string): string {
  if (typeof rec === 'string') return rec;
  if (rec && typeof rec === 'object' && !Array.isArray(rec)) {
    const r = rec as Record<string, unknown>;
    for (const key of ['text', 'prompt', 'question']) if (typeof r[key] === 'string') return r[key] as string;
    if (typeof r.instruction === 'string') {
      const input = typeof r.input === 'string' ? r.input.trim() : '';
      return input ? `${r.instruction}\n\n${input}` : r.instruction;
    }
    throw new FormatError(file, null, `${where}: a record needs a "text", "prompt", "question" or "instruction" string field`);
  }
  throw new FormatError(file, null, `${where}: expected a string or a record, got ${Array.isArray(rec) ? 'an array' : typeof rec}`);
}

function checked(texts: { text: string; where: string }[], file: string): string[] {
  const out: string[] = [];
  for (const { text, where } of texts) {
    const t = text.trim();
    if (!t) continue;
    if (t.length > MAX_PROMPT_CHARS)
      throw new FormatError(file, null, `${where}: a prompt of ${t.length} characters (at most ${MAX_PROMPT_CHARS})`);
    out.push(t);
  }
  if (out.length === 0) throw new FormatError(file, null, 'has no prompts');
  return out;
}

/** Prompts of a .txt, .json or .jsonl file (by extension; anything else is read as text). */
export function readPromptList(file: string): string[] {
  const buf = Buffer.from(readBounded(file, MAX_PROMPT_LIST_BYTES, 'a prompt file'));
  if (buf.includes(0)) throw new FormatError(file, null, 'is binary (it contains NUL bytes), not a prompt file');
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  if (text.includes('\uFFFD')) throw new FormatError(file, null, 'is not UTF-8 text');
  const ext = path.extname(file).toLowerCase();

  if (ext === '.json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new FormatError(file, null, `is not JSON (${(err as Error).message.split('\n')[0]})`);
    }
    if (doc && typeof doc === 'object' && !Array.isArray(doc) && (doc as { format?: unknown }).format === PROMPT_SET_FORMAT) {
      throw new FormatError(file, null, 'is a prompt-set file (positive and negative together), not a list of prompts');
    }
    if (!Array.isArray(doc)) throw new FormatError(file, null, 'expected a JSON array of prompts or records');
    return checked(
      doc.map((rec, i) => ({ text: recordText(rec, file, `entry ${i}`), where: `entry ${i}` })),
      file,
    );
  }
  if (ext === '.jsonl') {
    const items: { text: string; where: string }[] = [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (err) {
        throw new FormatError(file, null, `line ${i + 1}: not JSON (${(err as Error).message.split('\n')[0]})`);
      }
      items.push({ text: recordText(rec, file, `line ${i + 1}`), where: `line ${i + 1}` });
    });
    return checked(items, file);
  }
  return checked(
    text.split(/\r?\n/).map((t, i) => ({ text: t, where: `line ${i + 1}` })),
    file,
  );
}

/**
 * A deterministic held-out split: every k-th entry (k = round(1 / fraction)), starting at the
 * (k−1)-th, goes to held-out; the rest trains. Lists too short to spare any keep everything.
 */
export function splitHeldOut<T>(items: readonly T[], fraction: number): { train: T[]; heldout: T[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`held-out fraction ${fraction} is not in [0, 1)`);
  if (fraction === 0 || items.length < 4) return { train: [...items], heldout: [] };
  const k = Math.max(2, Math.round(1 / fraction));
  const train: T[] = [];
  const heldout: T[] = [];
  items.forEach((x, i) => (i % k === k - 1 ? heldout : train).push(x));
  return { train, heldout };
}
