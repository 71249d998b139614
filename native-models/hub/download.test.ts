// Hub downloads end to end against a local hub (test-support/fake-hub.ts, 127.0.0.1 only) serving
// the demo model: the HF cache layout, resume after a dropped connection, a corrupt file caught and
// removed, gated and missing repos, the offline case, disk full, the cache answering a second time
// with no request, and the snapshot compiling.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { downloadModel, type DownloadProgress } from './download.ts';
import { cachedSnapshot, isRepoId } from './cache.ts';
import { startFakeHub, type FakeHub } from './test-support/fake-hub.ts';
import { compileModel } from '../compile.ts';
import { StudioError } from '../errors.ts';

const DEMO = join(import.meta.dirname, '../../assets/demo-model');
const work = mkdtempSync(join(tmpdir(), 'ps-hub-'));
let hub: FakeHub;
let n = 0;
/** A fresh HF_HOME for each test, pointing at the local hub. */
const envFor = (extra: Record<string, string> = {}) => ({ HF_HOME: join(work, `home-${n++}`), HF_ENDPOINT: hub.endpoint, ...extra });
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function failure(p: Promise<unknown>): Promise<StudioError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StudioError);
  return e as StudioError;
}

beforeAll(async () => {
  hub = await startFakeHub({ 'studio/demo': { dir: DEMO }, 'studio/gated': { dir: DEMO, token: 'hf_secret' } });
});
afterAll(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

describe('hub download', () => {
  it('fetches a repo into the Hugging Face cache layout, pinned to the commit, with progress', async () => {
    const env = envFor();
    const progress: DownloadProgress[] = [];
    const r = await downloadModel({ repo: 'studio/demo', env, onProgress: (p) => progress.push(p) });
    const commit = hub.commit('studio/demo');
    const repoDir = join(env.HF_HOME, 'hub', 'models--studio--demo');
    expect(r.commit).toBe(commit);
    expect(r.dir).toBe(join(repoDir, 'snapshots', commit));
    expect(r.fromCache).toBe(false);
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);
    expect(r.files.sort()).toEqual(
      readdirSync(DEMO)
        .filter((f) => !f.endsWith('.md'))
        .sort(),
    );
    // Snapshot files are relative symlinks into blobs/, named by sha256 for LFS files.
    const weights = join(r.dir, 'model.safetensors');
    expect(lstatSync(weights).isSymbolicLink()).toBe(true);
    expect(readlinkSync(weights)).toBe(join('..', '..', 'blobs', sha256(join(DEMO, 'model.safetensors'))));
    for (const f of r.files) expect(readFileSync(join(r.dir, f)).equals(readFileSync(join(DEMO, f)))).toBe(true);
    expect(readdirSync(join(repoDir, 'blobs')).filter((b) => b.endsWith('.incomplete'))).toEqual([]);
    // The LFS file came from the second origin, and the token was not sent there.
    expect(hub.log.some((l) => l.server === 'lfs')).toBe(true);
    const last = progress.at(-1)!;
    expect(last.filesDone).toBe(last.files);
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(r.bytesFetched).toBe(last.bytesTotal);
    expect(progress.every((p, i) => i === 0 || p.bytesDone >= progress[i - 1]!.bytesDone)).toBe(true);
    expect(progress.some((p) => p.bytesDone > 0 && p.bytesDone < p.bytesTotal)).toBe(true);

    // A second download is answered by the cache without a single request; so is a by-commit one.
    const before = hub.log.length;
    const again = await downloadModel({ repo: 'studio/demo', env });
    const byCommit = await downloadModel({ repo: 'studio/demo', revision: commit, env });
    expect(hub.log.length).toBe(before);
    expect([again.fromCache, again.dir, byCommit.dir]).toEqual([true, r.dir, r.dir]);
    expect(cachedSnapshot('studio/demo', 'main', env)?.dir).toBe(r.dir);

    // Asking the hub again (preferCache false) fetches the file list only: the blobs are reused.
    const refreshed = await downloadModel({ repo: 'studio/demo', env, preferCache: false });
    expect(refreshed.bytesFetched).toBe(0);
    expect(hub.log.slice(before).map((l) => l.path)).toEqual([expect.stringMatching(/^\/api\/models\/studio\/demo\/revision\/main/)]);

    // The snapshot is a checkpoint folder that compiles.
    const compiled = await compileModel({ checkpointDir: r.dir, outDir: join(work, 'compiled') });
    expect(compiled.manifest.architecture.modelType).toBe('qwen3');
  });

  it('resumes a file after the connection drops mid-way, with a Range request', async () => {
    const env = envFor();
    const before = hub.log.length;
    hub.dropOnce('model.safetensors', 1_000_000);
    const r = await downloadModel({ repo: 'studio/demo', env });
    expect(sha256(join(r.dir, 'model.safetensors'))).toBe(sha256(join(DEMO, 'model.safetensors')));
    const lfs = hub.log.slice(before).filter((l) => l.server === 'lfs');
    expect(lfs).toHaveLength(2);
    expect(lfs[0]!.range).toBeUndefined();
    expect(lfs[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(lfs[1]!.range!)![0])).toBeGreaterThan(0);
    expect(lfs.every((l) => l.authorization === undefined)).toBe(true);
  });

  it('resumes from an .incomplete file left by an earlier run', async () => {
    const env = envFor();
    const blobs = join(env.HF_HOME, 'hub', 'models--studio--demo', 'blobs');
    mkdirSync(blobs, { recursive: true });
    const weights = readFileSync(join(DEMO, 'model.safetensors'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(blobs, `${sha256(join(DEMO, 'model.safetensors'))}.incomplete`), weights.subarray(0, 12345));
    const before = hub.log.length;
    const r = await downloadModel({ repo: 'studio/demo', env });
    expect(hub.log.slice(before).find((l) => l.server === 'lfs')?.range).toBe('bytes=12345-');
    expect(r.bytesFetched).toBe(
      readdirSync(DEMO).reduce((a, f) => (f.endsWith('.md') ? a : a + readFileSync(join(DEMO, f)).length), 0) - 12345,
    );
    expect(sha256(join(r.dir, 'model.safetensors'))).toBe(sha256(join(DEMO, 'model.safetensors')));
  });

  it('removes a corrupted file and says which one', async () => {
    const env = envFor();
    hub.corrupt('model.safetensors');
    try {
      const e = await failure(downloadModel({ repo: 'studio/demo', env }));
      expect(e.code).toBe('format');
      expect(e.message).toMatch(
        /^studio\/demo\/model\.safetensors: sha256 [0-9a-f]{64} does not match the hub's [0-9a-f]{64}; the corrupt download was removed/,
      );
    } finally {
      hub.corrupt(null);
    }
    const blobs = join(env.HF_HOME, 'hub', 'models--studio--demo', 'blobs');
    expect(readdirSync(blobs).filter((b) => b.startsWith(sha256(join(DEMO, 'model.safetensors'))))).toEqual([]);
    expect(cachedSnapshot('studio/demo', 'main', env)).toBeNull();
    // Non-LFS files are checked too (git blob sha1, the hub's etag).
    hub.corrupt('tokenizer.json');
    try {
      expect((await failure(downloadModel({ repo: 'studio/demo', env }))).message).toMatch(/tokenizer\.json: git-sha1 .* does not match/);
    } finally {
      hub.corrupt(null);
    }
    // The next attempt succeeds, reusing what was verified.
    expect((await downloadModel({ repo: 'studio/demo', env })).fromCache).toBe(false);
  });

  it('gated repos need HF_TOKEN, sent as a bearer token', async () => {
    const noToken = await failure(downloadModel({ repo: 'studio/gated', env: envFor() }));
    expect([noToken.code, noToken.message]).toEqual([
      'usage',
      'studio/gated@main: studio/gated is gated or private (HTTP 401); accept its licence on the hub and set HF_TOKEN to an access token',
    ]);
    const wrong = await failure(downloadModel({ repo: 'studio/gated', env: envFor({ HF_TOKEN: 'hf_wrong' }) }));
    expect(wrong.message).toMatch(/refused the token in HF_TOKEN \(HTTP 403\)/);
    const ok = await downloadModel({ repo: 'studio/gated', env: envFor({ HF_TOKEN: 'hf_secret' }) });
    expect(existsSync(join(ok.dir, 'config.json'))).toBe(true);
    expect(hub.log.filter((l) => l.server === 'lfs').every((l) => l.authorization === undefined)).toBe(true);
  });

  it('missing repos and revisions, bad ids, an unreachable hub and a full disk each fail in one line', async () => {
    const missing = await failure(downloadModel({ repo: 'studio/nope', env: envFor() }));
    expect([missing.code, missing.message]).toEqual([
      'not-found',
      'studio/nope@main: not found on the hub (HTTP 404); check the repo id and revision',
    ]);
    expect((await failure(downloadModel({ repo: 'studio/demo', revision: 'v9', env: envFor() }))).code).toBe('not-found');
    expect((await failure(downloadModel({ repo: 'not a repo', env: envFor() }))).message).toMatch(/expected a Hugging Face model id/);
    expect((await failure(downloadModel({ repo: 'a/b', revision: '../x', env: envFor() }))).code).toBe('usage');
    // A port nothing listens on (the hub's, after a throwaway server closes).
    const gone = await startFakeHub({});
    const endpoint = gone.endpoint;
    await gone.close();
    const offline = await failure(downloadModel({ repo: 'studio/demo', env: envFor({ HF_ENDPOINT: endpoint }) }));
    expect(offline.code).toBe('network');
    expect(offline.message).toMatch(/^studio\/demo@main: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it.skipIf(process.platform !== 'linux' || !existsSync('/dev/full'))(
    'a full disk is one line, code resource (linux /dev/full)',
    async () => {
      const env = envFor();
      const blobs = join(env.HF_HOME, 'hub', 'models--studio--demo', 'blobs');
      mkdirSync(blobs, { recursive: true });
      // Writes through this link land on /dev/full, which answers ENOSPC.
      symlinkSync('/dev/full', join(blobs, `${sha256(join(DEMO, 'model.safetensors'))}.incomplete`));
      const e = await failure(downloadModel({ repo: 'studio/demo', env }));
      expect(e.code).toBe('resource');
      expect(e.message).toMatch(/\.incomplete: disk full while downloading/);
    },
  );

  it('cancels on an abort signal', async () => {
    const ac = new AbortController();
    const e = await failure(
      downloadModel({
        repo: 'studio/demo',
        env: envFor(),
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytesDone > 100_000) ac.abort();
        },
      }),
    );
    expect(e.code).toBe('cancelled');
  });

  it('recognises repo ids', () => {
    expect(['Qwen/Qwen3-0.6B', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'a/b.c_d'].every(isRepoId)).toBe(true);
    expect(['Qwen3', './models/x', '/abs/x', 'a/b/c', 'a--b/c', 'a/..', ''].some(isRepoId)).toBe(false);
  });
});
