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

  load(dir: string, session: SessionOptions = {}): Promise<EngineResult<'load'>> {
    return this.rpc.api.load({ dir, session });
  }

  unload(): Promise<null> {
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
