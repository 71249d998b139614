// Compiling a checkpoint for the studio: compile into the data dir's cache and record the model and
// its compiled variant in the library, so personas can be attached to it. The one path the CLI,
// Electron and browser mode use.
import { basename } from 'node:path';
import { compileModel, COMPILER_VERSION, type CompileRequest, type CompileResult } from '../../native-models/compile.ts';
import { compiledModelsDir } from './data-dir.ts';
import type { Library } from './library/index.ts';
import type { ModelRecord } from './library/schema.ts';

export interface RegisteredCompile extends CompileResult {
  model: ModelRecord;
}

export async function compileAndRegister(
  lib: Library,
  dataDir: string,
  req: Omit<CompileRequest, 'cacheRoot'>,
  /** How a new library record names the model; default: the folder's name and path. A hub download passes its repo id and `repo@commit`. */
  origin?: { name: string; source: string; sourceKind: 'path' | 'hub' },
): Promise<RegisteredCompile> {
  const result = await compileModel({ ...req, cacheRoot: compiledModelsDir(dataDir) });
  const m = result.manifest;
  const model =
    lib.models.findByHash(m.source.contentHash).find((r) => !r.deletedAt) ??
    lib.models.add({
      name: origin?.name ?? basename(m.source.path),
      source: origin?.source ?? m.source.path,
      sourceKind: origin?.sourceKind ?? 'path',
      contentHash: m.source.contentHash,
      architecture: m.architecture.modelType,
      hiddenSize: m.architecture.hidden,
      numLayers: m.architecture.numLayers,
    });
  if (!lib.models.variants(model.id).some((v) => v.path === result.dir)) {
    lib.models.addVariant(model.id, {
      label: `${m.options.precision} ${m.options.provider}`,
      path: result.dir,
      precision: m.options.precision,
      compilerVersion: String(COMPILER_VERSION),
      options: m.options,
    });
  }
  return { ...result, model };
}
