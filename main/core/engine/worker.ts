// The engine worker: owns the onnxruntime session (one model resident), streams tokens, and cancels
// between steps. Requests on the loaded model run side by side, taking turns at every decode step or
// batch (each loop yields to the event loop), so a short chat is not stuck behind a long capture;
// load and unload wait for everything before them and hold back everything after them.
// Never touches the database or UI.
import { parentPort } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { CompiledModel } from './model.ts';
import { generateText } from './text-generation.ts';
import { captureActivations, residualNorms } from './capture.ts';
import { scoreContinuation, nextTokenDistribution } from './scoring.ts';
import { engineContract, type EngineContract, type ModelStatus } from './protocol.ts';
import { createServer } from '../rpc/server.ts';
import { StudioError } from '../errors.ts';
import type { Handlers } from '../rpc/contract.ts';

if (!parentPort) throw new Error('engine worker: must run inside a worker thread');

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const port = parentPort;

let model: CompiledModel | null = null;
let tokenizer: TextTokenizer | null = null;
let status: ModelStatus | null = null;
/** Settles when the last load/unload is done; model work started since then is in `inFlight`. */
let barrier: Promise<void> = Promise.resolve();
const inFlight = new Set<Promise<void>>();

function schedule(exclusive: boolean, run: () => Promise<void>): void {
  if (exclusive) {
    const before = Promise.all([barrier, ...inFlight]);
    inFlight.clear();
    barrier = before.then(run);
    return;
  }
  const p = barrier.then(run);
  inFlight.add(p);
  void p.then(() => inFlight.delete(p));
}

function requireModel(): CompiledModel {
  if (!model) throw new StudioError('model-load', 'no model is loaded');
  return model;
}

// One handler per operation of the contract (a missing one fails to compile); each receives its
// validated args and returns what the contract's result schema describes.
const handlers: Handlers<EngineContract> = {
  async load(args) {
    if (model) {
      await model.release();
      model = null;
      tokenizer = null;
      status = null;
    }
    const t0 = performance.now();
    const m = await CompiledModel.load(args.dir, args.session);
    model = m;
    tokenizer = m.manifest.hasTokenizer ? TextTokenizer.load(m.dir) : null;
    status = {
      dir: m.dir,
      provider: m.provider,
      providerReason: m.providerReason,
      architecture: m.arch,
      precision: m.manifest.options.precision,
      hasTokenizer: tokenizer !== null,
      loadMs: performance.now() - t0,
    };
    return status;
  },
  async unload() {
    if (model) await model.release();
    model = null;
    tokenizer = null;
    status = null;
    collectGarbage(); // the caches and logits of past runs are JS memory: give it back now, not later
    return null;
  },
  status: () => status,
  generate: (args, { signal, emit }) => generateText(requireModel(), tokenizer, args, { signal, onToken: (e) => emit('token', e) }),
  capture: (args, { signal, emit }) =>
    captureActivations(requireModel(), args.pairs, { ...args, signal, onProgress: (done, total) => emit('progress', { done, total }) }),
  score: (args, { signal, emit }) =>
    scoreContinuation(requireModel(), args.rows, { ...args, signal, onProgress: (done, total) => emit('progress', { done, total }) }),
  distribution: (args, { signal, emit }) =>
    nextTokenDistribution(requireModel(), args.prompts, {
      ...args,
      signal,
      onProgress: (done, total) => emit('progress', { done, total }),
    }),
  residualNorms: (args, { signal, emit }) =>
    residualNorms(requireModel(), args.sequences, { ...args, signal, onProgress: (done, total) => emit('progress', { done, total }) }),
};

const server = createServer(engineContract, handlers, {
  name: 'engine',
  send: (message) => port.postMessage(message),
  schedule: (op, run) => schedule(op === 'load' || op === 'unload', run),
});
port.on('message', (raw: unknown) => server.receive(raw));
