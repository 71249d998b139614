// Sampling settings: the one schema every face reads — the engine validates rows with it, the CLI
// takes its defaults and ranges from it, the app will build its settings form from it (field
// descriptions via `.describe`, readable with z.toJSONSchema). The defaults are the studio's:
// what a user gets by saying nothing (temperature 0.7, top-p 0.9; each filter's neutral value
// disables it). Errors name the field: "sampling.topP: Too big: expected number to be <=1".
import { z } from 'zod';

export const samplingSchema = z.strictObject({
  temperature: z.number().min(0).default(0.7).describe('Scales logits as logits / temperature; 0 means greedy.'),
  topK: z.int().min(0).default(0).describe('Keep the k highest logits (ties with the k-th kept, as in transformers); 0 disables.'),
  topP: z
    .number()
    .gt(0)
    .max(1)
    .default(0.9)
    .describe('Keep the smallest set of most likely tokens whose probability sums to >= topP; 1 disables.'),
  minP: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe("Drop tokens whose probability is below minP × the top token's probability; 0 disables."),
  repetitionPenalty: z
    .number()
    .gt(0)
    .default(1)
    .describe('transformers semantics on every token of prompt + output: logit > 0 ? logit / p : logit × p; 1 disables.'),
  frequencyPenalty: z
    .number()
    .min(-2)
    .max(2)
    .default(0)
    .describe('OpenAI semantics on output tokens: logit -= count × frequencyPenalty; 0 disables.'),
  presencePenalty: z
    .number()
    .min(-2)
    .max(2)
    .default(0)
    .describe('OpenAI semantics on output tokens: logit -= presencePenalty once a token has appeared; 0 disables.'),
  seed: z.int().min(0).optional().describe('Makes sampling reproducible; a random seed is drawn (and reported) when absent.'),
  greedy: z.boolean().default(false).describe('Argmax of the penalised logits, whatever the temperature.'),
});

export type SamplingParams = z.output<typeof samplingSchema>;
export type SamplingParamsInput = z.input<typeof samplingSchema>;

/** What a row samples with when it sets nothing. */
export const SAMPLING_DEFAULTS: Readonly<SamplingParams> = Object.freeze(samplingSchema.parse({}));

/** Parses sampling settings; bad input throws one line naming the field, e.g. "sampling.topP: …". */
export function parseSamplingParams(input: unknown, where = 'sampling'): SamplingParams {
  const result = samplingSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length > 0 ? `.${issue.path.map(String).join('.')}` : '';
  throw new Error(`${where}${path}: ${issue.message}`);
}
