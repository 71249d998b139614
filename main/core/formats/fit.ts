// Fitting imported vectors to the model the user chose: shapes that do not fit are refused with
// both shapes named; a differing model hint or hash is only a warning.
import type { PersonaVectorSet, Provenance } from '../library/schema.ts';
import { validateVectorSet } from '../library/schema.ts';
import { ShapeMismatchError } from './errors.ts';
import type { ImportedVectors } from './types.ts';

export interface FitModel {
  name: string;
  /** Hub id or path; becomes the set's modelId when the file does not name one. */
  source: string;
  architecture: string;
  hiddenSize: number;
  numLayers: number;
  contentHash: string | null;
}

function describe(hidden: number, layers: number | null, maxLayer: number): string {
  return layers !== null ? `hidden size ${hidden} × ${layers} layers` : `hidden size ${hidden}, layers up to ${maxLayer}`;
}

export function fitToModel(
  imp: ImportedVectors,
  model: FitModel,
  appVersion: string,
  now = new Date(),
): { set: PersonaVectorSet; warnings: string[] } {
  const warnings = [...imp.warnings];
  const maxLayer = Math.max(...imp.layers.map((l) => l.layer));
  const theirs = describe(imp.hiddenSize, imp.numLayers, maxLayer);
  const ours = `model ${model.name} has hidden size ${model.hiddenSize} × ${model.numLayers} layers`;
  const file = imp.files[0]!;
  if (imp.hiddenSize !== model.hiddenSize || (imp.numLayers !== null && imp.numLayers !== model.numLayers) || maxLayer >= model.numLayers) {
    throw new ShapeMismatchError(`${file}: vectors have ${theirs} but ${ours}`);
  }
  if (imp.modelHint) {
    const hint = imp.modelHint.toLowerCase();
    const known = [model.architecture, model.name, model.source].map((s) => s.toLowerCase());
    if (!known.includes(hint))
      warnings.push(`${file}: made for ${JSON.stringify(imp.modelHint)}, importing for ${model.name} (${model.architecture})`);
  }
  if (imp.modelHash && model.contentHash && imp.modelHash !== model.contentHash) {
    warnings.push(`${file}: computed on weights ${imp.modelHash.slice(0, 12)}…, ${model.name} has ${model.contentHash.slice(0, 12)}…`);
  }
  const source = { format: imp.format, file, importedAt: now.toISOString(), warnings };
  const provenance: Provenance = imp.provenance
    ? { ...imp.provenance, source }
    : { promptSetHash: null, settings: {}, seed: null, appVersion, createdAt: now.toISOString(), source };
  const set: PersonaVectorSet = {
    modelId: imp.provenance ? (imp.modelHint ?? model.source) : model.source,
    modelHash: imp.modelHash,
    hiddenSize: model.hiddenSize,
    numLayers: model.numLayers,
    layers: imp.layers,
    method: imp.method,
    reduction: imp.reduction,
    counts: imp.counts,
    provenance,
  };
  validateVectorSet(set, file);
  return { set, warnings };
}
