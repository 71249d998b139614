// The CLI's hub faces against a local hub (127.0.0.1): `models download`, `--model org/name`
// (from the HF cache, compiled on first use, recorded in the library pinned to its commit), a gated
// repo without HF_TOKEN in one line, and `models catalog`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './test-support/run-cli.ts';
import { startFakeHub, type FakeHub } from '../../native-models/hub/test-support/fake-hub.ts';
import { DEMO_MODEL_DIR } from '../core/test-support/demo-model.ts';
import { Library } from '../core/library/index.ts';

const work = mkdtempSync(join(tmpdir(), 'ps-cli-hub-'));
const saved = {
  HF_HOME: process.env.HF_HOME,
  HF_ENDPOINT: process.env.HF_ENDPOINT,
  HF_TOKEN: process.env.HF_TOKEN,
  HF_HUB_CACHE: process.env.HF_HUB_CACHE,
};
let hub: FakeHub;

beforeAll(async () => {
  hub = await startFakeHub({ 'studio/demo': { dir: DEMO_MODEL_DIR }, 'studio/gated': { dir: DEMO_MODEL_DIR, token: 't' } });
  process.env.HF_HOME = join(work, 'hf');
  process.env.HF_ENDPOINT = hub.endpoint;
  delete process.env.HF_TOKEN;
  delete process.env.HF_HUB_CACHE;
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

let dataDirs = 0;
async function cli(...argv: string[]) {
  // A fresh data dir when the test switches HF_HOME, so the library does not answer from the first one.
  const dataDir = process.env.HF_HOME === join(work, 'hf') ? 'data' : `data-${dataDirs++}`;
  return runCli(join(work, dataDir), argv);
}

describe('CLI with a hub', () => {
  it('models download, then --model org/name compiles on first use and runs; the second run asks the hub nothing', async () => {
    const commit = hub.commit('studio/demo');
    const dl = await cli('models', 'download', 'studio/demo', '--json');
    expect(dl.code, dl.err).toBe(0);
    const r = JSON.parse(dl.out) as { commit: string; dir: string; fromCache: boolean };
    expect(r).toMatchObject({ commit, dir: join(work, 'hf', 'hub', 'models--studio--demo', 'snapshots', commit), fromCache: false });

    const requests = hub.log.length;
    const gen = await cli('generate', '--model', 'studio/demo', '--prompt', 'Hello', '--greedy', '--max-new-tokens', '8', '--json');
    expect(gen.code, gen.err).toBe(0);
    expect((JSON.parse(gen.out) as { text: string }).text.length).toBeGreaterThan(0);
    const again = await cli('generate', '--model', 'studio/demo', '--prompt', 'Hello', '--greedy', '--max-new-tokens', '8', '--json');
    const tokens = (out: string) => (JSON.parse(out) as { generatedTokens: number[] }).generatedTokens;
    expect(tokens(again.out)).toEqual(tokens(gen.out));
    expect(hub.log.length).toBe(requests);

    const lib = Library.open({ dataDir: join(work, 'data') });
    try {
      const model = lib.models.resolve('studio/demo');
      expect([model.name, model.source, model.sourceKind]).toEqual(['studio/demo', `studio/demo@${commit}`, 'hub']);
    } finally {
      lib.close();
    }
  });

  it('--model org/name downloads when the cache does not have it', async () => {
    process.env.HF_HOME = join(work, 'hf-2');
    const before = hub.log.length;
    try {
      const gen = await cli('generate', '--model', 'studio/demo', '--prompt', 'Hello', '--greedy', '--max-new-tokens', '4', '--json');
      expect(gen.code, gen.err).toBe(0);
      expect(hub.log.slice(before).some((l) => l.server === 'lfs')).toBe(true);
      expect(existsSync(join(work, 'hf-2', 'hub', 'models--studio--demo', 'refs', 'main'))).toBe(true);
    } finally {
      process.env.HF_HOME = join(work, 'hf');
    }
  });

  it('a gated repo without HF_TOKEN and a missing repo fail in one line', async () => {
    const gated = await cli('models', 'download', 'studio/gated');
    expect(gated.code).toBe(2);
    expect(gated.err).toBe(
      'persona-studio: studio/gated@main: studio/gated is gated or private (HTTP 401); accept its licence on the hub and set HF_TOKEN to an access token\n',
    );
    const missing = await cli('generate', '--model', 'studio/nope', '--prompt', 'x');
    expect([missing.code, missing.err]).toEqual([
      3,
      'persona-studio: studio/nope@main: not found on the hub (HTTP 404); check the repo id and revision\n',
    ]);
    const bad = await cli('models', 'download', 'not/a/repo');
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
  });

  it('models catalog lists every model with sizes and one recommendation', async () => {
    const r = await cli('models', 'catalog', '--json');
    expect(r.code, r.err).toBe(0);
    const { models } = JSON.parse(r.out) as { models: { repo: string; recommended: boolean; fits: boolean; default: boolean }[] };
    expect(models).toHaveLength(12);
    expect(models.filter((m) => m.default).map((m) => m.repo)).toEqual(['Qwen/Qwen3-0.6B']);
    expect(models.filter((m) => m.recommended).length).toBe(models.some((m) => m.fits) ? 1 : 0);
    const text = await cli('models', 'catalog');
    expect(text.out).toMatch(/Qwen\/Qwen3-0\.6B \*/);
  });
});
