// llama.cpp (via node-llama-cpp's prebuilt CPU binaries) as an independent reference implementation
// for tests: greedy generation and tokenization of a GGUF file. Never downloads or builds anything.
import fs from 'node:fs';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';

let llamaPromise: Promise<Llama> | null = null;
const models = new Map<string, Promise<LlamaModel>>();

/** Milliseconds the last getLlama() took (binary + backend load), for reporting. */
export let llamaCppLoadMs: number | null = null;

function llama(): Promise<Llama> {
  llamaPromise ??= (async () => {
    const start = performance.now();
    const instance = await getLlama({
      gpu: false,
      build: 'never', // use the prebuilt binary in @node-llama-cpp/<platform>, or fail
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      // 'warn' prints harmless GGUF notes (e.g. "bad special token … using default id -1").
      logLevel: LlamaLogLevel.error,
    });
    llamaCppLoadMs = performance.now() - start;
    return instance;
  })();
  return llamaPromise;
}

function model(ggufPath: string): Promise<LlamaModel> {
  let loaded = models.get(ggufPath);
  if (!loaded) {
    if (!fs.existsSync(ggufPath)) throw new Error(`${ggufPath}: missing (GGUF model file)`);
    loaded = llama().then((l) => l.loadModel({ modelPath: ggufPath, gpuLayers: 0 }));
    models.set(ggufPath, loaded);
    loaded.catch(() => models.delete(ggufPath)); // let a later call retry
  }
  return loaded;
}

/**
 * Evaluate exactly `promptTokens` (no BOS added) and greedily generate up to `maxTokens` tokens.
 * Stops early only when the model emits an end-of-generation token, which node-llama-cpp does not
 * yield: the result ends with the token before it.
 */
export async function llamaCppGreedy(ggufPath: string, promptTokens: number[], maxTokens: number): Promise<number[]> {
  if (promptTokens.length === 0) throw new Error('llamaCppGreedy: promptTokens is empty');
  const m = await model(ggufPath);
  const size = promptTokens.length + maxTokens;
  const context = await m.createContext({
    contextSize: Math.max(size, 32),
    batchSize: Math.max(size, 32),
    sequences: 1,
    // One thread: on a 2-core machine two llama.cpp threads spin against the test runner and were
    // measured ~40x slower (1.6 s vs 40 ms for 80 tokens of stories260K).
    threads: 1,
  });
  try {
    const out: number[] = [];
    if (maxTokens <= 0) return out;
    // temperature 0 is greedy argmax; no repeat penalty or other samplers are set.
    for await (const token of context.getSequence().evaluate(promptTokens as Token[], { temperature: 0 })) {
      out.push(token);
      if (out.length >= maxTokens || m.isEogToken(token)) break;
    }
    return out;
  } finally {
    await context.dispose();
  }
}

/** llama.cpp's own tokenization of `text`: no BOS added; special-token text is not parsed. */
export async function llamaCppTokenize(ggufPath: string, text: string): Promise<number[]> {
  const m = await model(ggufPath);
  return [...m.tokenize(text, false)];
}

/** Free models and the llama.cpp backend (call in afterAll so the test process exits cleanly). */
export async function disposeLlamaCpp(): Promise<void> {
  const pending = [...models.values()];
  models.clear();
  for (const loaded of pending) await (await loaded.catch(() => null))?.dispose();
  const l = llamaPromise;
  llamaPromise = null;
  if (l) await (await l.catch(() => null))?.dispose();
}
