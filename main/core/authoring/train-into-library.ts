// Training a persona and saving it: the model resolved (compiled on first use), the engine loaded,
// trainPersona run with a resumable checkpoint folder per (model, prompt set, settings), the prompts
// stored as an immutable prompt-set version and the persona saved with its vectors. The one path
// the CLI (`personas train`), Electron and browser mode use.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { layerVector, type Library, type Persona, type VectorRecord } from '../library/index.ts';
import { resolveModel } from '../model-ref.ts';
import { StudioError } from '../errors.ts';
import { readPromptSetFile, type PromptSetFile } from './prompt-set-file.ts';
import { promptSetFromVersion, promptSetToItems } from './prompt-set-library.ts';
import { trainPersona, type PersonaBackend, type TrainedPersona, type TrainProgress, type trainSettingsSchema } from './train-persona.ts';
import type { z } from 'zod';

/** A prompt set named by a file path, else a library prompt set by name or id. */
export function resolvePromptSet(lib: Library, ref: string, label: string): PromptSetFile {
  if (existsSync(ref)) return readPromptSetFile(ref);
  const stored = lib.promptSets.find(ref);
  if (!stored)
    throw new StudioError('not-found', `${label} ${JSON.stringify(ref)}: no such file, and no library prompt set has that name or id`);
  return promptSetFromVersion(stored.name, stored.description, lib.promptSets.version(stored.id));
}

export interface TrainIntoLibraryRequest {
  /** A model reference (main/core/model-ref.ts); `label` names its field in messages. */
  model: string;
  label: string;
  name: string;
  set: PromptSetFile;
  settings: z.input<typeof trainSettingsSchema>;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  onCompileProgress?: (done: number, total: number) => void;
}

/** What training needs of the host: load a compiled model (the engine may be shared), then generate and capture. */
export interface TrainingEngine extends PersonaBackend {
  load(dir: string): Promise<{ hasTokenizer: boolean }>;
}

export interface TrainedIntoLibrary {
  persona: Persona;
  vector: VectorRecord;
  trained: TrainedPersona;
}

export async function trainIntoLibrary(
  lib: Library,
  dataDir: string,
  engine: TrainingEngine,
  req: TrainIntoLibraryRequest,
): Promise<TrainedIntoLibrary> {
  const { set, settings } = req;
  const resolved = await resolveModel(lib, dataDir, req.model, {
    compile: true,
    label: req.label,
    onCompileProgress: req.onCompileProgress,
  });
  if (!resolved.record)
    throw new StudioError(
      'not-found',
      `${req.label} ${req.model}: this compiled model is not in the library (compile its checkpoint with persona-studio models compile)`,
    );
  const m = resolved.record;
  const status = await engine.load(resolved.dir!);
  // One checkpoint folder per (model, prompt set, settings): the same request resumes.
  const key = createHash('sha256')
    .update(JSON.stringify({ m: m.id, set, settings }))
    .digest('hex')
    .slice(0, 16);
  const t = await trainPersona(engine, set, settings, {
    chat: status.hasTokenizer,
    checkpointDir: path.join(dataDir, 'jobs', `train-${key}`),
    signal: req.signal,
    onProgress: req.onProgress,
  });
  // The prompts join the library as an immutable version (an identical one is reused).
  const { items, spec } = promptSetToItems(set);
  const saved = lib.promptSets.save(set.name, set.description, items, spec, `trained ${req.name}`);
  const { persona, vector } = lib.createPersonaWithVectors(
    { name: req.name, description: set.description, tags: set.role ? [`role:${set.role}`] : [], notes: '' },
    m.id,
    {
      modelId: m.name,
      modelHash: m.contentHash ?? null,
      hiddenSize: t.hidden,
      numLayers: m.numLayers,
      layers: t.layers.map((l) => layerVector(l.layer, l.vector, l.separation)),
      method: t.method,
      reduction: t.reduction,
      counts: t.counts,
      provenance: {
        promptSetHash: saved.version.contentHash,
        promptSetId: saved.set.id,
        promptSetVersion: saved.version.version,
        settings: { ...t.settings, separationOn: t.separationOn, promptSet: set.name },
        seed: t.settings.seed,
        appVersion: lib.appVersion,
        createdAt: new Date().toISOString(),
      },
    },
    { promptSetVersionId: saved.version.id },
  );
  return { persona, vector, trained: t };
}
