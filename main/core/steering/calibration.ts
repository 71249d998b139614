// Residual-norm calibration: the typical L2 norm of the residual stream after every block, measured
// once per compiled model on fixed neutral text and kept beside it (`residual-norms.json`), so the
// engine's `norm` α scale (α × n_b × v/|v|) means the same in every command without a separate step:
// α = 0.1 is a tenth of the layer's usual residual size, on every layer of every model.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';

export const NORMS_FILE = 'residual-norms.json';

/** Plain, neutral text of everyday subjects (ours): the calibration corpus. */
export const CALIBRATION_TEXTS = [
  'The library opens at nine in the morning and closes at six in the evening. Visitors can borrow up to ten books at a time, and most loans last three weeks.',
  'To make a simple vegetable soup, chop an onion, two carrots and a potato, soften them in a little oil, add water and salt, and let everything simmer for half an hour.',
  'The train to the coast leaves every hour. The journey takes about ninety minutes, and there is a small cafe in the second carriage.',
  'Regular exercise strengthens the heart and the muscles, improves sleep and mood, and helps people stay healthy as they grow older.',
  'The committee met on Tuesday to review the budget for next year. After a long discussion, the members agreed to spend more on maintenance and less on travel.',
  'Rivers carry water from the hills to the sea. Over thousands of years they shape valleys, move sand and stones, and provide water for farms and cities.',
  "Please remember to bring a notebook, a pencil and your own lunch. The workshop starts at ten o'clock sharp in the main hall.",
  'Most smartphones today have a camera, a map, a calendar and thousands of apps, and many people use them more often than a computer.',
];

export const normsFileSchema = z.strictObject({
  version: z.literal(1),
  /** Mean L2 norm per block b (residual stream right after block b), every sequence's first token left out. */
  norms: z.array(z.number().finite().positive()),
  /** sha256 of the calibration sequences' token ids: a changed text or tokenizer is visible. */
  textHash: z.string(),
  sequences: z.int().positive(),
  createdAt: z.string(),
});
export type NormsFile = z.infer<typeof normsFileSchema>;

/** Calibration sequences as the model reads text: chat-formatted when it has a chat template. */
export function calibrationSequences(tokenizer: TextTokenizer): number[][] {
  return CALIBRATION_TEXTS.map((t) => {
    if (tokenizer.hasChatTemplate) {
      return tokenizer.encodeChat(
        [
          { role: 'user', content: 'Write a few sentences.' },
          { role: 'assistant', content: t },
        ],
        { addGenerationPrompt: false },
      );
    }
    return tokenizer.encode(t);
  }).filter((s) => s.length >= 2);
}

export function sequencesHash(seqs: number[][]): string {
  return createHash('sha256').update(JSON.stringify(seqs)).digest('hex');
}

/** The stored norms of a compiled model, or null when it has none (or they fail to parse). */
export function readNorms(compiledDir: string, numLayers: number): NormsFile | null {
  const file = path.join(compiledDir, NORMS_FILE);
  if (!fs.existsSync(file)) return null;
  try {
    const n = normsFileSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return n.norms.length === numLayers ? n : null;
  } catch {
    return null;
  }
}

/** Writes atomically (temp file, then rename), so a reader never sees half a file. */
export function writeNorms(compiledDir: string, norms: Float32Array, seqs: number[][]): NormsFile {
  const doc: NormsFile = normsFileSchema.parse({
    version: 1,
    norms: [...norms].map((x) => +x.toPrecision(7)),
    textHash: sequencesHash(seqs),
    sequences: seqs.length,
    createdAt: new Date().toISOString(),
  });
  const tmp = path.join(compiledDir, `.${NORMS_FILE}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${JSON.stringify(doc, null, 1)}\n`);
  fs.renameSync(tmp, path.join(compiledDir, NORMS_FILE));
  return doc;
}

/**
 * The model's residual norms: read from beside the compiled model, or measured now with
 * `measure` (the engine's residualNorms) and stored for every later command.
 */
export async function ensureNorms(
  compiledDir: string,
  numLayers: number,
  tokenizer: TextTokenizer,
  measure: (seqs: number[][]) => Promise<Float32Array>,
): Promise<Float32Array> {
  const have = readNorms(compiledDir, numLayers);
  if (have) return Float32Array.from(have.norms);
  const seqs = calibrationSequences(tokenizer);
  const norms = await measure(seqs);
  try {
    // What every later read gives (the file keeps 7 significant digits), so the first run steers
    // exactly as the next ones, and a sweep's checkpoint (hashed with the norms) resumes across them.
    return Float32Array.from(writeNorms(compiledDir, norms, seqs).norms);
  } catch {
    // A read-only model folder still steers: the norms are simply measured again next time.
  }
  return norms;
}
