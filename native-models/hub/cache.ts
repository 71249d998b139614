// The Hugging Face cache layout, as huggingface_hub writes and reads it, so the studio and other tools
// (transformers, llama.cpp's converters, huggingface-cli) share one copy of every file:
//   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface)
//     models--{org}--{name}/blobs/{etag}            the content (etag: sha256 for LFS files, git blob sha1 otherwise)
//     models--{org}--{name}/snapshots/{commit}/{f}   relative symlinks to the blobs
//     models--{org}--{name}/refs/{branch}            the commit the branch pointed to when last resolved
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../errors.ts';

export type Env = Record<string, string | undefined>;

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** The hub cache folder, by huggingface_hub's rules (HF_HUB_CACHE, else HF_HOME/hub). */
export function hubCacheDir(env: Env = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

/** The hub's address (HF_ENDPOINT, for mirrors), without a trailing slash. */
export const hubEndpoint = (env: Env = process.env): string => (env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');

// The hub's rule for repo ids: `org/name`, letters, digits, `-_.`, no `--` or `..`, at most 96 characters.
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** True when `ref` can be a hub model id (`org/name`). */
export const isRepoId = (ref: string): boolean => REPO_ID.test(ref) && !ref.includes('--') && !ref.includes('..') && ref.length <= 96;

export function checkRepoId(repo: string, label = 'repo id'): string {
  if (!isRepoId(repo)) throw new StudioError('usage', `${label} ${JSON.stringify(repo)}: expected a Hugging Face model id like org/name`);
  return repo;
}

export const COMMIT = /^[0-9a-f]{40}$/;

// A revision is a branch, tag or commit; it names a file under refs/, so no path tricks.
export function checkRevision(rev: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.\-/]*$/.test(rev) || rev.includes('..') || rev.length > 200)
    throw new StudioError('usage', `--revision ${JSON.stringify(rev)}: expected a branch, tag or commit`);
  return rev;
}

export const repoCacheDir = (cache: string, repo: string): string => join(cache, `models--${repo.replace('/', '--')}`);

/** The commit a revision names in the cache: itself when it is a commit, else refs/{rev}; null if unknown. */
export function cachedCommit(repoDir: string, rev: string): string | null {
  if (COMMIT.test(rev)) return rev;
  const ref = join(repoDir, 'refs', rev);
  if (!existsSync(ref)) return null;
  const commit = readFileSync(ref, 'utf8').trim();
  return COMMIT.test(commit) ? commit : null;
}

/**
 * True when a folder holds everything compiling needs: config.json, tokenizer.json and the weights
 * (model.safetensors, or every shard the index names). Checked through the symlinks, so a snapshot
 * with a missing blob is incomplete. Any tool's download counts, not only ours.
 */
export function isCompleteCheckpoint(dir: string): boolean {
  const has = (f: string) => existsSync(join(dir, f));
  if (!has('config.json') || !has('tokenizer.json')) return false;
  if (has('model.safetensors')) return true;
  if (!has('model.safetensors.index.json')) return false;
  try {
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map?: Record<string, string> };
    const shards = new Set(Object.values(index.weight_map ?? {}));
    return shards.size > 0 && [...shards].every((s) => typeof s === 'string' && !s.includes('..') && has(s));
  } catch {
    return false;
  }
}

/** The snapshot folder of a repo at a revision when the cache already holds a complete checkpoint there. */
export function cachedSnapshot(repo: string, rev = 'main', env: Env = process.env): { dir: string; commit: string } | null {
  const repoDir = repoCacheDir(hubCacheDir(env), repo);
  const commit = cachedCommit(repoDir, rev);
  if (!commit) return null;
  const dir = join(repoDir, 'snapshots', commit);
  return isCompleteCheckpoint(dir) ? { dir, commit } : null;
}
