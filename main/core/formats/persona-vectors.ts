// safety-research/persona_vectors saves one float tensor [layers + 1, hidden] per trait, e.g.
// <trait>_response_avg_diff.pt: row 0 is the embedding output (hidden_states[0]) and row b + 1 is
// our layer b. The file name tells the pooling: response_avg, prompt_avg or prompt_last.
import { basename } from 'node:path';
import { layerVector, type LayerVector, type Reduction } from '../library/schema.ts';
import { MAX_LAYERS, readBounded, writeFileAtomic } from './file-io.ts';
import { FormatError } from './errors.ts';
import { readTorchTensor, writeTorchTensor } from './torch-pt.ts';
import { emptyPersona, type ExportInput, type ExportResult, type ImportOptions, type ImportedVectors } from './types.ts';

const SUFFIXES: [RegExp, Reduction][] = [
  [/_response_avg_diff\.pt$/i, 'response-mean'],
  [/_prompt_avg_diff\.pt$/i, 'prompt-mean'],
  [/_prompt_last_diff\.pt$/i, 'last-prompt'],
];

export function readPersonaVectorsBytes(bytes: Uint8Array, file: string, opts: ImportOptions = {}): ImportedVectors {
  const t = readTorchTensor(bytes, file);
  if (t.shape.length !== 2 || t.shape[0]! < 2 || t.shape[1]! < 1) {
    throw new FormatError(file, null, `holds a tensor of shape ${JSON.stringify(t.shape)}; persona_vectors files are [layers + 1, hidden]`);
  }
  const [rows, hidden] = t.shape as [number, number];
  if (rows > MAX_LAYERS + 1) throw new FormatError(file, null, `holds ${rows} rows; no model has more than ${MAX_LAYERS} layers`);
  const warnings: string[] = [];
  if (t.dtype !== 'float32') warnings.push(`${file}: stored as ${t.dtype}; converted to float32`);
  const shift = opts.layerShift ?? 0;
  const layers: LayerVector[] = [];
  for (let row = 1; row < rows; row++) {
    const v = t.data.subarray(row * hidden, (row + 1) * hidden); // a view: rows share one buffer, no second copy
    if (v.every((x) => x === 0)) continue; // rows of layers that were not computed
    const b = row - 1 + shift;
    if (b < 0) throw new FormatError(file, null, `row ${row} with layer shift ${shift} gives a negative layer`);
    layers.push(layerVector(b, v));
  }
  if (layers.length === 0) throw new FormatError(file, null, 'every layer row is zero; nothing to import');
  const name = basename(file);
  const match = SUFFIXES.find(([re]) => re.test(name));
  return {
    format: 'persona-vectors',
    files: [file],
    persona: emptyPersona(match ? name.replace(match[0], '') : name.replace(/\.pt$/i, '')),
    hiddenSize: hidden,
    numLayers: rows - 1,
    modelHint: null,
    modelHash: null,
    layers,
    method: match ? 'mean-diff' : null,
    reduction: match ? match[1] : null,
    counts: null,
    provenance: null,
    warnings,
  };
}

export function readPersonaVectors(path: string, opts: ImportOptions = {}): ImportedVectors {
  return readPersonaVectorsBytes(readBounded(path), path, opts);
}

/** [numLayers + 1, hidden] float32; row 0 (embeddings) and absent layers are zero. */
export function personaVectorsBytes(input: ExportInput): { bytes: Uint8Array; warnings: string[] } {
  const { set } = input;
  const all = new Float32Array((set.numLayers + 1) * set.hiddenSize);
  for (const l of set.layers) all.set(l.vector, (l.layer + 1) * set.hiddenSize);
  const warnings = ['row 0 (the embeddings) is written as zeros'];
  if (set.layers.length < set.numLayers) warnings.push(`${set.numLayers - set.layers.length} absent layers are written as zero rows`);
  return { bytes: writeTorchTensor([set.numLayers + 1, set.hiddenSize], all), warnings };
}

export function writePersonaVectors(path: string, input: ExportInput): ExportResult {
  const { bytes, warnings } = personaVectorsBytes(input);
  writeFileAtomic(path, bytes);
  return { files: [path], warnings };
}

/** The file name persona_vectors would use for this persona and reduction. */
export function personaVectorsFileName(stem: string, reduction: Reduction | null): string {
  const suffix = reduction === 'prompt-mean' ? 'prompt_avg_diff' : reduction === 'last-prompt' ? 'prompt_last_diff' : 'response_avg_diff';
  return `${stem}_${suffix}.pt`;
}
