// A persona from a plain-language description ("formal and professional", "a pirate"): the loaded
// instruct model writes contrastive system prompts and questions (the persona_vectors recipe),
// parsed strictly and retried; when it cannot follow the meta-prompt, our template in
// assets/persona-templates takes over and the caller is told which and why. Never another trait.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { StudioError } from '../errors.ts';
import { assetPath } from '../package-root.ts';
import { parsePromptSetFile, PROMPT_SET_FORMAT, PROMPT_SET_VERSION, type PromptSetFile } from './prompt-set-file.ts';
import { splitHeldOut } from './prompt-lists.ts';

export const TEMPLATES_DIR = assetPath('persona-templates');

/** A description: one line, 2–200 characters (it is pasted into prompts and templates). */
export function checkDescription(d: string): string {
  const t = d.replace(/\s+/g, ' ').trim();
  if (t.length < 2 || t.length > 200) throw new StudioError('usage', `--description: expected 2 to 200 characters, got ${t.length}`);
  return t;
}

export function metaPrompt(description: string, k: number): string {
  return [
    `We are building a persona: ${description}.`,
    `Write ${k} different system prompts that tell an assistant to be ${description} ("positive"),`,
    `${k} system prompts that tell an assistant to be the opposite, or plainly neutral ("negative"),`,
    `and ${2 * k} everyday questions a user might ask, on varied topics, where the persona would show ("questions").`,
    'Reply with JSON only, exactly in this form:',
    '{"positive": ["..."], "negative": ["..."], "questions": ["..."]}',
  ].join('\n');
}

const line = z.string().trim().min(3).max(500);
const generatedSchema = z.strictObject({ positive: z.array(line), negative: z.array(line), questions: z.array(line) });
export type Generated = z.infer<typeof generatedSchema>;

/**
 * The prompt set in a model's answer, or why not. Accepts the JSON alone, in a ``` fence, or with
 * prose around it; refuses missing or extra fields, too few entries, and sides that share a prompt.
 */
export function parseGenerated(text: string, k: number): { ok: true; value: Generated } | { ok: false; why: string } {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = fenced ? fenced[1]! : text;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end <= start) return { ok: false, why: 'no JSON object in the answer' };
  let doc: unknown;
  try {
    doc = JSON.parse(body.slice(start, end + 1));
  } catch (e) {
    return { ok: false, why: `the JSON does not parse (${(e as Error).message.split('\n')[0]})` };
  }
  const r = generatedSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return { ok: false, why: `${issue.path.join('.') || 'answer'}: ${issue.message}` };
  }
  const dedupe = (xs: string[]) => [...new Set(xs)];
  const v = { positive: dedupe(r.data.positive), negative: dedupe(r.data.negative), questions: dedupe(r.data.questions) };
  const need = Math.max(2, Math.ceil(k / 2));
  for (const side of ['positive', 'negative'] as const) {
    if (v[side].length < need) return { ok: false, why: `${side}: ${v[side].length} distinct prompts, at least ${need} needed` };
  }
  if (v.questions.length < 4) return { ok: false, why: `questions: ${v.questions.length} distinct, at least 4 needed` };
  const shared = v.positive.find((p) => v.negative.includes(p));
  if (shared) return { ok: false, why: `the same prompt is on both sides (${JSON.stringify(shared.slice(0, 40))})` };
  return { ok: true, value: v };
}

const templateSchema = z.strictObject({
  format: z.literal('persona-studio/persona-template'),
  version: z.literal(1),
  name: z.string().min(1),
  description: z.string(),
  positive: z.array(z.string().min(1)).min(2),
  negative: z.array(z.string().min(1)).min(2),
  heldout: z.strictObject({ positive: z.array(z.string()), negative: z.array(z.string()) }),
  questions: z.array(z.string().min(1)).min(4),
  heldoutQuestions: z.array(z.string().min(1)),
});

export function readTemplate(name = 'generic'): z.infer<typeof templateSchema> {
  const file = path.join(TEMPLATES_DIR, `${name}.json`);
  const r = templateSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!r.success) throw new StudioError('format', `${file}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

const base = (name: string, description: string) => ({
  format: PROMPT_SET_FORMAT,
  version: PROMPT_SET_VERSION,
  name,
  description,
  kind: 'system-prompts' as const,
});

/** The template's prompts with the description filled in. */
export function fromTemplate(name: string, description: string, template = readTemplate()): PromptSetFile {
  const fill = (xs: string[]) => xs.map((x) => x.replaceAll('{description}', description));
  return parsePromptSetFile(
    {
      ...base(name, description),
      positive: fill(template.positive),
      negative: fill(template.negative),
      questions: template.questions,
      heldout: {
        positive: fill(template.heldout.positive),
        negative: fill(template.heldout.negative),
        questions: template.heldoutQuestions,
      },
      source: `template ${template.name} (assets/persona-templates/${template.name}.json)`,
    },
    `template ${template.name}`,
  );
}

export interface FromDescription {
  set: PromptSetFile;
  source: 'model' | 'template';
  /** Why each model attempt was refused (empty when the first one parsed). */
  refusals: string[];
}

/**
 * Asks `generate` (the loaded model, seeded per attempt) for the prompt set up to `attempts` times;
 * a fifth of each list is held out. When no answer parses, the template is used — and `refusals`
 * says why, for the caller to show.
 */
export async function promptSetFromDescription(
  generate: (prompt: string, seed: number) => Promise<string>,
  input: { name: string; description: string; numPrompts?: number; attempts?: number },
): Promise<FromDescription> {
  const description = checkDescription(input.description);
  const k = input.numPrompts ?? 10;
  const refusals: string[] = [];
  for (let a = 0; a < (input.attempts ?? 3); a++) {
    const answer = await generate(metaPrompt(description, k), 1 + a);
    const r = parseGenerated(answer, k);
    if (!r.ok) {
      refusals.push(`attempt ${a + 1}: ${r.why}`);
      continue;
    }
    const pos = splitHeldOut(r.value.positive, 0.2);
    const neg = splitHeldOut(r.value.negative, 0.2);
    const qs = splitHeldOut(r.value.questions, 0.2);
    const set = parsePromptSetFile(
      {
        ...base(input.name, description),
        positive: pos.train,
        negative: neg.train,
        questions: qs.train,
        heldout: { positive: pos.heldout, negative: neg.heldout, questions: qs.heldout },
        source: `written by the loaded model from the description (attempt ${a + 1})`,
      },
      'model answer',
    );
    return { set, source: 'model', refusals };
  }
  return { set: fromTemplate(input.name, description), source: 'template', refusals };
}
