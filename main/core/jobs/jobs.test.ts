// Jobs at the app service, with real work on the demo model: a training cancelled mid-way (by
// jobs.cancel, not by its caller) leaves the library intact and resumes from its checkpoint; a
// process killed mid-training leaves its job interrupted after a restart, and resume finishes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppService, type AppService } from '../app-service.ts';
import { appContract, type AppContract } from '../../../preload/contract.ts';
import { Library } from '../library/index.ts';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR } from '../test-support/demo-model.ts';
import type { HandlerContext, OpName } from '../rpc/contract.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ps-jobs-'));
const location = join(dataDir, 'location.json');
let service: AppService;
let modelId: string;

/** A caller's context: events collected, cancellable. */
function caller<K extends OpName<AppContract>>(_op: K, onEvent?: (event: string, payload: Record<string, unknown>) => void) {
  const ac = new AbortController();
  const events: { event: string; payload: Record<string, unknown> }[] = [];
  const ctx = {
    id: 1,
    signal: ac.signal,
    emit: (event: string, payload: unknown) => {
      events.push({ event, payload: payload as Record<string, unknown> });
      onEvent?.(event, payload as Record<string, unknown>);
    },
  } as unknown as HandlerContext<AppContract, K>;
  return { ctx, ac, events };
}
const h = () => service.handlers;
const trainArgs = (name: string, set: string) =>
  appContract['personas.train'].args.parse({
    model: modelId,
    name,
    promptSet: join(PROMPT_SETS_DIR, `${set}.json`),
    settings: { maxPairs: 6, maxNewTokens: 6, batchSize: 1 },
  });

