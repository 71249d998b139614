// models.download as a job, against the fake hub (a local HTTP server with the hub's layout): progress
// with bytes and ETA, cancelled by job id mid-file, then resumed — the partial file is continued with
// a Range request, verified, compiled and recorded in the library pinned to its commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppService, type AppService } from '../app-service.ts';
import { startFakeHub, type FakeHub } from '../../../native-models/hub/test-support/fake-hub.ts';
import { DEMO_MODEL_DIR } from '../test-support/demo-model.ts';
import type { HandlerContext } from '../rpc/contract.ts';

const work = mkdtempSync(join(tmpdir(), 'ps-download-job-'));
const saved = {
  HF_HOME: process.env.HF_HOME,
  HF_ENDPOINT: process.env.HF_ENDPOINT,
  HF_TOKEN: process.env.HF_TOKEN,
  HF_HUB_CACHE: process.env.HF_HUB_CACHE,
};
let hub: FakeHub;
let service: AppService;
const ctxOf = (emit: (event: string, p: { stage: string; done: number; total: number; etaMs?: number | null }) => void = () => {}) =>
  ({ id: 1, signal: new AbortController().signal, emit }) as unknown as HandlerContext<never, never>;

beforeAll(async () => {
  hub = await startFakeHub({ 'studio/demo': { dir: DEMO_MODEL_DIR }, 'studio/gated': { dir: DEMO_MODEL_DIR, token: 'hf_secret_token' } });
  process.env.HF_HOME = join(work, 'hf');
  process.env.HF_ENDPOINT = hub.endpoint;
  delete process.env.HF_TOKEN;
  delete process.env.HF_HUB_CACHE;
  service = createAppService({ dataDir: join(work, 'data'), threads: 1, jobThrottleMs: 0, dataDirLocationFile: join(work, 'loc.json') });
});
afterAll(async () => {
  await service?.close();
  await hub?.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('models.download job', () => {
  it('cancelled mid-file by job id, then resumed with a Range request into a compiled library model', async () => {
    const h = service.handlers;
    let cancelledAt = 0;
    const seen: { done: number; total: number; etaMs?: number | null }[] = [];
    const call = h['models.download'](
      { repo: 'studio/demo' },
      ctxOf((event, p) => {
        if (event !== 'progress' || p.stage !== 'download') return;
        seen.push(p);
        if (!cancelledAt && p.done > p.total / 4 && p.done < p.total) {
          cancelledAt = p.done;
          // Inside model.safetensors (most of the bytes), as another window would: the running job by id.
          void Promise.resolve(h['jobs.list']({ kind: 'models.download', limit: 1 }, ctxOf() as never)).then(([job]) =>
            h['jobs.cancel']({ id: job!.id }, ctxOf() as never),
          );
        }
      }) as never,
    );
    await expect(call).rejects.toThrow();
    expect(cancelledAt).toBeGreaterThan(0);
    const [job] = await h['jobs.list']({ kind: 'models.download', limit: 1 }, ctxOf() as never);
    expect(job).toMatchObject({ status: 'cancelled', stage: 'download' });
    expect(await h['models.list']({}, ctxOf() as never)).toEqual([]);

    const before = hub.log.length;
    const done = await h['jobs.resume']({ id: job!.id }, ctxOf() as never);
    expect(done.status).toBe('succeeded');
    const result = done.result as { modelId: string; name: string };
    expect(result.name).toBe('studio/demo');
    expect(hub.log.slice(before).some((r) => r.path.endsWith('model.safetensors') && r.range?.startsWith('bytes='))).toBe(true);
    const [model] = await h['models.list']({}, ctxOf() as never);
    expect(model).toMatchObject({ id: result.modelId, sourceKind: 'hub', source: `studio/demo@${hub.commit('studio/demo')}` });
  });

  it('a gated model: refused in one line without a token, downloaded with the token stored in Settings (never returned)', async () => {
    const h = service.handlers;
    await expect(h['models.download']({ repo: 'studio/gated' }, ctxOf() as never)).rejects.toThrow(/studio\/gated.*HF_TOKEN/);
    const view = await h['settings.setHubToken']({ token: 'hf_secret_token' }, ctxOf() as never);
    expect(view).toMatchObject({ hubToken: 'set', hubTokenFromEnv: false });
    expect(JSON.stringify(view)).not.toContain('hf_secret_token');
    const before = hub.log.length;
    const r = await h['models.download']({ repo: 'studio/gated' }, ctxOf() as never);
    // (the same weights as studio/demo, so the library keeps its one record of them)
    expect(r.modelId).toBeTruthy();
    expect(hub.log.slice(before).some((x) => x.server === 'hub' && x.authorization === 'Bearer hf_secret_token')).toBe(true);
    expect(await h['settings.clearHubToken']({}, ctxOf() as never)).toMatchObject({ hubToken: 'not set' });
  });
});
