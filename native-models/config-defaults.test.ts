// Every config.json field, deleted in turn, must mean the same to the compiler and to the
// independent reference: both refuse the checkpoint, or both run it and agree. An absent field
// takes the family's config-class default (architectures/families.ts; the reference keeps its
// own copy), so this is what checks those defaults: a Gemma 2 config without
// attn_logit_softcapping must soft-cap at 50, as transformers' Gemma2Config does.
import { describe, it, expect, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { compileModel } from './compile.ts';
import { parseModelSpec, type ModelSpec } from './architectures/spec.ts';
import { tinyCheckpoint, type TinyName } from './test-support/tiny-checkpoints.ts';
import { ReferenceModel } from './test-support/reference.ts';
import { GraphRunner, maxAbsDiff } from './test-support/run-graph.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ps-config-defaults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TOKENS = [1, 17, 42, 5, 88, 23, 64, 9, 71, 30, 2, 55];
type Config = Record<string, unknown>;

/** A copy of tiny checkpoint `name` with its config.json edited. */
function variant(name: TinyName, label: string, edit: (cfg: Config) => void): string {
  const src = tinyCheckpoint(name);
  const dir = join(scratch, name, label);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(src)) if (!f.startsWith('.') && f !== 'config.json') copyFileSync(join(src, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Config;
  edit(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

type Outcome = { error: string } | { logits: Float32Array[] };

function reference(dir: string): Outcome {
  try {
    return { logits: ReferenceModel.load(dir).forward(TOKENS).logits };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

async function compiled(dir: string): Promise<Outcome> {
  let out: string;
  try {
    out = (
      await compileModel({ checkpointDir: dir, outDir: join(dir, 'compiled'), options: { precision: 'fp32', requireTokenizer: false } })
    ).dir;
  } catch (e) {
    return { error: (e as Error).message };
  }
  const run = await GraphRunner.open(out);
  try {
    const got = await run.run({ ids: [TOKENS] });
    const V = run.arch.vocabSize;
    return { logits: TOKENS.map((_, p) => got.logits.slice(p * V, (p + 1) * V)) };
  } finally {
    await run.release();
  }
}

const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((x, p) => maxAbsDiff(x, b[p]!)));

/** The compiler's reading of a folder's config.json, or null where it refuses it. */
function specOf(dir: string): ModelSpec | null {
  try {
    return parseModelSpec(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  } catch {
    return null;
  }
}

/**
 * How compiler and reference disagree on checkpoint folder `dir`, or null when they agree.
 * `base` is the unedited checkpoint, already checked to agree: where the compiler reads `dir`'s
 * config exactly as base's (the same ModelSpec, so the same graph), only the reference can have
 * moved, and comparing it with base's reference output saves a compile.
 */
async function disagreement(dir: string, base: { spec: ModelSpec; logits: Float32Array[] }): Promise<{ why: string | null; ran: boolean }> {
  const want = reference(dir);
  const spec = specOf(dir);
  const got = spec && isDeepStrictEqual(spec, base.spec) ? { logits: base.logits } : await compiled(dir);
  if ('error' in want && 'error' in got) {
    // Both refuse: the compiler's refusal is one line.
    return { why: got.error.includes('\n') ? `compiler error spans lines: ${got.error}` : null, ran: false };
  }
  if ('error' in want) return { why: `reference refuses (${want.error}) but the compiler compiles`, ran: false };
  if ('error' in got) return { why: `compiler refuses (${got.error}) but the reference runs`, ran: false };
  const d = maxDiff(got.logits, want.logits);
  return { why: d < 1e-4 ? null : `max |Δlogit| ${d.toExponential(2)}`, ran: true };
}

const configOf = (name: TinyName) => JSON.parse(readFileSync(join(tinyCheckpoint(name), 'config.json'), 'utf8')) as Config;

// One checkpoint per family, plus the llama variants for the fields where their configs differ
// from llama's (rope_theta and rope_scaling llama3, tie_word_embeddings true).
const CASES: TinyName[] = ['llama', 'llama3', 'llama-tied', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3', 'phi3'];

describe.each(CASES)('%s: each config.json field deleted in turn', (name) => {
  it('compiler and reference both refuse, or both run and agree within 1e-4', async () => {
    const cfg = configOf(name);
    const llama = configOf('llama');
    const variantOfLlama = name.startsWith('llama-') || name === 'llama3';
    const fields = Object.keys(cfg).filter((k) => !variantOfLlama || JSON.stringify(cfg[k]) !== JSON.stringify(llama[k]));
    const original = variant(name, 'original', () => {});
    const got = await compiled(original);
    const want = reference(original);
    if ('error' in got || 'error' in want)
      throw new Error(`${name} should compile and run: ${'error' in got ? got.error : ''} ${'error' in want ? want.error : ''}`);
    expect(maxDiff(got.logits, want.logits)).toBeLessThan(1e-4);
    const base = { spec: specOf(original)!, logits: got.logits };
    const problems: string[] = [];
    let ran = 0;
    for (const field of fields) {
      const r = await disagreement(
        variant(name, `without-${field}`, (c) => {
          delete c[field];
        }),
        base,
      );
      if (r.why) problems.push(`${field}: ${r.why}`);
      if (r.ran) ran++;
    }
    expect(problems).toEqual([]);
    // Most fields are optional: the checkpoint still runs without them (llama-tied's one field,
    // tie_word_embeddings, is not: without lm_head.weight both must refuse).
    if (!variantOfLlama) expect(ran).toBeGreaterThan(fields.length / 2);
  }, 300_000);
});

describe("the defaults are the config classes'", () => {
  it('a Gemma 2 config without the soft-cap fields soft-caps at 50 and 30 (Gemma2Config), not at all', async () => {
    const absent = variant('gemma2', 'no-caps', (c) => {
      delete c.attn_logit_softcapping;
      delete c.final_logit_softcapping;
    });
    const explicit = variant('gemma2', 'caps-50-30', (c) => {
      c.attn_logit_softcapping = 50;
      c.final_logit_softcapping = 30;
    });
    const off = variant('gemma2', 'caps-null', (c) => {
      c.attn_logit_softcapping = null;
      c.final_logit_softcapping = null;
    });
    const got = await compiled(absent);
    const want = reference(explicit);
    const uncapped = reference(off);
    if ('error' in got || 'error' in want || 'error' in uncapped) throw new Error('all three should run');
    expect(maxDiff(got.logits, want.logits)).toBeLessThan(1e-4);
    // The caps are visible at this size, so the comparison above could fail.
    expect(maxDiff(got.logits, uncapped.logits)).toBeGreaterThan(1e-3);
  }, 60_000);

  it('a Gemma 3 config without rope_theta uses 1e6 (Gemma3TextConfig), not 10000', async () => {
    const absent = variant('gemma3', 'no-theta', (c) => {
      delete c.rope_theta;
    });
    const got = await compiled(absent);
    const want = reference(
      variant('gemma3', 'theta-1e6', (c) => {
        c.rope_theta = 1e6;
      }),
    );
    const llamaDefault = reference(
      variant('gemma3', 'theta-1e4', (c) => {
        c.rope_theta = 10000;
      }),
    );
    if ('error' in got || 'error' in want || 'error' in llamaDefault) throw new Error('all three should run');
    expect(maxDiff(got.logits, want.logits)).toBeLessThan(1e-4);
    expect(maxDiff(got.logits, llamaDefault.logits)).toBeGreaterThan(1e-3);
  }, 60_000);
});
