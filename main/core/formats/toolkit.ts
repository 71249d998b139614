// The Python "Persona Vectors Toolkit": persona_<name>.json = {"layer_idx", "hidden_size", …} beside
// persona_<name>.pt holding one 1-D unit vector. layer_idx indexes model.model.layers (negative
// counts from the end) and the vector is added to that block's output: our layer b = layer_idx.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { l2norm, layerVector } from '../library/schema.ts';
import { readBounded, safeFileStem, writeFileAtomic } from './file-io.ts';
import { FormatError } from './errors.ts';
import { parseFileJson } from './json.ts';
import { readTorchTensor, writeTorchTensor } from './torch-pt.ts';
import { emptyPersona, type ExportInput, type ExportResult, type ImportOptions, type ImportedVectors } from './types.ts';
import { zodIssueLine } from '../errors.ts';

const toolkitJsonSchema = z.looseObject({
  layer_idx: z.int().min(-4096).max(4095),
  hidden_size: z
    .int()
    .positive()
    .max(1 << 20),
});

/** The .json and .pt of a toolkit persona, given either of them. */
export function toolkitPaths(path: string): { json: string; pt: string } {
  const stem = path.replace(/\.(json|pt)$/i, '');
  return { json: `${stem}.json`, pt: `${stem}.pt` };
}

export function looksLikeToolkit(path: string): boolean {
  const { json, pt } = toolkitPaths(path);
  return existsSync(json) && existsSync(pt);
}

export function readToolkit(path: string, opts: ImportOptions = {}): ImportedVectors {
  const { json, pt } = toolkitPaths(path);
  if (!existsSync(json)) throw new FormatError(json, null, 'toolkit persona JSON is missing');
  if (!existsSync(pt)) throw new FormatError(pt, null, `toolkit vector file is missing (expected beside ${basename(json)})`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readBounded(json, 1 << 20));
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(json, null, 'is not valid UTF-8');
  }
  const raw = parseFileJson(text, json, 'the persona JSON');
  const meta = toolkitJsonSchema.safeParse(raw);
  if (!meta.success) {
    throw new FormatError(json, null, zodIssueLine(meta.error, 'field', ' '));
  }
  const t = readTorchTensor(readBounded(pt), pt);
  if (t.shape.length !== 1)
    throw new FormatError(pt, null, `holds a tensor of shape ${JSON.stringify(t.shape)}; the toolkit stores one 1-D vector`);
  if (t.shape[0] !== meta.data.hidden_size)
    throw new FormatError(pt, null, `vector has ${t.shape[0]} values but ${basename(json)} says hidden_size ${meta.data.hidden_size}`);
  const warnings: string[] = [];
  if (t.dtype !== 'float32') warnings.push(`${pt}: stored as ${t.dtype}; converted to float32`);
  let layer = meta.data.layer_idx;
  if (layer < 0) {
    if (!opts.target)
      throw new FormatError(json, null, `layer_idx ${layer} counts from the last block; choose the model so it can be resolved`);
    layer += opts.target.numLayers;
    if (layer < 0)
      throw new FormatError(json, null, `layer_idx ${meta.data.layer_idx} is before the first of ${opts.target.numLayers} blocks`);
  }
  layer += opts.layerShift ?? 0;
  if (layer < 0) throw new FormatError(json, null, 'layer shift makes the layer negative');
  const norm = l2norm(t.data);
  if (Math.abs(norm - 1) > 1e-3) warnings.push(`${pt}: vector norm is ${norm.toPrecision(4)}, not 1 as the toolkit writes`);
  const name = basename(json)
    .replace(/\.json$/i, '')
    .replace(/^persona_/, '');
  return {
    format: 'toolkit',
    files: [json, pt],
    persona: emptyPersona(name),
    hiddenSize: t.shape[0]!,
    numLayers: null,
    modelHint:
      typeof raw === 'object' && raw && typeof (raw as { model?: unknown }).model === 'string' ? (raw as { model: string }).model : null,
    modelHash: null,
    layers: [layerVector(layer, t.data)],
    method: 'mean-diff',
    reduction: 'response-mean',
    counts: null,
    provenance: null,
    warnings,
  };
}

export interface ToolkitExportOptions {
  /** Which layer to write (the toolkit holds one); defaults to the layer with the largest norm. */
  layer?: number;
}

/** Writes persona_<name>.json and persona_<name>.pt into `dir`. */
export function writeToolkit(dir: string, input: ExportInput, opts: ToolkitExportOptions = {}): ExportResult {
  const { set } = input;
  const chosen =
    opts.layer !== undefined ? set.layers.find((l) => l.layer === opts.layer) : [...set.layers].sort((a, b) => b.norm - a.norm)[0];
  if (!chosen)
    throw new Error(`toolkit export: layer ${opts.layer} is not in this vector set (has ${set.layers.map((l) => l.layer).join(', ')})`);
  if (chosen.norm === 0) throw new Error(`toolkit export: layer ${chosen.layer} is all zeros and has no direction`);
  const unit = new Float32Array(chosen.vector.length);
  for (let i = 0; i < unit.length; i++) unit[i] = chosen.vector[i]! / chosen.norm;
  const warnings = [`the toolkit stores a unit vector: layer ${chosen.layer}'s norm ${chosen.norm.toPrecision(5)} is not kept`];
  if (set.layers.length > 1)
    warnings.push(`the toolkit holds one layer: wrote layer ${chosen.layer}, left out ${set.layers.length - 1} others`);
  const stem = `persona_${safeFileStem(input.persona.name)}`;
  const pt = join(dir, `${stem}.pt`);
  const json = join(dir, `${stem}.json`);
  writeFileAtomic(pt, writeTorchTensor([unit.length], unit, stem));
  writeFileAtomic(
    json,
    `${JSON.stringify({ layer_idx: chosen.layer, hidden_size: set.hiddenSize, model: set.modelId, name: input.persona.name })}\n`,
  );
  return { files: [json, pt], warnings };
}
