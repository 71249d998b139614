// One rule for naming a model, used by every face and command (`--model` in the CLI):
//   1. an existing folder: a compiled model (it has manifest.json), or a Hugging Face checkpoint
//      (compiled on first use into the data dir's cache and recorded in the library);
//   2. otherwise a library model by id, name, source or content hash (see ModelsStore.resolve),
//      run from its compiled variant for the provider, or recompiled from its source folder;
//   3. otherwise a hub repo id (`org/name`): the Hugging Face cache's snapshot when complete, else
//      downloaded (native-models/hub), then compiled on first use like a folder and recorded in the
//      library as `org/name` with source `org/name@commit` (the pinned revision).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isCompiledModel, readManifest, PROVIDERS, type PRECISIONS, type Provider } from '../../native-models/compile.ts';
import { compileAndRegister } from './models.ts';
import type { Library } from './library/index.ts';
import type { ModelRecord } from './library/schema.ts';
import { StudioError } from './errors.ts';
import { downloadModel, type DownloadProgress } from '../../native-models/hub/download.ts';
import { cachedSnapshot, isRepoId } from '../../native-models/hub/cache.ts';

export interface ModelRefOptions {
  /** The flag or field the reference came from, for messages (e.g. "--model"). */
  label?: string;
  precision?: (typeof PRECISIONS)[number];
  /** The provider the model will run on; 'auto' (or absent) compiles the portable CPU op set. */
  provider?: string;
  onCompileProgress?: (done: number, total: number) => void;
  /** A hub model not in the Hugging Face cache yet is downloaded (HF_ENDPOINT, HF_TOKEN, HF_HOME). */
  onDownloadProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface ResolvedModel {
  /** The library's record; null for a compiled folder the library does not know. */
  record: ModelRecord | null;
  /** A compiled model folder (only when `compile` was asked for). */
  dir: string | null;
}

const isFolder = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * Resolves a model reference. With `compile: true` the result has a runnable compiled folder
 * (compiling a checkpoint when needed); without, only the library record is looked up (a folder is
 * matched by its path, or a compiled folder by its checkpoint's content hash).
 */
export async function resolveModel(
  lib: Library,
  dataDir: string,
  ref: string,
  opts: ModelRefOptions & { compile: boolean },
): Promise<ResolvedModel> {
  const label = opts.label ?? 'model';
  const target = PROVIDERS.find((p) => p === opts.provider) as Provider | undefined;
  const compileFrom = async (checkpointDir: string, origin?: Parameters<typeof compileAndRegister>[3]): Promise<ResolvedModel> => {
    const r = await compileAndRegister(
      lib,
      dataDir,
      {
        checkpointDir,
        options: { precision: opts.precision, provider: target },
        signal: opts.signal,
        onProgress: (p) => {
          if (p.stage === 'build') opts.onCompileProgress?.(p.done, p.total);
        },
      },
      origin,
    );
    return { record: r.model, dir: r.dir };
  };
  // A hub model: the cached snapshot, or a download; pinned by the commit it resolved to.
  const fromHub = async (repo: string, revision = 'main'): Promise<ResolvedModel> => {
    const snap =
      cachedSnapshot(repo, revision) ?? (await downloadModel({ repo, revision, signal: opts.signal, onProgress: opts.onDownloadProgress }));
    return compileFrom(snap.dir, { name: repo, source: `${repo}@${snap.commit}`, sourceKind: 'hub' });
  };

  if (ref.trim() !== '' && isFolder(ref)) {
    const path = resolve(ref);
    if (isCompiledModel(path)) {
      const hash = readManifest(path)?.source.contentHash;
      const record = (hash ? lib.models.findByHash(hash)[0] : undefined) ?? null;
      return { record, dir: path };
    }
    if (opts.compile) return compileFrom(path);
    const bySource = lib.models.list().filter((m) => m.source === path);
    if (bySource.length === 1) return { record: bySource[0]!, dir: null };
    throw new StudioError(
      'not-found',
      `${label} ${path}: this checkpoint is not in the library yet (compile it first: persona-studio models compile ${path})`,
    );
  }

  let record: ModelRecord;
  try {
    record = lib.models.resolve(ref);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'not-found' && isRepoId(ref)) {
      if (opts.compile) return fromHub(ref);
      throw new StudioError(
        'not-found',
        `${label} ${ref}: this hub model is not in the library yet (download it first: persona-studio models download ${ref})`,
      );
    }
    if (code === 'not-found')
      throw new StudioError(
        'not-found',
        `${label} ${JSON.stringify(ref)}: no such folder, and no library model has that id, name or content hash`,
      );
    throw e;
  }
  if (!opts.compile) return { record, dir: null };
  const wanted = opts.provider && opts.provider !== 'auto' ? opts.provider : 'cpu';
  const variant = lib.models.variants(record.id).find((v) => {
    const o = v.options as { provider?: string };
    return (o.provider ?? 'cpu') === wanted && (!opts.precision || v.precision === opts.precision) && isCompiledModel(v.path);
  });
  if (variant) return { record, dir: variant.path };
  if (record.sourceKind === 'path' && isFolder(record.source)) return compileFrom(record.source);
  if (record.sourceKind === 'hub') {
    const at = record.source.lastIndexOf('@');
    const repo = at > 0 ? record.source.slice(0, at) : record.source;
    if (isRepoId(repo)) return fromHub(repo, at > 0 ? record.source.slice(at + 1) : 'main');
  }
  throw new StudioError(
    'not-found',
    `${label} ${JSON.stringify(ref)}: the library model ${record.name} has no compiled variant for ${wanted} and its source ${record.source} is gone`,
  );
}
