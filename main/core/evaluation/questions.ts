// The questions an evaluation asks (sweeps, eval): a prompt list file, a prompt set (a file or a
// library prompt set by name or id), else the persona's own prompt set — held-out questions first —
// with the set's lexical markers when it has them. One rule for the CLI and the app.
import fs from 'node:fs';
import type { Library } from '../library/index.ts';
import { StudioError } from '../errors.ts';
import { readPromptSetFile, type PromptSetFile } from '../authoring/prompt-set-file.ts';
import { readPromptList } from '../authoring/prompt-lists.ts';
import { promptSetFromVersion } from '../authoring/prompt-set-library.ts';

export interface QuestionSource {
  questions: string[];
  markers: PromptSetFile['markers'] | null;
  /** Where they came from, in words (reports say it). */
  from: string;
}

export interface QuestionRefs {
  /** A prompt list file (one question a line, JSON, JSONL, Alpaca). */
  questions?: string;
  /** A prompt-set file, or a library prompt set by name or id. */
  promptSet?: string;
}

/**
 * `labels` names the two fields in messages (`--questions`/`--prompt-set` on the CLI,
 * `questions`/`promptSet` in the app); `what` names the operation ("sweep", "eval").
 */
export function evaluationQuestions(
  lib: Library,
  refs: QuestionRefs,
  provenance: { promptSetId?: string | null | undefined; promptSetVersion?: number | null | undefined },
  what: string,
  labels: { questions: string; promptSet: string } = { questions: '--questions', promptSet: '--prompt-set' },
): QuestionSource {
  if (refs.questions && refs.promptSet)
    throw new StudioError('usage', `${what}: give ${labels.questions} or ${labels.promptSet}, not both`);
  if (refs.questions) return { questions: readPromptList(refs.questions), markers: null, from: refs.questions };
  let set: PromptSetFile | null = null;
  let from = '';
  if (refs.promptSet) {
    const ref = refs.promptSet;
    if (fs.existsSync(ref)) set = readPromptSetFile(ref);
    else {
      const stored = lib.promptSets.find(ref);
      set = stored ? promptSetFromVersion(stored.name, stored.description, lib.promptSets.version(stored.id)) : null;
    }
    if (!set)
      throw new StudioError(
        'not-found',
        `${labels.promptSet} ${JSON.stringify(ref)}: no such file, and no library prompt set has that name or id`,
      );
    from = ref;
  } else if (provenance.promptSetId) {
    const ps = lib.promptSets.get(provenance.promptSetId);
    if (ps) {
      set = promptSetFromVersion(ps.name, ps.description, lib.promptSets.version(ps.id, provenance.promptSetVersion ?? undefined));
      from = `the persona's prompt set ${ps.name}`;
    }
  }
  if (!set)
    throw new StudioError(
      'usage',
      `${what}: the persona has no prompt set in the library; give ${labels.questions} F or ${labels.promptSet} F`,
    );
  const questions = set.heldout.questions.length ? set.heldout.questions : set.questions;
  if (questions.length === 0)
    throw new StudioError(
      'usage',
      `${what}: prompt set ${JSON.stringify(set.name)} has no questions (kind "${set.kind}"); give ${labels.questions} F`,
    );
  return { questions, markers: set.markers ?? null, from: `${from}${set.heldout.questions.length ? ' (held-out questions)' : ''}` };
}
