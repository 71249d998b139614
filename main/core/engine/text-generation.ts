// Text-level generation: prompts as ids, raw text or chat messages; streamed text per row with
// stop strings held back and never shown. Wraps the token-level loop in generate.ts.
import { z } from 'zod';
import type { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { chatMessageSchema } from '../../../native-models/tokenizer/chat-template.ts';
import type { CompiledModel } from './model.ts';
import { generate, type FinishReason, type GenerateRow } from './generate.ts';
import { StopStringMatcher } from './stop-strings.ts';
import { samplingSchema } from './sampling/params.ts';
import { rowSteeringSchema } from './steering.ts';
import { float32Array } from '../rpc/schemas.ts';

export const promptSchema = z.union([
  z.object({ ids: z.array(z.number().int().nonnegative()).min(1) }),
  /** Literal text, no chat template; BOS is added when the tokenizer adds it. */
  z.object({ text: z.string() }),
  z.object({
    messages: z.array(chatMessageSchema).min(1),
    enableThinking: z.boolean().default(false),
    /**
     * The start of the assistant's reply, written after the generation prompt and prefilled with it:
     * the reply continues from it (the app's live α change continues a cut reply under new steering).
     */
    assistantPrefix: z.string().optional(),
  }),
]);

export const textRowSchema = z.object({
  prompt: promptSchema,
  steering: rowSteeringSchema.optional(),
  sampling: samplingSchema.partial().optional(),
  monitor: z.object({ layer: z.number().int().nonnegative(), vector: float32Array() }).optional(),
  stopStrings: z.array(z.string().min(1)).default([]),
});

export const textGenerateSchema = z.object({
  rows: z.array(textRowSchema).min(1).max(64),
  maxNewTokens: z.number().int().min(1).max(32768).default(256),
  residualNorms: float32Array().nullish(),
});
export type TextGenerateRequest = z.input<typeof textGenerateSchema>;

export interface TextTokenEvent {
  row: number;
  token: number;
  index: number;
  ms: number;
  text: string;
  projection?: number;
}
export interface TextRowResult {
  text: string;
  promptTokens: number[];
  tokens: number[];
  finish: FinishReason;
  projections: number[];
  seed: number;
}
export interface TextGenerateResult {
  rows: TextRowResult[];
  prefillMs: number;
  decodeMs: number;
  steps: number;
}

export function encodePrompt(tokenizer: TextTokenizer | null, prompt: z.output<typeof promptSchema>, bosFallback: number | null): number[] {
  if ('ids' in prompt) return prompt.ids;
  if (!tokenizer) throw new Error('prompt: this model has no tokenizer; pass token ids');
  if ('messages' in prompt) {
    const opts = { addGenerationPrompt: true, enableThinking: prompt.enableThinking };
    if (!prompt.assistantPrefix) return tokenizer.encodeChat(prompt.messages, opts);
    // Encoded with the template's text in one piece, so the prefix's first token joins it as it would in a reply.
    return tokenizer.encode(tokenizer.applyChatTemplate(prompt.messages, opts) + prompt.assistantPrefix, { addSpecialTokens: false });
  }
  const ids = tokenizer.encode(prompt.text);
  if (ids.length) return ids;
  const bos = tokenizer.bosId ?? bosFallback;
  if (bos === null) throw new Error('prompt: empty text and the model has no BOS token to start from');
  return [bos];
}

export async function generateText(
  model: CompiledModel,
  tokenizer: TextTokenizer | null,
  input: TextGenerateRequest,
  hooks: { onToken?: (e: TextTokenEvent) => void; signal?: AbortSignal } = {},
): Promise<TextGenerateResult> {
  const req = textGenerateSchema.parse(input);
  const prompts = req.rows.map((r) => encodePrompt(tokenizer, r.prompt, model.arch.bosId));
  const decoders = req.rows.map(() => tokenizer?.createStreamDecoder({ skipSpecialTokens: true }) ?? null);
  const matchers = req.rows.map((r) => new StopStringMatcher(r.stopStrings));
  const texts = req.rows.map(() => '');
  const stopIds = [...new Set([...(tokenizer?.eosIds ?? []), ...model.arch.eosIds])];
  const rows: GenerateRow[] = req.rows.map((r, i) => ({
    prompt: prompts[i]!,
    steering: r.steering,
    sampling: r.sampling,
    monitor: r.monitor,
  }));
  const result = await generate(model, {
    rows,
    maxNewTokens: req.maxNewTokens,
    stopTokenIds: stopIds,
    residualNorms: req.residualNorms,
    signal: hooks.signal,
    onToken: (e) => {
      let piece = '';
      let stopped = false;
      const dec = decoders[e.row];
      if (dec && !stopIds.includes(e.token)) {
        const pushed = matchers[e.row]!.push(dec.push(e.token));
        piece = pushed.emit;
        stopped = pushed.stopped;
      }
      texts[e.row] += piece;
      hooks.onToken?.({ ...e, text: piece });
      return stopped;
    },
  });
  return {
    ...result,
    rows: result.rows.map((r, i) => {
      // whatever the decoder and matcher still hold is text the row really produced
      let tail = '';
      const dec = decoders[i];
      if (dec && !matchers[i]!.stopped) tail = matchers[i]!.push(dec.flush()).emit;
      tail += matchers[i]!.flush();
      return {
        text: texts[i]! + tail,
        promptTokens: prompts[i]!,
        tokens: r.tokens,
        finish: r.finish,
        projections: r.projections,
        seed: r.seed,
      };
    }),
  };
}
