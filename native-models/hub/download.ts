// Downloading a model repository from the Hugging Face hub (or a mirror) into the shared HF cache
// (cache.ts): the file list from `{endpoint}/api/models/{repo}/revision/{rev}?blobs=true` (commit,
// sizes, LFS sha256, git blob ids), the content from `{endpoint}/{repo}/resolve/{commit}/{file}`
// (LFS files redirect to another host; fetch drops the token on that cross-origin hop). Pinned: the
// branch is resolved to its commit once and every file is fetched at that commit. Resumable: a blob
// grows in `blobs/{etag}.incomplete` and a retry (or a later run) asks for the rest with Range.
// Verified: the sha256 of LFS files, the git blob sha1 (the etag) of the others; a mismatch removes
// the file. Files already in the cache are linked, not fetched.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
  lstatSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { StudioError } from '../errors.ts';
import { cachedSnapshot, checkRepoId, checkRevision, COMMIT, hubCacheDir, hubEndpoint, repoCacheDir, type Env } from './cache.ts';

export interface DownloadProgress {
  file: string;
  /** Files finished (downloaded, verified or found in the cache) and the number wanted. */
  filesDone: number;
  files: number;
  /** Bytes of the whole download so far (cached files count as done) and in all. */
  bytesDone: number;
  bytesTotal: number;
  /** Over the last few seconds; 0 until there is a measurement. */
  bytesPerSecond: number;
  /** Seconds left at that speed; null while unknown. */
  etaSeconds: number | null;
}

export interface DownloadRequest {
  repo: string;
  /** Branch, tag or commit (default main). */
  revision?: string;
  /** Read HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE from here (default process.env). */
  env?: Env;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** When false, the hub is asked for the revision's files even if a complete snapshot is cached. */
  preferCache?: boolean;
}

export interface DownloadResult {
  repo: string;
  /** The pinned commit. */
  commit: string;
  /** The snapshot folder (a checkpoint folder, ready to compile). */
  dir: string;
  files: string[];
  /** Bytes fetched over the network in this call (0 when everything was cached). */
  bytesFetched: number;
  /** True when the cache answered without any request to the hub. */
  fromCache: boolean;
}

// Only what compiling and running need: the top-level configs, tokenizer files and safetensors
// weights; not the .bin/.pth/.gguf/onnx duplicates many repos also carry.
const WANTED = /^[^/]+\.(json|safetensors|txt|model|jinja)$/;

const revisionSchema = z.object({
  sha: z.string().regex(COMMIT),
  siblings: z.array(
    z.object({
      rfilename: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      blobId: z.string().optional(),
      lfs: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).optional(),
    }),
  ),
});

interface RemoteFile {
  name: string;
  size: number;
  /** The blob's name in the cache and what its content hashes to. */
  etag: string;
  hash: 'sha256' | 'git-sha1';
}

const MAX_ATTEMPTS = 5;

/** One line for a failed request (401/403/404/other), naming the repo and what to do. */
function httpError(status: number, what: string, repo: string, hasToken: boolean): StudioError {
  if (status === 401 || status === 403)
    return new StudioError(
      'usage',
      hasToken
        ? `${what}: the hub refused the token in HF_TOKEN (HTTP ${status}); accept ${repo}'s licence on its hub page with that account, or check the token`
        : `${what}: ${repo} is gated or private (HTTP ${status}); accept its licence on the hub and set HF_TOKEN to an access token`,
    );
  if (status === 404) return new StudioError('not-found', `${what}: not found on the hub (HTTP 404); check the repo id and revision`);
  if (status === 416) return new StudioError('network', `${what}: the hub refused the resume range (HTTP 416)`);
  return new StudioError('network', `${what}: the hub answered HTTP ${status}`);
}

/** A failure with no HTTP answer: cancelled, or the hub unreachable (offline, DNS, refused, reset). */
function transportError(e: unknown, what: string, endpoint: string, signal?: AbortSignal): StudioError {
  if (e instanceof StudioError) return e;
  if (signal?.aborted || (e as { name?: string }).name === 'AbortError')
    return new StudioError('cancelled', `${what}: download cancelled`, { cause: e });
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  return new StudioError(
    'network',
    `${what}: cannot reach ${endpoint} (${why}); check the connection or HF_ENDPOINT (the bundled demo model works offline)`,
    { cause: e },
  );
}

