// One rule for naming a model, used by every face and command (`--model` in the CLI):
//   1. an existing folder: a compiled model (it has manifest.json), or a Hugging Face checkpoint
//      (compiled on first use into the data dir's cache and recorded in the library);
//   2. otherwise a library model by id, name, source or content hash (see ModelsStore.resolve),
//      run from its compiled variant for the provider, or recompiled from its source folder.
// (A hub repo id will be rule 3 once downloads exist.)
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isCompiledModel, readManifest, PROVIDERS, type PRECISIONS, type Provider } from '../../native-models/compile.ts';
import { compileAndRegister } from './models.ts';
import type { Library } from './library/index.ts';
import type { ModelRecord } from './library/schema.ts';
import { StudioError } from './errors.ts';

export interface ModelRefOptions {
  /** The flag or field the reference came from, for messages (e.g. "--model"). */
  label?: string;
  precision?: (typeof PRECISIONS)[number];
  /** The provider the model will run on; 'auto' (or absent) compiles the portable CPU op set. */
  provider?: string;
  onCompileProgress?: (done: number, total: number) => void;
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
  const compileFrom = async (checkpointDir: string): Promise<ResolvedModel> => {
    const r = await compileAndRegister(lib, dataDir, {
      checkpointDir,
      options: { precision: opts.precision, provider: target },
      onProgress: (p) => {
        if (p.stage === 'build') opts.onCompileProgress?.(p.done, p.total);
      },
    });
    return { record: r.model, dir: r.dir };
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
  throw new StudioError(
    'not-found',
    `${label} ${JSON.stringify(ref)}: the library model ${record.name} has no compiled variant for ${wanted} and its source ${record.source} is gone`,
  );
}
