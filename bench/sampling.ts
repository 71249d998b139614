// Sampler benchmark: measures the speed claims made in main/core/engine/sampling/ in one run, on a
// Qwen3-sized vocabulary (151,936 logits), against the straightforward code each trick replaced
// (written out here as baselines). Interleaved A/B rounds, medians; nothing is asserted.
// Usage: npx tsx bench/sampling.ts [--reps 40]   (~15 s of CPU)
import { parseArgs } from 'node:util';
import { expNonPositive, exp2Scaled, EXP_K } from '../main/core/engine/sampling/fast-exp.ts';
import { denseWeights } from '../main/core/engine/sampling/weights.ts';
import { argmax } from '../main/core/engine/sampling/top-k.ts';
import { logSumExp, topLogprobs } from '../main/core/engine/sampling/logprobs.ts';
import { TokenSampler } from '../main/core/engine/sampling/token-sampler.ts';
import { Rng } from '../main/core/engine/rng.ts';
import { randomLogits } from '../main/core/engine/test-support/logits.ts';
import { median } from './engine/measure.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '40' } } });
const reps = Number(values.reps);
const V = 151_936;
const logits = randomLogits(V, 77);
const w = new Float64Array(V);
/** A comparator sort of the vocabulary takes ~100× longer than anything else here: fewer rounds. */
const SORT_REPS = 5;
let sink = 0; // results feed this so no loop is optimised away

/** Median ms per call of a and b, measured in alternating rounds so drift falls on both. */
function ab(a: () => number, b: () => number, n = reps): [number, number] {
  for (let i = 0; i < Math.min(5, n); i++) sink += a() + b(); // JIT warm-up
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < n; r++) {
    let t0 = performance.now();
    sink += a();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    sink += b();
    tb.push(performance.now() - t0);
  }
  return [median(ta), median(tb)];
}

const rows: string[][] = [];
function report(claim: string, ours: string, base: string, [a, b]: [number, number]): void {
  rows.push([claim, `${ours} ${a.toFixed(3)} ms`, `${base} ${b.toFixed(3)} ms`, `${(b / a).toFixed(2)}×`]);
}

// 1. fast-exp.ts: "about 4× faster than Math.exp".
const xs = Float64Array.from(logits, (l) => Math.min(0, l - 24));
report(
  'exp over the vocabulary (fast-exp.ts: ~4×)',
  'expNonPositive',
  'Math.exp',
  ab(
    () => {
      let s = 0;
      for (let i = 0; i < V; i++) s += expNonPositive(xs[i]!);
      return s;
    },
    () => {
      let s = 0;
      for (let i = 0; i < V; i++) s += Math.exp(xs[i]!);
      return s;
    },
  ),
);

// 2. weights.ts: denseWeights "unrolled by four: ~15% faster". Baseline: the same loop, one lane.
const lmax = logits[argmax(logits)]!;
const scale = EXP_K / 0.7;
const tCut = 50 * EXP_K;
report(
  'softmax weights (weights.ts: unrolled ×4 ~15%)',
  'denseWeights',
  'one-lane loop',
  ab(
    () => denseWeights(logits, lmax, scale, tCut, w),
    () => {
      let total = 0;
      for (let i = 0; i < V; i++) {
        const t = (lmax - logits[i]!) * scale;
        const e = t <= tCut ? exp2Scaled(t) : 0;
        w[i] = e;
        total += e;
      }
      return total;
    },
  ),
);

// 3. top-k.ts: argmax "eight logits per branch".
report(
  'argmax (top-k.ts: 8 per branch)',
  'argmax',
  'plain loop',
  ab(
    () => argmax(logits),
    () => {
      let best = -Infinity;
      let at = -1;
      for (let i = 0; i < V; i++)
        if (logits[i]! > best) {
          best = logits[i]!;
          at = i;
        }
      return at;
    },
  ),
);

// 4. top-k.ts / logprobs.ts: top-k "without sorting the vocabulary".
const ids = Array.from({ length: V }, (_, i) => i);
report(
  'top 50 of the vocabulary (top-k.ts: no sort)',
  'topLogprobs(50)',
  'full sort',
  ab(
    () => topLogprobs(logits, 50).length,
    () => {
      const lse = logSumExp(logits);
      return ids
        .slice()
        .sort((a, b) => logits[b]! - logits[a]!)
        .slice(0, 50)
        .map((id) => logits[id]! - lse).length;
    },
    SORT_REPS,
  ),
);

// 5. token-sampler.ts: top-p by magnitude bins "without sorting". Baseline: transformers' way —
// sort by probability, cumulate to p, draw among the survivors.
const rng = new Rng(5);
function sortedTopP(l: Float32Array, T: number, p: number): number {
  const order = ids.slice().sort((a, b) => l[b]! - l[a]!);
  const m = l[order[0]!]!;
  let total = 0;
  for (let i = 0; i < V; i++) {
    const e = Math.exp((l[i]! - m) / T);
    w[i] = e;
    total += e;
  }
  let acc = 0;
  let n = 0;
  while (n < V && acc < p * total) acc += w[order[n++]!]!;
  let u = rng.next() * acc;
  for (let j = 0; j < n; j++) {
    u -= w[order[j]!]!;
    if (u < 0) return order[j]!;
  }
  return order[n - 1]!;
}
const studio = new TokenSampler({ seed: 1 }, V); // temperature 0.7, top-p 0.9
report(
  'draw with T 0.7, top-p 0.9 (token-sampler.ts: no sort)',
  'TokenSampler.next',
  'sort + cumulate',
  ab(
    () => studio.next(logits),
    () => sortedTopP(logits, 0.7, 0.9),
    SORT_REPS,
  ),
);

// 6. One decode step's sampling cost per setting (no baseline: the figure is what a step pays).
const history = Array.from({ length: 512 }, (_, i) => (i * 7919) % V);
const settings: [string, ConstructorParameters<typeof TokenSampler>[0]][] = [
  ['greedy', { greedy: true }],
  ['temperature 1 only', { temperature: 1, topP: 1 }],
  ['studio defaults (T 0.7, top-p 0.9)', {}],
  ['top-k 50, top-p 0.9, T 0.7, rep. penalty 1.1, 512-token history', { topK: 50, topP: 0.9, temperature: 0.7, repetitionPenalty: 1.1 }],
  ['min-p 0.05', { minP: 0.05, topP: 1 }],
];
const perSetting = settings.map(([name, p]) => {
  const s = new TokenSampler({ seed: 1, ...p }, V);
  const [ms] = ab(
    () => s.next(logits, history),
    () => 0,
  );
  return `  ${name.padEnd(66)} ${(ms * 1000).toFixed(0).padStart(6)} µs/call`;
});

console.log(`sampler bench: V = ${V}, ${reps} interleaved rounds, medians (node ${process.version})\n`);
const width = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((x, c) => x.padEnd(width[c]!)).join('  '));
console.log('\nTokenSampler.next per call:');
for (const line of perSetting) console.log(line);
if (sink === 42) console.log(''); // keeps sink alive