function diskError(e: unknown, path: string): unknown {
  const code = (e as { code?: string }).code;
  if (code === 'ENOSPC')
    return new StudioError('resource', `${path}: disk full while downloading; free some space and run the download again (it resumes)`, {
      cause: e,
    });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new StudioError('conflict', `${path}: cannot write into the Hugging Face cache (${code}); check HF_HOME`, { cause: e });
  return e;
}

/** The content hash a blob is named by: sha256 for LFS, git's blob sha1 ("blob {size}\0" + content) otherwise. */
export async function hashFile(path: string, kind: 'sha256' | 'git-sha1'): Promise<string> {
  const h = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') h.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Speed over a sliding window of recent samples, so the ETA follows the connection as it changes. */
function speedMeter(windowMs = 5000) {
  const samples: { t: number; bytes: number }[] = [];
  return (bytes: number): number => {
    const t = performance.now();
    samples.push({ t, bytes });
    while (samples.length > 2 && t - samples[0]!.t > windowMs) samples.shift();
    const first = samples[0]!;
    const dt = (t - first.t) / 1000;
    return dt > 0.2 ? (bytes - first.bytes) / dt : 0;
  };
}

/** Points snapshots/{commit}/{file} at blobs/{etag}: a relative symlink, or a copy where links are not allowed (Windows without developer mode). */
function link(blob: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  if (existsSync(target)) return;
  try {
    lstatSync(target);
    rmSync(target); // a dangling link from an earlier, interrupted run
  } catch {
    /* absent */
  }
  try {
    symlinkSync(relative(dirname(target), blob), target);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP') throw diskError(e, target);
    copyFileSync(blob, target);
  }
}

export async function downloadModel(req: DownloadRequest): Promise<DownloadResult> {
  const env = req.env ?? process.env;
  const repo = checkRepoId(req.repo);
  const revision = checkRevision(req.revision ?? 'main');
  if (req.preferCache !== false) {
    const hit = cachedSnapshot(repo, revision, env);
    if (hit) return { repo, commit: hit.commit, dir: hit.dir, files: [], bytesFetched: 0, fromCache: true };
  }
  const endpoint = hubEndpoint(env);
  const token = env.HF_TOKEN?.trim() || undefined;
  const headers: Record<string, string> = { 'user-agent': 'persona-studio' };
  if (token) headers.authorization = `Bearer ${token}`;
  const signal = req.signal;
  const request = async (url: string, what: string, extra: Record<string, string> = {}): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(url, { headers: { ...headers, ...extra }, signal, redirect: 'follow' });
    } catch (e) {
      throw transportError(e, what, endpoint, signal);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw httpError(res.status, what, repo, token !== undefined);
    }
    return res;
  };

  // 1. The revision's commit and files.
  const apiWhat = `${repo}@${revision}`;
  const info = await request(`${endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`, apiWhat);
  let body: unknown;
  try {
    body = await info.json();
  } catch (e) {
    throw transportError(e, apiWhat, endpoint, signal);
  }
  const parsed = revisionSchema.safeParse(body);
  if (!parsed.success)
    throw new StudioError('format', `${apiWhat}: the hub's file list is not what the hub API returns (${parsed.error.issues[0]?.message})`);
  const commit = parsed.data.sha;
  const files: RemoteFile[] = [];
  for (const s of parsed.data.siblings) {
    if (!WANTED.test(s.rfilename)) continue;
    if (s.lfs) files.push({ name: s.rfilename, size: s.lfs.size, etag: s.lfs.sha256, hash: 'sha256' });
    else if (s.blobId && /^[0-9a-f]{40}$/.test(s.blobId) && s.size !== undefined)
      files.push({ name: s.rfilename, size: s.size, etag: s.blobId, hash: 'git-sha1' });
    else throw new StudioError('format', `${apiWhat}: the hub gave no size or hash for ${s.rfilename}`);
  }
  if (!files.some((f) => f.name === 'config.json'))
    throw new StudioError('config', `${apiWhat}: the repository has no config.json (not a transformers checkpoint)`);

  const repoDir = repoCacheDir(hubCacheDir(env), repo);
  const blobs = join(repoDir, 'blobs');
  const snapshot = join(repoDir, 'snapshots', commit);
  try {
    mkdirSync(blobs, { recursive: true });
    mkdirSync(snapshot, { recursive: true });
  } catch (e) {
    throw diskError(e, repoDir);
  }

  // 2. Each file: linked when its blob is here, else fetched into blobs/{etag}.incomplete, verified, renamed.
  const bytesTotal = files.reduce((a, f) => a + f.size, 0);
  let bytesBefore = 0; // bytes of the files finished so far
  let bytesFetched = 0;
  let filesDone = 0;
  const speed = speedMeter();
  const report = (file: string, inFile: number) => {
    if (!req.onProgress) return;
    const done = bytesBefore + inFile;
    const bps = speed(bytesFetched);
    req.onProgress({
      file,
      filesDone,
      files: files.length,
      bytesDone: done,
      bytesTotal,
      bytesPerSecond: bps,
      etaSeconds: bps > 0 ? (bytesTotal - done) / bps : null,
    });
  };

  for (const f of files) {
    const blob = join(blobs, f.etag);
    const target = join(snapshot, f.name);
    if (!existsSync(blob)) {
      const what = `${repo}/${f.name}`;
      const partial = `${blob}.incomplete`;
      await fetchBlob(
        f,
        `${endpoint}/${repo}/resolve/${commit}/${encodeURIComponent(f.name)}`,
        partial,
        what,
        request,
        signal,
        endpoint,
        (inFile, fetched) => {
          bytesFetched += fetched;
          report(f.name, inFile);
        },
      );
      const actual = await hashFile(partial, f.hash);
      if (actual !== f.etag) {
        rmSync(partial, { force: true });
        throw new StudioError(
          'format',
          `${what}: ${f.hash} ${actual} does not match the hub's ${f.etag}; the corrupt download was removed (run it again)`,
        );
      }
      try {
        renameSync(partial, blob);
      } catch (e) {
        throw diskError(e, blob);
      }
    }
    link(blob, target);
    filesDone++;
    bytesBefore += f.size;
    report(f.name, 0);
  }

  // 3. The branch now points at the commit (as huggingface_hub records it), for offline use later.
  if (revision !== commit) {
    const ref = join(repoDir, 'refs', revision);
    try {
      mkdirSync(dirname(ref), { recursive: true });
      writeFileSync(ref, commit);
    } catch (e) {
      throw diskError(e, ref);
    }
  }
  return { repo, commit, dir: snapshot, files: files.map((f) => f.name), bytesFetched, fromCache: false };
}

