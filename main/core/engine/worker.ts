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
import { requestSchema, type EngineEvent, type ModelStatus } from './protocol.ts';
import { StudioError, errorCode, zodIssueLine } from '../errors.ts';

if (!parentPort) throw new Error('engine worker: must run inside a worker thread');

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const port = parentPort;

let model: CompiledModel | null = null;
let tokenizer: TextTokenizer | null = null;
let status: ModelStatus | null = null;
/** One per request from its arrival, so a request still waiting in the queue can be cancelled too. */
const controllers = new Map<number, AbortController>();
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

const send = (e: EngineEvent, transfer: ArrayBuffer[] = []) => port.postMessage(e, transfer);

function requireModel(): CompiledModel {
  if (!model) throw new StudioError('model-load', 'no model is loaded');
  return model;
}

const progress = (id: number) => (done: number, total: number) => send({ id, type: 'progress', done, total });

function cancellable<T>(id: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return work(controllers.get(id)!.signal);
}

async function handle(id: number, op: string, args: any): Promise<unknown> {
  switch (op) {
    case 'load': {
      if (model) { await model.release(); model = null; tokenizer = null; status = null; }
      const t0 = performance.now();
      const m = await CompiledModel.load(args.dir, args.session);
      model = m;
      tokenizer = m.manifest.hasTokenizer ? TextTokenizer.load(m.dir) : null;
      status = {
        dir: m.dir, provider: m.provider, providerReason: m.providerReason, architecture: m.arch,
        precision: m.manifest.options.precision, hasTokenizer: tokenizer !== null, loadMs: performance.now() - t0,
      };
      return status;
    }
    case 'unload':
      if (model) await model.release();
      model = null; tokenizer = null; status = null;
      collectGarbage(); // the caches and logits of past runs are JS memory: give it back now, not later
      return null;
    case 'status':
      return status;
    case 'generate':
      return cancellable(id, (signal) => generateText(requireModel(), tokenizer, args, {
        signal,
        onToken: (e) => send({ id, type: 'token', ...e }),
      }));
    case 'capture':
      return cancellable(id, (signal) => captureActivations(requireModel(), args.pairs, { ...args, signal, onProgress: progress(id) }));
    case 'score':
      return cancellable(id, (signal) => scoreContinuation(requireModel(), args.rows, { ...args, signal, onProgress: progress(id) }));
    case 'distribution':
      return cancellable(id, (signal) => nextTokenDistribution(requireModel(), args.prompts, { ...args, signal, onProgress: progress(id) }));
    case 'residualNorms':
      return cancellable(id, (signal) => residualNorms(requireModel(), args.sequences, { ...args, signal, onProgress: progress(id) }));
    default:
      throw new Error(`engine: unknown op ${op}`);
  }
}

port.on('message', (raw: unknown) => {
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
    send({ id, type: 'error', code: 'usage', message: zodIssueLine(parsed.error, 'engine request', ' ') });
    return;
  }
  const req = parsed.data;
  // Cancellation must not wait behind the request it cancels.
  if (req.op === 'cancel') {
    controllers.get(req.args.target)?.abort();
    send({ id: req.id, type: 'result', value: controllers.has(req.args.target) });
    return;
  }
  controllers.set(req.id, new AbortController());
  schedule(req.op === 'load' || req.op === 'unload', async () => {
    // Let messages already delivered (a cancel sent right behind its request) land first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      send({ id: req.id, type: 'result', value: await handle(req.id, req.op, req.args) });
    } catch (e) {
      // The code crosses the thread boundary; the host rebuilds the StudioError from it.
      send({ id: req.id, type: 'error', code: errorCode(e), message: String((e as Error)?.message ?? e).split('\n')[0]! });
    } finally {
      controllers.delete(req.id);
    }
  });
});
