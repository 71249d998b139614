// Prompt-set files ⇄ library prompt-set versions (immutable; train and held-out splits kept apart).
import type { PromptItems, PromptSetSpec, PromptSetVersion } from '../library/schema.ts';
import { parsePromptSetFile, PROMPT_SET_FORMAT, PROMPT_SET_VERSION, type PromptSetFile } from './prompt-set-file.ts';

export function promptSetToItems(set: PromptSetFile): { items: PromptItems; spec: PromptSetSpec } {
  return {
    items: {
      positive: set.positive,
      negative: set.negative,
      evaluation: [],
      baseline: [],
      questions: set.questions,
      'heldout-positive': set.heldout.positive,
      'heldout-negative': set.heldout.negative,
      'heldout-questions': set.heldout.questions,
    },
    spec: {
      kind: set.kind,
      ...(set.role ? { role: set.role } : {}),
      ...(set.markers ? { markers: set.markers } : {}),
      ...(set.source ? { source: set.source } : {}),
    },
  };
}

/**
 * A library version as a prompt-set document. Versions stored before library version 3 have no
 * spec: their positive/negative are prompts, their evaluation prompts the held-out questions' place.
 */
export function promptSetFromVersion(name: string, description: string, v: PromptSetVersion): PromptSetFile {
  const spec = v.spec ?? { kind: 'prompts' as const };
  const i = v.items;
  return parsePromptSetFile(
    {
      format: PROMPT_SET_FORMAT,
      version: PROMPT_SET_VERSION,
      name,
      description,
      kind: spec.kind,
      ...(spec.role ? { role: spec.role } : {}),
      positive: i.positive,
      negative: i.negative,
      questions: spec.kind === 'system-prompts' ? i.questions : [],
      heldout: {
        positive: i['heldout-positive'],
        negative: i['heldout-negative'],
        questions: spec.kind === 'system-prompts' ? i['heldout-questions'] : [],
      },
      ...(spec.markers ? { markers: spec.markers } : {}),
      ...(spec.source ? { source: spec.source } : {}),
    },
    `library prompt set ${JSON.stringify(name)} v${v.version}`,
  );
}
