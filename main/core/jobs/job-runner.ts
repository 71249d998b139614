// Long contract calls as jobs. `jobs.op(kind, handler)` wraps an operation's handler (one line at
// its definition in app-service.ts): each call records a job row in the library (its kind and the
// validated args), follows the handler's `progress` events (stage, done/total, ETA from the rate —
// written to the library at most every `throttleMs`), and marks the row succeeded, failed or
// cancelled. `cancel(id)` aborts a running job whoever started it; `resume(id)` re-issues the
// recorded args, and the work's own checkpoints (jobs/batch-checkpoint.ts for training and sweeps,
// the hub's `.incomplete` files for downloads, the compile cache) make it continue rather than
// start over. At start-up `recover()` marks jobs a dead process left 'running' as interrupted
// (the library's 'paused' with message 'interrupted', resumable).
//
// Following progress of jobs a window did not start: `subscribe()` (the `jobs.watch` operation
// streams it) gets every change as it is written. A stream rather than polling `jobs.list` every
// second: changes arrive at the throttle rate with no query per window per second, and a job that
// starts and ends between two polls is still seen. Jobs of other processes (a CLI run on the same
// data dir) are not streamed: `jobs.list` reads them from the library.
import { StudioError } from '../errors.ts';
import type { Library } from '../library/index.ts';
import type { Job, JobStatus } from '../library/schema.ts';
import type { Contract, HandlerContext, Handlers, OpName } from '../rpc/contract.ts';

export interface JobProgress {
  stage: string;
  done: number;
  total: number;
  /** The work's own estimate, when it has one (it knows which items were resumed); else computed here from the rate. */
  etaMs?: number | null;
}

/** A job as the UI sees it. */
export interface JobView {
  id: string;
  kind: string;
  status: JobStatus;
  /** Left 'running' by a process that stopped (crash, kill, restart): resumable. */
  interrupted: boolean;
  stage: string | null;
  done: number;
  total: number;
  /** done/total of the current stage, 0..1. */
  progress: number;
  etaMs: number | null;
  message: string;
  /** The operation's validated args: what resume re-issues. */
  params: unknown;
  result: unknown;
  error: string | null;
  /** How many times it has been started (1 + resumes). */
  runs: number;
  /** Running in this process now (cancel aborts it). */
  live: boolean;
  /** Can be resumed: stopped before it finished, and this process knows its operation. */
  resumable: boolean;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface JobState {
  stage: string | null;
  done: number;
  total: number;
  etaMs: number | null;
  runs: number;
}

interface Live {
  controller: AbortController;
  state: JobState;
  /** Where the current stage started, for the rate. */
  stageStart: { at: number; done: number };
  lastWrite: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface JobRunnerOptions {
  /** Least time between two progress writes (and watch events) of one job; default 500 ms. */
  throttleMs?: number;
}

type AnyHandler = (args: unknown, ctx: HandlerContext<Contract, string>) => unknown;
const RESUMABLE: JobStatus[] = ['paused', 'cancelled', 'failed'];
const isProgress = (p: unknown): p is JobProgress =>
  !!p && typeof p === 'object' && typeof (p as JobProgress).stage === 'string' && typeof (p as JobProgress).done === 'number';
const oneLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0]!;

export class JobRunner<C extends Contract> {
  private readonly live = new Map<string, Live>();
  private readonly ops = new Map<string, AnyHandler>();
  private readonly listeners = new Set<(job: JobView) => void>();
  private readonly throttleMs: number;

  constructor(
    private readonly contract: C,
    private readonly lib: Library,
    opts: JobRunnerOptions = {},
  ) {
    this.throttleMs = opts.throttleMs ?? 500;
  }

  /** Marks jobs a previous process left 'running' as interrupted; returns their ids. Call once, at start-up. */
  recover(): string[] {
    return this.lib.jobs.markInterrupted();
  }

  /** The handler of a long operation, run as a job (and resumable by `kind`, the operation's name). */
  op<K extends OpName<C>>(kind: K, handler: Handlers<C>[K]): Handlers<C>[K] {
    this.ops.set(kind, handler as unknown as AnyHandler);
    return ((args: unknown, ctx: HandlerContext<Contract, string>) => this.run(kind, args, ctx, null)) as unknown as Handlers<C>[K];
  }

  list(q: { status?: JobStatus[]; kind?: string; limit?: number } = {}): JobView[] {
    return this.lib.jobs.list(q).map((j) => this.view(j));
  }

  get(id: string): JobView {
    return this.view(this.lib.jobs.require(id));
  }