beforeAll(async () => {
  service = createAppService({ dataDir, threads: 1, jobThrottleMs: 0, dataDirLocationFile: location });
  const c = caller('models.compile');
  const r = await h()['models.compile'](appContract['models.compile'].args.parse({ checkpointDir: DEMO_MODEL_DIR }), c.ctx);
  modelId = r.modelId;
});
afterAll(async () => {
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('jobs', () => {
  it('records a compile as a succeeded job with its params and result', async () => {
    const [job] = await h()['jobs.list'](appContract['jobs.list'].args.parse({ kind: 'models.compile' }), caller('jobs.list').ctx);
    expect(job).toMatchObject({ kind: 'models.compile', status: 'succeeded', progress: 1, live: false, resumable: false, runs: 1 });
    expect(job!.params).toMatchObject({ checkpointDir: DEMO_MODEL_DIR });
    expect((job!.result as { modelId: string }).modelId).toBe(modelId);
  });

  it('cancels a training mid-way through jobs.cancel: job cancelled, library intact; resume finishes it from the checkpoint', async () => {
    const watch = caller('jobs.watch');
    const watching = h()['jobs.watch']({ limit: 50 }, watch.ctx);
    let jobId: string | null = null;
    const train = caller('personas.train', (event, p) => {
      // After the first finished generation batch, cancel it as another window would: by job id.
      if (event === 'progress' && p.stage === 'generate' && (p.done as number) > 0 && !jobId) {
        const running = watch.events.filter((e) => e.event === 'job').map((e) => e.payload);
        jobId = running.find((j) => j.kind === 'personas.train' && j.status === 'running')!.id as string;
        void h()['jobs.cancel']({ id: jobId }, caller('jobs.cancel').ctx);
      }
    });
    await expect(h()['personas.train'](trainArgs('cheery', 'cheerful-vs-gloomy'), train.ctx)).rejects.toThrow(/cancelled/);
    expect(jobId).not.toBeNull();
    const cancelled = (await h()['jobs.list']({ limit: 10 }, caller('jobs.list').ctx)).find((j) => j.id === jobId)!;
    expect(cancelled).toMatchObject({ status: 'cancelled', live: false, resumable: true, stage: 'generate', etaMs: null });
    expect(cancelled.done).toBeGreaterThan(0);
    expect(cancelled.done).toBeLessThan(cancelled.total);
    // The library: the model is there, no half-made persona.
    expect(await h()['personas.list']({ trash: true }, caller('personas.list').ctx)).toEqual([]);
    expect((await h()['models.list']({}, caller('models.list').ctx)).map((m) => m.id)).toEqual([modelId]);
    // The watcher saw it start, progress and stop.
    const seen = watch.events.filter((e) => e.event === 'job' && e.payload.id === jobId).map((e) => e.payload.status);
    expect(seen[0]).toBe('running');
    expect(seen.at(-1)).toBe('cancelled');
    expect(watch.events[0]!.event).toBe('snapshot');

    const resume = caller('jobs.resume');
    const done = await h()['jobs.resume']({ id: jobId! }, resume.ctx);
    expect(done).toMatchObject({ status: 'succeeded', runs: 2, resumable: false, error: null });
    expect((done.result as { resumedBatches: number }).resumedBatches).toBeGreaterThan(0);
    expect(resume.events.some((e) => e.event === 'progress' && e.payload.stage === 'capture')).toBe(true);
    expect((await h()['personas.list']({ trash: false }, caller('personas.list').ctx)).map((p) => p.name)).toEqual(['cheery']);
    // A finished job neither cancels nor resumes.
    await expect(Promise.resolve().then(() => h()['jobs.cancel']({ id: jobId! }, caller('jobs.cancel').ctx))).rejects.toThrow(
      'already succeeded',
    );
    await expect(h()['jobs.resume']({ id: jobId! }, caller('jobs.resume').ctx)).rejects.toThrow(
      'only a paused, cancelled or failed job resumes',
    );
    watch.ac.abort();
    expect(await watching).toBeNull();
  });

  it('a job failing records its one-line error', async () => {
    const args = { ...trainArgs('x', 'pirate-vs-plain'), promptSet: 'no such set' };
    await expect(h()['personas.train'](args, caller('personas.train').ctx)).rejects.toThrow();
    const [job] = await h()['jobs.list']({ kind: 'personas.train', status: ['failed'], limit: 1 }, caller('jobs.list').ctx);
    expect(job?.error).toContain('no such set');
  });

  it('after a restart, a job its killed process left running is interrupted, and resume finishes it', async () => {
    const args = trainArgs('pirate', 'pirate-vs-plain');
    await service.close(); // one process at a time on the engine's two cores
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./test-support/train-child.ts', import.meta.url)), dataDir, JSON.stringify(args)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const killedAfter = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n').slice(0, -1)) {
          if (line === 'finished') reject(new Error('the child finished before it could be killed'));
          const p = JSON.parse(line) as { stage: string; done: number };
          if (p.stage === 'generate' && p.done > 0) {
            child.kill('SIGKILL');
            resolve(p.done);
          }
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      child.on('exit', (code) => code === 0 && reject(new Error('the child exited on its own')));
    });
    await new Promise((r) => child.on('close', r));
    expect(killedAfter).toBeGreaterThan(0);
    const lib = Library.open({ dataDir });
    const left = lib.jobs.list({ kind: 'personas.train', status: ['running'] });
    lib.close();
    expect(left).toHaveLength(1);

    service = createAppService({ dataDir, threads: 1, jobThrottleMs: 0, dataDirLocationFile: location });
    const [job] = await h()['jobs.list']({ kind: 'personas.train', limit: 1 }, caller('jobs.list').ctx);
    expect(job).toMatchObject({ id: left[0]!.id, status: 'paused', interrupted: true, resumable: true, live: false, etaMs: null });
    const done = await h()['jobs.resume']({ id: job!.id }, caller('jobs.resume').ctx);
    expect(done.status).toBe('succeeded');
    expect((done.result as { resumedBatches: number }).resumedBatches).toBeGreaterThan(0);
    expect((await h()['personas.list']({ trash: false }, caller('personas.list').ctx)).map((p) => p.name).sort()).toEqual([
      'cheery',
      'pirate',
    ]);
  });
});
