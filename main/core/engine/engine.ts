// The host side of the engine: spawns the worker thread and calls it through the engine contract
// (protocol.ts): args, results and streamed events are all typed from that one declaration, and
// results are checked against it on arrival. The host's event loop stays free while the worker
// computes.
import { Worker } from 'node:worker_threads';
import { createClient, type RpcClient } from '../rpc/client.ts';
import { createServer } from '../rpc/server.ts';
import { createEngineService } from './engine-service.ts';
import { engineContract, type EngineArgs, type EngineContract, type EngineResult } from './protocol.ts';
import type { SessionOptions } from './session-options.ts';
import type { TextTokenEvent } from './text-generation.ts';
import { StudioError, isErrorCode } from '../errors.ts';

export interface LongWork {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}
import { prepareOrtEnvironment } from './ort-env.ts';

/** The worker's errors as StudioErrors: a code travels as the error's name (rpc/server.ts). */
function engineError(name: string, message: string): StudioError {
  if (isErrorCode(name)) return new StudioError(name, message);
  if (name === 'ProtocolError') return new StudioError('usage', message);
  if (name === 'AbortError') return new StudioError('cancelled', message);
  return new StudioError('internal', message);
}

export interface EngineOptions {
  /**
   * Serve the engine in this thread instead of a worker: for single-shot CLI commands, where a
   * worker's start (a second module graph, compiled again) is a large share of a short run and no
   * UI waits on the event loop (onnxruntime runs its sessions off the JS thread either way).
   */
  inProcess?: boolean;
}

interface Resident {
  dir: string;
  session: SessionOptions;
  /** The caller left `spinning` to the engine (the rule in `Engine.load`). */
  auto: boolean;
  spinning: boolean;
}
/** Engines of this process that hold a model: two sessions that both spin-wait slow each other. */
const resident = new Map<Engine, Resident>();

export class Engine {
  private worker: Worker | null = null;
  private rpc: RpcClient<EngineContract>;
  private closed = false;

  constructor(opts: EngineOptions = {}) {
    prepareOrtEnvironment(); // before the worker creates onnxruntime's environment: see ort-env.ts
    if (opts.inProcess) {
      // The same contract, client and server as over the thread; messages go by reference, each
      // delivered on a later microtask as a port would.
      const service = createEngineService();
      const server = createServer(engineContract, service.handlers, {
        name: 'engine',
        send: (m) => queueMicrotask(() => this.rpc.receive(m)),
        schedule: service.schedule,
      });
      this.rpc = createClient(engineContract, {
        name: 'engine',
        send: (m) => queueMicrotask(() => server.receive(m)),
        makeError: engineError,
      });
      return;
    }
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url));
    this.worker = worker;
    this.rpc = createClient(engineContract, {
      name: 'engine',
      send: (message) => worker.postMessage(message),
      makeError: engineError,
    });
    worker.on('message', (m: unknown) => this.rpc.receive(m));
    worker.on('error', (e) => this.rpc.close(new StudioError('internal', `engine worker crashed: ${e.message}`)));
    worker.on('exit', (code) => {
      this.closed = true;
      this.rpc.close(new StudioError('internal', `engine worker exited (code ${code})`));
    });
  }

  /**
   * Loads a model. Unless `session.spinning` is given, a model alone in this process spins
   * (onnxruntime's threads busy-wait between nodes: the fastest steps) and one with company does
   * not: measured on 2 cores, two spinning sessions stepping in turn each ran ~1.75× slower, as each
   * pool's spinning took the cores from the other (bench/README.md). A model already resident that
   * spins is reloaded with spinning off when a second one arrives, and stays so until its next load.
   */
  async load(dir: string, session: SessionOptions = {}): Promise<EngineResult<'load'>> {
    resident.delete(this);
    const auto = session.spinning === undefined;
    const others = [...resident.entries()];
    const spinning = session.spinning ?? others.length === 0;
    const result = await this.rpc.api.load({ dir, session: { ...session, spinning } });
    resident.set(this, { dir, session, auto, spinning });
    for (const [other, r] of others) {
      if (!r.auto || !r.spinning || resident.get(other) !== r) continue;
      r.spinning = false;
      await other.rpc.api.load({ dir: r.dir, session: { ...r.session, spinning: false } });
    }
    return result;
  }

  unload(): Promise<null> {
    resident.delete(this);
    return this.rpc.api.unload({});
  }

  status(): Promise<EngineResult<'status'>> {
    return this.rpc.api.status({});
  }

  generate(
    req: EngineArgs<'generate'>,
    opts: { onToken?: (e: TextTokenEvent) => void; signal?: AbortSignal } = {},
  ): Promise<EngineResult<'generate'>> {
    return this.rpc.api.generate(req, { signal: opts.signal, on: { token: opts.onToken } });
  }

  capture(args: EngineArgs<'capture'>, opts: LongWork = {}): Promise<EngineResult<'capture'>> {
    return this.rpc.api.capture(args, longWork(opts));
  }

  score(args: EngineArgs<'score'>, opts: LongWork = {}): Promise<EngineResult<'score'>> {
    return this.rpc.api.score(args, longWork(opts));
  }

  distribution(args: EngineArgs<'distribution'>, opts: LongWork = {}): Promise<EngineResult<'distribution'>> {
    return this.rpc.api.distribution(args, longWork(opts));
  }

  residualNorms(args: EngineArgs<'residualNorms'>, opts: LongWork = {}): Promise<EngineResult<'residualNorms'>> {
    return this.rpc.api.residualNorms(args, longWork(opts));
  }

  async close(): Promise<void> {
    resident.delete(this);
    if (this.closed) return;
    if (this.worker) {
      await this.worker.terminate();
      return;
    }
    this.closed = true;
    await this.rpc.api.unload({}).catch(() => {}); // in-process: give the session's memory back
    this.rpc.close(new StudioError('internal', 'engine closed'));
  }
}

function longWork({ signal, onProgress }: LongWork) {
  return { signal, on: { progress: onProgress && ((p: { done: number; total: number }) => onProgress(p.done, p.total)) } };
}
