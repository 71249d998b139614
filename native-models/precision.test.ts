// The error each reduced precision adds, against the independent fp32 reference forward pass, at
// the tolerances native-models/README.md documents: max |Δlogit| ÷ the reference's logit range over
// every position, compiled with the defaults (MatMulNBits accuracy_level 4 on CPU). Random tiny
// checkpoints (hidden 32: one quantisation block per weight row) quantise worse than trained
// weights, so they have their own, wider bounds; stories260K stands for trained weights.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileModel, readManifest } from './compile.ts';
import { tinyCheckpoint, type TinyName } from './test-support/tiny-checkpoints.ts';
import { ReferenceModel } from './test-support/reference.ts';
import { GraphRunner, maxAbsDiff } from './test-support/run-graph.ts';

/** The README's table: bound per precision (measured values in the README beside them). */
const TOLERANCE = {
  tiny: { int8: 0.05, int4: 0.4, fp16: 0.01 },
  trained: { int8: 0.02, int4: 0.2, fp16: 0.01 },
} as const;
type Precision = keyof typeof TOLERANCE.tiny;

const STORIES = resolve(import.meta.dirname, '..', '..', 'shared', 'models', 'stories260K');
const haveStories = existsSync(join(STORIES, 'model.safetensors'));
if (!haveStories) console.warn(`precision.test: skipping the stories260K bounds: ${STORIES} is absent`);

const cacheRoot = mkdtempSync(join(tmpdir(), 'ps-precision-'));
afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

const TOKENS = [1, 17, 42, 5, 88, 23, 64, 9, 71, 30, 2, 55];

/** max over positions of max |Δlogit| ÷ (max − min of the reference logits at that position). */
async function relativeError(checkpoint: string, precision: Precision, want: Float32Array[]): Promise<number> {
  const { dir } = await compileModel({ checkpointDir: checkpoint, cacheRoot, options: { precision, requireTokenizer: false } });
  if (precision === 'fp16') expect(readManifest(dir)!.kvDtype).toBe('float16');
  const run = await GraphRunner.open(dir);
  try {
    const got = await run.run({ ids: [TOKENS] });
    const V = run.arch.vocabSize;
    let worst = 0;
    want.forEach((w, p) => {
      worst = Math.max(worst, maxAbsDiff(got.logits.subarray(p * V, (p + 1) * V), w) / (Math.max(...w) - Math.min(...w)));
    });
    return worst;
  } finally {
    await run.release();
  }
}

const PRECISIONS: Precision[] = ['int8', 'int4', 'fp16'];

/** The reference logits of a checkpoint, computed once. */
const references = new Map<string, Float32Array[]>();
function reference(dir: string): Float32Array[] {
  let r = references.get(dir);
  if (!r) references.set(dir, (r = ReferenceModel.load(dir).forward(TOKENS).logits));
  return r;
}

describe.each(['qwen3', 'gemma2', 'llama'] as TinyName[])('tiny random %s against the fp32 reference', (name) => {
  it.each(PRECISIONS)('%s stays within the documented bound', async (precision) => {
    const want = reference(tinyCheckpoint(name));
    const err = await relativeError(tinyCheckpoint(name), precision, want);
    console.log(`${name} ${precision}: max |Δlogit| / logit range ${err.toFixed(4)} (bound ${TOLERANCE.tiny[precision]})`);
    expect(err).toBeLessThan(TOLERANCE.tiny[precision]);
    expect(err).toBeGreaterThan(0); // the precision was really reduced
  });
});

describe.skipIf(!haveStories)('stories260K (trained weights) against the fp32 reference', () => {
  it.each(PRECISIONS)('%s stays within the documented bound', async (precision) => {
    const want = reference(STORIES);
    const err = await relativeError(STORIES, precision, want);
    console.log(`stories260K ${precision}: max |Δlogit| / logit range ${err.toFixed(4)} (bound ${TOLERANCE.trained[precision]})`);
    expect(err).toBeLessThan(TOLERANCE.trained[precision]);
    expect(err).toBeGreaterThan(0);
  });
});
