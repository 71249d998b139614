// The host side of the engine: spawns the worker thread, sends typed requests, routes streamed
// events back to their callers. The host's event loop stays free while the worker computes.
import { Worker } from 'node:worker_threads';
import type { z } from 'zod';
import type { EngineEvent, EngineOp, ModelStatus, captureArgsSchema, scoreArgsSchema, distributionArgsSchema, residualNormsArgsSchema } from './protocol.ts';
import type { CaptureResult } from './capture.ts';
import type { ScoredRow } from './scoring.ts';

export interface LongWork { signal?: AbortSignal; onProgress?: (done: number, total: number) => void }
import type { SessionOptions } from './session-options.ts';
import { prepareOrtEnvironment } from './ort-env.ts';
import type { TextGenerateRequest, TextGenerateResult, TextTokenEvent } from './text-generation.ts';

export class EngineError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onToken?: (e: TextTokenEvent) => void;
  onProgress?: (done: number, total: number) => void;
}

export class Engine {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private exited: Error | null = null;

  constructor() {
    prepareOrtEnvironment(); // before the worker creates onnxruntime's environment: see ort-env.ts
    this.worker = new Worker(new URL('./worker-entry.mjs', import.meta.url));
    this.worker.on('message', (e: EngineEvent) => this.onEvent(e));
    this.worker.on('error', (e) => this.fail(new EngineError('EngineCrash', `engine worker crashed: ${e.message}`)));
    this.worker.on('exit', (code) => this.fail(new EngineError('EngineCrash', `engine worker exited (code ${code})`)));
  }

  private fail(err: Error): void {
    this.exited ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private onEvent(e: EngineEvent): void {
    const p = this.pending.get(e.id);
    if (!p) return;
    if (e.type === 'token') p.onToken?.(e);
    else if (e.type === 'progress') p.onProgress?.(e.done, e.total);
    else {
      this.pending.delete(e.id);
      if (e.type === 'result') p.resolve(e.value);
      else p.reject(new EngineError(e.name, e.message));
    }
  }

  private call<T>(req: { op: EngineOp; args: unknown }, hooks: Omit<Pending, 'resolve' | 'reject'> = {}, signal?: AbortSignal): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...hooks });
      if (signal) {
        const cancel = () => this.worker.postMessage({ id: this.nextId++, op: 'cancel', args: { target: id } });
        if (signal.aborted) queueMicrotask(cancel);
        else signal.addEventListener('abort', cancel, { once: true });
      }
      this.worker.postMessage({ id, ...req });
    });
  }

  load(dir: string, session: SessionOptions = {}): Promise<ModelStatus> {
    return this.call({ op: 'load', args: { dir, session } });
  }

  unload(): Promise<void> {
    return this.call({ op: 'unload', args: {} });
  }

  status(): Promise<ModelStatus | null> {
    return this.call({ op: 'status', args: {} });
  }

  generate(req: TextGenerateRequest, opts: { onToken?: (e: TextTokenEvent) => void; signal?: AbortSignal } = {}): Promise<TextGenerateResult> {
    return this.call({ op: 'generate', args: req }, { onToken: opts.onToken }, opts.signal);
  }

  capture(args: z.input<typeof captureArgsSchema>, opts: LongWork = {}): Promise<CaptureResult> {
    return this.call({ op: 'capture', args }, { onProgress: opts.onProgress }, opts.signal);
  }

  score(args: z.input<typeof scoreArgsSchema>, opts: LongWork = {}): Promise<ScoredRow[]> {
    return this.call({ op: 'score', args }, { onProgress: opts.onProgress }, opts.signal);
  }

  distribution(args: z.input<typeof distributionArgsSchema>, opts: LongWork = {}): Promise<Float32Array[]> {
    return this.call({ op: 'distribution', args }, { onProgress: opts.onProgress }, opts.signal);
  }

  residualNorms(args: z.input<typeof residualNormsArgsSchema>, opts: LongWork = {}): Promise<Float32Array> {
    return this.call({ op: 'residualNorms', args }, { onProgress: opts.onProgress }, opts.signal);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
  }
}