/**
 * Fetches one file into `partial`, resuming from what is there: a dropped connection is retried from
 * the bytes already written (up to MAX_ATTEMPTS without progress). `onBytes(bytesInFile, newlyFetched)`.
 */
async function fetchBlob(
  f: RemoteFile,
  url: string,
  partial: string,
  what: string,
  request: (url: string, what: string, extra?: Record<string, string>) => Promise<Response>,
  signal: AbortSignal | undefined,
  endpoint: string,
  onBytes: (inFile: number, fetched: number) => void,
): Promise<void> {
  let failures = 0;
  for (;;) {
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > f.size) {
      rmSync(partial, { force: true }); // longer than the file can be: not ours to resume
      have = 0;
    }
    if (have === f.size) return;
    const res = await request(url, what, have > 0 ? { range: `bytes=${have}-` } : {});
    // A server that ignores Range answers 200 with the whole file: start over rather than append it.
    const resumed = res.status === 206;
    if (resumed && !new RegExp(`^bytes ${have}-`).test(res.headers.get('content-range') ?? ''))
      throw new StudioError('network', `${what}: the hub answered a resume with a different range (${res.headers.get('content-range')})`);
    if (!resumed) have = 0;
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(length) && have + length !== f.size)
      throw new StudioError('format', `${what}: the hub sends ${have + length} bytes but its file list says ${f.size}`);
    let written = have;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        if (written > f.size)
          return done(new StudioError('format', `${what}: the hub sent more than the ${f.size} bytes its file list says`));
        onBytes(written, chunk.length);
        done(null, chunk);
      },
    });
    const start = written;
    try {
      if (!res.body) throw new StudioError('network', `${what}: the hub answered without content`);
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        count,
        createWriteStream(partial, { flags: resumed ? 'a' : 'w' }),
        {
          signal,
        },
      );
    } catch (e) {
      if (e instanceof StudioError && e.code !== 'network') throw e;
      const disk = diskError(e, partial);
      if (disk !== e) throw disk;
      if (signal?.aborted) throw transportError(e, what, endpoint, signal);
      // A dropped connection: resume from what reached the disk; give up after repeated failures without progress.
      failures = written > start ? 1 : failures + 1;
      if (failures >= MAX_ATTEMPTS) throw transportError(e, what, endpoint, signal);
      continue;
    }
    if (written !== f.size) {
      failures++;
      if (failures >= MAX_ATTEMPTS)
        throw new StudioError('network', `${what}: the connection kept closing early (${written} of ${f.size} bytes)`);
    }
  }
}
