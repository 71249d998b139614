// The demo model (assets/demo-model) and its prompt sets (assets/prompt-sets) as a test bed: load
// and compile it, sample replies in seeded batches, and build a style direction from contrastive
// system prompts with the engine's capture (persona_vectors' recipe: generate under each system
// prompt, average the reply tokens' residual stream, subtract the means). Shared by the demo-model
// tests and bench/demo-model.ts, so the figures in the model's README come from the same code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../../../native-models/compile.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { CompiledModel } from '../engine/model.ts';
import { generateText } from '../engine/text-generation.ts';
import { captureActivations, residualNorms } from '../engine/capture.ts';
import type { RowSteering } from '../engine/steering.ts';
import { readPromptSetFile, type PromptSetFile } from '../authoring/prompt-set-file.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEMO_MODEL_DIR = path.join(ROOT, 'assets/demo-model');
export const PROMPT_SETS_DIR = path.join(ROOT, 'assets/prompt-sets');

export function demoPromptSet(name: string): PromptSetFile {
  return readPromptSetFile(path.join(PROMPT_SETS_DIR, `${name}.json`));
}

export function demoPromptSetNames(): string[] {
  return fs
    .readdirSync(PROMPT_SETS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export interface DemoModel {
  model: CompiledModel;
  tokenizer: TextTokenizer;
  dir: string;
  compileMs: number;
  loadMs: number;
}

export async function loadDemoModel(cacheRoot: string, checkpointDir = DEMO_MODEL_DIR): Promise<DemoModel> {
  let t = performance.now();
  const { dir } = await compileModel({ checkpointDir, cacheRoot });
  const compileMs = performance.now() - t;
  t = performance.now();
  const model = await CompiledModel.load(dir, { provider: 'cpu', threads: 2 });
  const tokenizer = TextTokenizer.load(dir);
  return { model, tokenizer, dir, compileMs, loadMs: performance.now() - t };
}

export interface ReplyRow {
  system?: string;
  question: string;
  seed: number;
  steering?: RowSteering;
}
export interface ReplyOptions {
  maxNewTokens?: number;
  temperature?: number;
  residualNorms?: Float32Array | null;
}
export interface Reply {
  text: string;
  finish: string;
}

/** Replies to single-turn chats, 64 rows per batched generate(); row i samples with its own seed. */
export async function sampleReplies(m: DemoModel, rows: ReplyRow[], o: ReplyOptions = {}): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < rows.length; i += 64) {
    const chunk = rows.slice(i, i + 64);
    const r = await generateText(m.model, m.tokenizer, {
      rows: chunk.map((row) => ({
        prompt: {
          messages: [
            ...(row.system ? [{ role: 'system' as const, content: row.system }] : []),
            { role: 'user' as const, content: row.question },
          ],
        },
        sampling: { temperature: o.temperature ?? 0.7, topP: 0.95, seed: row.seed },
        steering: row.steering,
      })),
      maxNewTokens: o.maxNewTokens ?? 96,
      residualNorms: o.residualNorms,
    });
    out.push(...r.rows.map((x) => ({ text: x.text, finish: x.finish })));
  }
  return out;
}

/** Typical residual norm per layer over chats with the model's own replies (the `norm` α scale). */
export async function calibrateNorms(m: DemoModel, questions: string[]): Promise<Float32Array> {
  const replies = await sampleReplies(
    m,
    questions.map((question, i) => ({ question, seed: 10_000 + i })),
    { maxNewTokens: 64 },
  );
  const seqs = questions.map((q, i) => [
    ...m.tokenizer.encodeChat([{ role: 'user', content: q }], { addGenerationPrompt: true }),
    ...m.tokenizer.encode(replies[i]!.text, { addSpecialTokens: false }),
  ]);
  return residualNorms(m.model, seqs);
}

export interface Direction {
  vectors: Map<number, Float32Array>;
  pairs: { positive: number; negative: number };
}

/**
 * Difference of means (positive − negative) of reply-token activations per layer. Each system prompt
 * of a pole answers `questionsPerPrompt` training questions (cycled), one seeded sample each.
 */
export async function directionFromSystemPrompts(m: DemoModel, set: PromptSetFile, questionsPerPrompt = 4): Promise<Direction> {
  const sides = { positive: set.positive, negative: set.negative };
  const means: Record<string, Map<number, Float32Array>> = {};
  const counts = { positive: 0, negative: 0 };
  for (const [side, systems] of Object.entries(sides) as ['positive' | 'negative', string[]][]) {
    const rows: ReplyRow[] = [];
    systems.forEach((system, s) => {
      for (let k = 0; k < questionsPerPrompt; k++) {
        rows.push({ system, question: set.questions[(s * questionsPerPrompt + k) % set.questions.length]!, seed: 1000 * s + k });
      }
    });
    const replies = await sampleReplies(m, rows, { maxNewTokens: 96 });
    const pairs = rows
      .map((r, i) => ({
        prompt: m.tokenizer.encodeChat(
          [
            { role: 'system', content: r.system! },
            { role: 'user', content: r.question },
          ],
          { addGenerationPrompt: true },
        ),
        response: m.tokenizer.encode(replies[i]!.text, { addSpecialTokens: false }),
      }))
      .filter((p) => p.response.length > 0);
    counts[side] = pairs.length;
    const cap = await captureActivations(m.model, pairs, { reduction: 'response-mean', keepRows: false });
    means[side] = new Map([...cap.sums].map(([b, s]) => [b, Float32Array.from(s, (x) => x / cap.count)]));
  }
  const vectors = new Map<number, Float32Array>();
  for (const [b, p] of means.positive!) {
    const n = means.negative!.get(b)!;
    vectors.set(
      b,
      Float32Array.from(p, (x, i) => x - n[i]!),
    );
  }
  return { vectors, pairs: counts };
}

/** A steering row adding α (norm scale) × the direction at one layer. */
export function steerAt(dir: Direction, layer: number, alpha: number): RowSteering {
  return { terms: [{ vectors: new Map([[layer, dir.vectors.get(layer)!]]), alpha, scale: 'norm' }] };
}
