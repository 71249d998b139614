// The engine's operations over one resident model: the handlers of the engine contract and their
// scheduling. Requests on the loaded model run side by side, taking turns at every decode step or
// batch (each loop yields to the event loop), so a short chat is not stuck behind a long capture;
// load and unload wait for everything before them and hold back everything after them. Served from
// the worker thread (worker.ts) by default, or in the host's own thread (Engine's inProcess option).
// Never touches the database or UI.
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { CompiledModel } from './model.ts';
import { generateText } from './text-generation.ts';
import { captureActivations, residualNorms } from './capture.ts';
import { scoreContinuation, nextTokenDistribution } from './scoring.ts';
import type { EngineContract, ModelStatus } from './protocol.ts';
import { StudioError } from '../errors.ts';
import type { Handlers, OpName } from '../rpc/contract.ts';

export interface EngineService {
  handlers: Handlers<EngineContract>;
  schedule(op: OpName<EngineContract>, run: () => Promise<void>): void;
}

/** @param collectGarbage run after an unload (the worker exposes V8's gc; in-process there may be none). */
export function createEngineService(collectGarbage: () => void = () => {}): EngineService {
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
        spinning: args.session.spinning ?? true,
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

  return { handlers, schedule: (op, run) => schedule(op === 'load' || op === 'unload', run) };
}
