// Child process for bench/engine.ts: times llama.cpp (node-llama-cpp's prebuilt CPU binary) on a
// GGUF file, alone in its process so neither runtime's threads or memory disturb the other.
//
// Timing: sequence.evaluate(prompt, { temperature: 0 }) yields each greedy token right after it is
// sampled; the next yield comes after that token has been evaluated and the next one sampled. So
// (yields − 1) / (last yield − first yield) is decode tokens per second — one forward of one
// token plus sampling per step, like our generate() — and the time to the first yield is the
// prompt's prefill plus one sampling. Reps run on a cleared sequence of the same context.
// Input: one JSON argument; output: one JSON line.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';

const argsSchema = z.object({
  gguf: z.string(),
  threads: z.number().int().positive(),
  /** Runs, each: a prompt and how many tokens to generate after it. */
  runs: z.array(
    z.object({
      label: z.string(),
      prompt: z.array(z.number().int().nonnegative()).min(1),
      newTokens: z.number().int().min(2),
      reps: z.number().int().positive(),
    }),
  ),
});

/**
 * This process's peak RSS. Linux's getrusage maxRSS of a spawned child starts at the parent's RSS
 * (fork copies it, exec keeps the high-water mark), so read VmHWM, which belongs to the new image.
 */
function peakRssMiB(): number {
  try {
    const kb = /^VmHWM:\s*(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

const args = argsSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const out: Record<string, unknown> = {};
try {
  const t0 = performance.now();
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    usePrebuiltBinaries: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
  });
  out.systemInfo = llama.systemInfo;
  let model;
  try {
    model = await llama.loadModel({ modelPath: args.gguf, gpuLayers: 0 });
  } catch (e) {
    throw new Error(`llama.cpp refused ${args.gguf}: ${String((e as Error).message ?? e).split('\n')[0]}`, { cause: e });
  }
  out.loadMs = performance.now() - t0;
  const longest = Math.max(...args.runs.map((r) => r.prompt.length + r.newTokens));
  const context = await model.createContext({ contextSize: longest + 16, batchSize: 512, sequences: 1, threads: args.threads });
  const seq = context.getSequence();
  const runs: Record<string, { prefillMs: number; decodeTokPerS: number; all: number[]; generated: number }> = {};
  for (const run of args.runs) {
    const rates: number[] = [];
    const prefills: number[] = [];
    let generated = 0;
    for (let rep = 0; rep < run.reps; rep++) {
      await seq.clearHistory();
      const times: number[] = [];
      const start = performance.now();
      for await (const _token of seq.evaluate(run.prompt as Token[], { temperature: 0 })) {
        times.push(performance.now());
        if (times.length >= run.newTokens) break;
      }
      generated = times.length;
      prefills.push(times[0]! - start);
      rates.push(((times.length - 1) * 1000) / (times.at(-1)! - times[0]!));
    }
    runs[run.label] = { prefillMs: median(prefills), decodeTokPerS: median(rates), all: rates, generated };
  }
  out.runs = runs;
  out.maxRssMiB = peakRssMiB();
  await context.dispose();
  await model.dispose();
  await llama.dispose();
} catch (e) {
  out.error = String((e as Error).message ?? e).split('\n')[0];
}
console.log(JSON.stringify(out));
