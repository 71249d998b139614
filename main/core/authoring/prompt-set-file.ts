// The studio's prompt-set file (`*.json`, format "persona-studio/prompt-set", version 1): what a
// persona is trained from, in one versioned, self-describing JSON document. The demo model's sets in
// assets/prompt-sets use it; the library imports it (README.md beside this file documents it).
import { z } from 'zod';
import { FormatError } from '../formats/errors.ts';
import { readBounded } from '../formats/file-io.ts';
import { zodIssueLine } from '../errors.ts';

export const PROMPT_SET_FORMAT = 'persona-studio/prompt-set';
export const PROMPT_SET_VERSION = 1;

/** One prompt, system prompt or question: non-empty after trimming, at most 20,000 characters. */
const text = z
  .string()
  .max(20_000, 'longer than 20,000 characters')
  .refine((s) => s.trim().length > 0, 'is empty');
const texts = z.array(text).max(100_000, 'more than 100,000 entries');

export const promptSetFileSchema = z
  .object({
    format: z.literal(PROMPT_SET_FORMAT, { message: `is not "${PROMPT_SET_FORMAT}"` }),
    version: z.literal(PROMPT_SET_VERSION, { message: `is not ${PROMPT_SET_VERSION} (a newer studio wrote this file?)` }),
    name: z.string().trim().min(1, 'is empty').max(200).describe('Name shown in the library'),
    description: z.string().max(20_000).default('').describe('What the positive pole is, in plain language'),
    kind: z
      .enum(['system-prompts', 'prompts'])
      .describe(
        '"system-prompts": positive/negative are system prompts, each applied to every question (persona_vectors); ' +
          '"prompts": positive/negative are the prompts themselves (contrastive prompt files)',
      ),
    role: z.string().trim().min(1).max(200).optional().describe('Role name when the positive side is a role (Role-Vectors)'),
    positive: texts.min(1, 'has no entries').describe('Prompts or system prompts of the positive pole'),
    negative: texts.min(1, 'has no entries').describe('Prompts or system prompts of the negative pole (or the baseline)'),
    questions: texts.default([]).describe('User questions answered under every system prompt (kind "system-prompts")'),
    heldout: z
      .object({ positive: texts.default([]), negative: texts.default([]), questions: texts.default([]) })
      .strict()
      .default({ positive: [], negative: [], questions: [] })
      .describe('Entries never used for training: the split that separation and evaluation are measured on'),
    markers: z
      .object({
        positive: z.array(z.string().trim().min(1).max(200)).max(1000).default([]),
        negative: z.array(z.string().trim().min(1).max(200)).max(1000).default([]),
      })
      .strict()
      .optional()
      .describe('Lower-case words or phrases whose rate in replies measures the trait (optional)'),
    source: z.string().max(2000).optional().describe('Where the prompts came from'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.kind === 'system-prompts' && v.questions.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['questions'],
        message: 'is empty, but kind "system-prompts" needs questions to apply the system prompts to',
      });
    }
    if (v.kind === 'prompts' && (v.questions.length > 0 || v.heldout.questions.length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['questions'], message: 'is only used with kind "system-prompts"' });
    }
  });

export type PromptSetFile = z.output<typeof promptSetFileSchema>;
export type PromptSetFileInput = z.input<typeof promptSetFileSchema>;

/** Validates an already-parsed document; errors name `file` and the field, e.g. `x.json: heldout.questions[3]: is empty`. */
export function parsePromptSetFile(value: unknown, file: string): PromptSetFile {
  const r = promptSetFileSchema.safeParse(value);
  if (r.success) return r.data;
  const line = zodIssueLine(r.error, '', '', 'js');
  throw new FormatError(file, null, line.startsWith(':') ? `document${line}` : line);
}

/** Largest prompt-set file read (a JSON document of this size holds far more prompts than training uses). */
export const MAX_PROMPT_SET_BYTES = 64 * 1024 * 1024;

export function readPromptSetFile(file: string): PromptSetFile {
  const text = Buffer.from(readBounded(file, MAX_PROMPT_SET_BYTES, 'a prompt-set file')).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, null, `is not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  return parsePromptSetFile(doc, file);
}
