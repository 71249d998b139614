// The checkpoint of long batched work (persona training, sweeps): a `plan.json` naming what the
// work is (a hash of its settings and inputs), and `responses.jsonl` with one line per finished
// batch. A killed run leaves at most one cut line, which is ignored with everything after it; the
// next run with the same plan redoes only what is missing. Another plan in the folder is refused.
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors.ts';

export interface BatchCheckpoint<T extends { i: number }> {
  /** Items already done, by index. */
  done: Map<number, T>;
  /** Appends one finished batch (a single line, so a kill cuts at most this one). */
  append(batch: T[]): void;
}

/** Opens (or starts) the checkpoint in `dir`; with no `dir`, an in-memory one that keeps nothing. */
export function openBatchCheckpoint<T extends { i: number }>(
  dir: string | undefined,
  planHash: string,
  plan: Record<string, unknown>,
): BatchCheckpoint<T> {
  const done = new Map<number, T>();
  if (!dir) return { done, append: () => {} };
  const planFile = path.join(dir, 'plan.json');
  const file = path.join(dir, 'responses.jsonl');
  if (fs.existsSync(planFile)) {
    let existing: { planHash?: unknown };
    try {
      existing = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { planHash?: unknown };
    } catch {
      throw new StudioError('format', `${planFile}: not a checkpoint plan (remove the folder to start over)`);
    }
    if (existing.planHash !== planHash)
      throw new StudioError('usage', `${dir}: the checkpoint belongs to other settings or prompts; remove it or use another folder`);
    if (fs.existsSync(file)) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          for (const d of JSON.parse(line) as T[]) done.set(d.i, d);
        } catch {
          break; // a line cut by a kill: everything after it is redone
        }
      }
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(planFile, JSON.stringify({ planHash, ...plan }));
  return { done, append: (batch) => fs.appendFileSync(file, `${JSON.stringify(batch)}\n`) };
}