  /** Every change of every job of this process, as it is written. Returns the unsubscribe. */
  subscribe(listener: (job: JobView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops a job: a running one is aborted (it ends 'cancelled'; its checkpoint stays), a paused one is marked cancelled. */
  cancel(id: string): JobView {
    const job = this.lib.jobs.require(id);
    const live = this.live.get(id);
    if (live) {
      live.controller.abort(new StudioError('cancelled', `job ${id} (${job.kind}): cancelled`));
      return this.view(job);
    }
    if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled')
      throw new StudioError('usage', `job ${id}: already ${job.status}, nothing to cancel`);
    return this.write(id, { status: 'cancelled', message: 'cancelled' });
  }

  /**
   * Re-issues a stopped job's recorded args under the same job id; the work's checkpoints make it
   * continue. Settles with the job when it ends; `ctx` (the resuming call) streams its progress and cancels it.
   */
  async resume(id: string, ctx: HandlerContext<Contract, string>): Promise<JobView> {
    const job = this.lib.jobs.require(id);
    if (this.live.has(id)) throw new StudioError('conflict', `job ${id}: already running`);
    if (!RESUMABLE.includes(job.status))
      throw new StudioError('usage', `job ${id}: ${job.status}, only a paused, cancelled or failed job resumes`);
    if (!this.ops.has(job.kind)) throw new StudioError('usage', `job ${id}: its operation ${job.kind} cannot be resumed here`);
    const spec = this.contract[job.kind]!;
    const args = spec.args.safeParse(job.params);
    if (!args.success)
      throw new StudioError('format', `job ${id}: its recorded params no longer fit ${job.kind} (${args.error.issues[0]?.message})`);
    // Only the events jobs.resume declares (progress) go to the resuming caller.
    const resumeCtx: HandlerContext<Contract, string> = {
      id: ctx.id,
      signal: ctx.signal,
      emit: (event, payload) => {
        if (event === 'progress') ctx.emit(event, payload);
      },
    };
    await this.run(job.kind, args.data, resumeCtx, id).catch(() => {});
    return this.get(id);
  }

  private async run(kind: string, args: unknown, ctx: HandlerContext<Contract, string>, resumeId: string | null): Promise<unknown> {
    const handler = this.ops.get(kind)!;
    const before = resumeId ? this.lib.jobs.require(resumeId) : this.lib.jobs.create({ kind, params: args });
    const prev = stateOf(before);
    const state: JobState = { stage: null, done: 0, total: 0, etaMs: null, runs: prev.runs + 1 };
    const controller = new AbortController();
    const live: Live = { controller, state, stageStart: { at: performance.now(), done: 0 }, lastWrite: 0, timer: null };
    this.live.set(before.id, live);
    const id = before.id;
    this.write(id, { status: 'running', progress: 0, message: resumeId ? 'resumed' : 'started', error: null, result: null, state });
    const onAbort = () => controller.abort(ctx.signal.reason);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    const jobCtx: HandlerContext<Contract, string> = {
      id: ctx.id,
      signal: controller.signal,
      emit: (event, payload) => {
        if (event === 'progress' && isProgress(payload)) this.progress(id, live, payload);
        ctx.emit(event, payload);
      },
    };
    try {
      const result = await handler(args, jobCtx);
      this.settle(id, live, { status: 'succeeded', progress: 1, message: 'done', result });
      return result;
    } catch (e) {
      const cancelled = controller.signal.aborted;
      this.settle(
        id,
        live,
        cancelled ? { status: 'cancelled', message: 'cancelled' } : { status: 'failed', message: 'failed', error: oneLine(e) },
      );
      throw e;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  private progress(id: string, live: Live, p: JobProgress) {
    const now = performance.now();
    const s = live.state;
    const stageChanged = s.stage !== p.stage;
    if (stageChanged || p.done < s.done) live.stageStart = { at: now, done: p.done };
    // ETA: the work's own estimate, else the rate over this stage so far (items already done when it started are not counted).
    const rate = (p.done - live.stageStart.done) / (now - live.stageStart.at);
    const etaMs = typeof p.etaMs === 'number' ? p.etaMs : rate > 0 ? (p.total - p.done) / rate : null;
    Object.assign(s, { stage: p.stage, done: p.done, total: p.total, etaMs });
    if (live.timer) return; // a write is already due with the newest numbers
    const wait = stageChanged ? 0 : live.lastWrite + this.throttleMs - now;
    if (wait <= 0) this.flush(id, live);
    else live.timer = setTimeout(() => this.flush(id, live), wait);
  }

  private flush(id: string, live: Live) {
    live.timer = null;
    live.lastWrite = performance.now();
    const s = live.state;
    this.write(id, {
      progress: s.total > 0 ? Math.min(1, s.done / s.total) : 0,
      message: `${s.stage} ${s.done}/${s.total}`,
      state: s,
    });
  }

  private settle(id: string, live: Live, patch: Parameters<Library['jobs']['update']>[1]) {
    if (live.timer) clearTimeout(live.timer);
    this.live.delete(id);
    this.write(id, { ...patch, state: { ...live.state, etaMs: null } });
  }

  private write(id: string, patch: Parameters<Library['jobs']['update']>[1]): JobView {
    const view = this.view(this.lib.jobs.update(id, patch));
    for (const l of this.listeners) l(view);
    return view;
  }

  private view(j: Job): JobView {
    const s = stateOf(j);
    const live = this.live.has(j.id);
    return {
      id: j.id,
      kind: j.kind,
      status: j.status,
      interrupted: j.status === 'paused' && j.message === 'interrupted',
      stage: s.stage,
      done: s.done,
      total: s.total,
      progress: j.progress,
      etaMs: j.status === 'running' ? s.etaMs : null,
      message: j.message,
      params: j.params,
      result: j.result,
      error: j.error,
      runs: s.runs,
      live,
      resumable: !live && RESUMABLE.includes(j.status) && this.ops.has(j.kind),
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
      startedAt: j.startedAt,
      finishedAt: j.finishedAt,
    };
  }
}

function stateOf(j: Job): JobState {
  const s = (j.state ?? {}) as Partial<JobState>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    stage: typeof s.stage === 'string' ? s.stage : null,
    done: num(s.done),
    total: num(s.total),
    etaMs: typeof s.etaMs === 'number' ? s.etaMs : null,
    runs: num(s.runs),
  };
}
