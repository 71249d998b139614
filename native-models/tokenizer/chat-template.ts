// Chat templates: the Jinja program a Hugging Face model ships to turn a conversation into the exact
// prompt text it was trained on. Rendered with @huggingface/jinja, with the same variables
// transformers' apply_chat_template passes, so the prompt matches what Python would produce.
import fs from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { z } from 'zod';
import { fromZod } from '../errors.ts';

export const chatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;
const chatMessagesSchema = z.array(chatMessageSchema).min(1);

export interface ChatTemplateOptions {
  /** Append the header that opens the assistant's turn (default true). */
  addGenerationPrompt?: boolean;
  /**
   * Qwen3-style reasoning switch, passed as `enable_thinking` (default false). The Qwen3 template then
   * pre-fills an empty `<think>\n\n</think>\n\n` block; templates that ignore the variable are unaffected.
   */
  enableThinking?: boolean;
}

/** tokenizer_config.json `chat_template`: one template, or several named ones (transformers ≥4.43). */
export const chatTemplateFieldSchema = z.union([z.string(), z.array(z.object({ name: z.string(), template: z.string() }))]);
export type ChatTemplateField = z.infer<typeof chatTemplateFieldSchema>;

export interface ChatTemplateSource {
  source: string;
  /** Where it came from, for error messages: a file path, or `<file>: chat_template`. */
  origin: string;
}

/**
 * Find a model folder's chat template. A `chat_template.jinja` file wins over the field in
 * tokenizer_config.json, as in transformers (newer checkpoints save the template only as that file).
 */
export function findChatTemplate(dir: string, configField: ChatTemplateField | null | undefined): ChatTemplateSource | null {
  const jinjaPath = path.join(dir, 'chat_template.jinja');
  if (fs.existsSync(jinjaPath)) return { source: fs.readFileSync(jinjaPath, 'utf8'), origin: jinjaPath };
  const origin = `${path.join(dir, 'tokenizer_config.json')}: chat_template`;
  if (configField == null) return null;
  if (typeof configField === 'string') return { source: configField, origin };
  const named = configField.find((t) => t.name === 'default');
  if (!named) {
    const names = configField.map((t) => t.name).join(', ');
    throw new Error(`${origin}: several templates (${names}) and none named "default"`);
  }
  return { source: named.template, origin: `${origin}[default]` };
}

export class ChatTemplate {
  private readonly template: Template;

  /**
   * @param specialTokens the tokenizer's special-token strings (bos_token, eos_token…). Only the ones
   *   that exist are passed, so `{% if bos_token is defined %}` behaves as in Python.
   */
  constructor(
    readonly source: string,
    readonly origin: string,
    private readonly specialTokens: Record<string, string>,
  ) {
    try {
      this.template = new Template(source);
    } catch (err) {
      throw new Error(`${origin}: chat template does not parse (${errorText(err)})`, { cause: err });
    }
  }

  render(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    const parsed = chatMessagesSchema.safeParse(messages);
    if (!parsed.success) {
      throw fromZod('usage', parsed.error, 'chat messages', '', 'indexed');
    }
    try {
      return this.template.render({
        ...this.specialTokens,
        messages: parsed.data,
        add_generation_prompt: opts.addGenerationPrompt ?? true,
        enable_thinking: opts.enableThinking ?? false,
      });
    } catch (err) {
      // Templates reject bad conversations themselves (raise_exception, e.g. roles not alternating).
      throw new Error(`${this.origin}: rendering failed (${errorText(err)})`, { cause: err });
    }
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
