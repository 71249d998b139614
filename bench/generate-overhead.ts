// What `generate()` adds per decode token beyond the forward pass, at long context (issue 14, item 5).
// One loaded int4 Qwen3-0.6B-shaped model (the CPU default compile), a random prompt of --context
// tokens, greedy. Alternating rounds of:
//   generate: `generate()` of --tokens new tokens; per decode step its wall time (decodeMs / steps),
//     the time inside model.forward() and the time inside onnxruntime's session.run();
//   forward:  model.forward() one-token steps on a cache already holding the prompt, growing from
//     --context like generate's (cache rolled back after each round), timed the same three ways.
// The difference between generate's step and forward's step is what the loop adds (sampling,
// stop checks, events); forward() − session.run() is the JS around the graph (masks, feeds, the
// cache append, its growth every 128 slots).
// Usage: npx tsx bench/generate-overhead.ts [--context 1000] [--tokens 24] [--rounds 3] [--threads 2]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { compileModel } from '../native-models/compile.ts';
import { ensureRandomCheckpoint } from '../native-models/test-support/random-checkpoint.ts';
import { CompiledModel, type ForwardInput } from '../main/core/engine/model.ts';
import { generate } from '../main/core/engine/generate.ts';
import { lcg, median, randomTokens } from './engine/measure.ts';

const { values } = parseArgs({
  options: {
    context: { type: 'string', default: '1000' },
    tokens: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
  },
});
const context = Number(values.context);
const tokens = Number(values.tokens);
const bench = join(import.meta.dirname, '..', '.bench');
const ckpt = ensureRandomCheckpoint(join(bench, 'qwen3-0.6b-shape'));
const { dir, manifest } = await compileModel({
  checkpointDir: ckpt,
  cacheRoot: join(bench, 'compiled'),
  options: { precision: 'int4', requireTokenizer: false },
});
const o = manifest.options;
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}; load average ${loadavg()[0]!.toFixed(1)}; ${values.threads} threads; ` +
    `int4 ${o.quantScheme} block ${o.blockSize} (lm_head ${o.headBlockSize}), fusedOps ${o.fusedOps}`,
);
const model = await CompiledModel.load(dir, { provider: 'cpu', threads: Number(values.threads) });

// Time spent inside forward() and inside session.run(), accumulated while a phase runs.
const spent = { forward: 0, run: 0 };
const session = (model as unknown as { session: { run: (...a: unknown[]) => Promise<unknown> } }).session;
const run = session.run.bind(session);
session.run = async (...a: unknown[]) => {
  const t = performance.now();
  try {
    return await run(...a);
  } finally {
    spent.run += performance.now() - t;
  }
};
const forward = model.forward.bind(model);
model.forward = async (x: ForwardInput) => {
  const t = performance.now();
  try {
    return await forward(x);
  } finally {
    spent.forward += performance.now() - t;
  }
};

const rnd = lcg(5);
const prompt = randomTokens(rnd, context, model.arch.vocabSize);
const one = (id: number, pos: number, cache: ReturnType<CompiledModel['newCache']>): ForwardInput => ({
  batch: 1,
  seq: 1,
  ids: BigInt64Array.of(BigInt(id)),
  mask: BigInt64Array.of(1n),
  positions: BigInt64Array.of(BigInt(pos)),
  cache,
  keep: 1,
});

// forward: the prompt once into a cache, then rounds of steps rolled back after each round
const cache = model.newCache(1);
await model.forward({
  batch: 1,
  seq: context,
  ids: BigInt64Array.from(prompt.map(BigInt)),
  mask: new BigInt64Array(context).fill(1n),
  positions: BigInt64Array.from({ length: context }, (_, j) => BigInt(j)),
  cache,
  keep: 1,
});

const rows: Record<'generate' | 'forward', { step: number[]; fwd: number[]; run: number[] }> = {
  generate: { step: [], fwd: [], run: [] },
  forward: { step: [], fwd: [], run: [] },
};
for (let r = 0; r < Number(values.rounds); r++) {
  for (const phase of r % 2 ? (['forward', 'generate'] as const) : (['generate', 'forward'] as const)) {
    if (phase === 'generate') {
      // The prefill is not counted: reset the counters after the first token (the prefill's).
      let decodeStart = { forward: 0, run: 0 };
      const res = await generate(model, {
        rows: [{ prompt, sampling: { temperature: 0 } }],
        maxNewTokens: tokens,
        stopTokenIds: [],
        onToken: (e) => {
          if (e.index === 0) decodeStart = { ...spent };
        },
      });
      const steps = res.steps;
      rows.generate.step.push(res.decodeMs / steps);
      rows.generate.fwd.push((spent.forward - decodeStart.forward) / steps);
      rows.generate.run.push((spent.run - decodeStart.run) / steps);
    } else {
      const before = { ...spent };
      const t = performance.now();
      for (let i = 0; i < tokens - 1; i++) await model.forward(one((i * 7919) % model.arch.vocabSize, context + i, cache));
      const steps = tokens - 1;
      rows.forward.step.push((performance.now() - t) / steps);
      rows.forward.fwd.push((spent.forward - before.forward) / steps);
      rows.forward.run.push((spent.run - before.run) / steps);
      cache.truncate(context);
    }
  }
}
await model.release();

console.log(
  `\ncontext ${context}, ${tokens - 1} decode steps per round, ${values.rounds} rounds (load average now ${loadavg()[0]!.toFixed(1)})`,
);
console.log('| ms per decode token (median of rounds) | step | in forward() | in session.run() | forward() − run | step − forward() |');
console.log('|---|---|---|---|---|---|');
for (const [name, t] of Object.entries(rows)) {
  const s = median(t.step),
    f = median(t.fwd),
    g = median(t.run);
  console.log(`| ${name} | ${s.toFixed(1)} | ${f.toFixed(1)} | ${g.toFixed(1)} | ${(f - g).toFixed(2)} | ${(s - f).toFixed(2)} |`);
}
console.log(`generate ÷ forward step time: ${(median(rows.generate.step) / median(rows.forward.step)).toFixed(3)}`);
