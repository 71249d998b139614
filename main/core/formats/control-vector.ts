// llama.cpp control vectors (also written by repeng): a GGUF with general.architecture =
// "controlvector", controlvector.model_hint, controlvector.layer_count, and one F32 tensor
// "direction.N" [hidden] per layer. llama.cpp adds direction.N to the output of block N (it never
// applies direction.0 and refuses files that have one), so direction.N ↔ our layer N.
import { layerVector, type LayerVector } from '../library/schema.ts';
import { readBounded, writeFileAtomic } from './file-io.ts';
import { FormatError } from './errors.ts';
import { GGUF_TYPE_NAMES, GgmlType, GgufType, ggufTensorF32, parseGguf, writeGguf, type GgufKV } from './gguf.ts';
import { studioMetaSchema, studioMetaToImported, studioMetaFromExport } from './studio-meta.ts';
import { emptyPersona, type ExportInput, type ExportResult, type ImportOptions, type ImportedVectors } from './types.ts';
import { basename } from 'node:path';

/** Our metadata riding along in the GGUF (llama.cpp ignores unknown keys). */
const STUDIO_KEY = 'persona_studio.metadata';

export function readControlVectorBytes(bytes: Uint8Array, file: string, opts: ImportOptions = {}): ImportedVectors {
  const g = parseGguf(bytes, file);
  const warnings: string[] = [];
  const arch = g.kv.get('general.architecture');
  if (!arch || arch.type !== GgufType.STRING) throw new FormatError(file, null, 'general.architecture is missing; not a control vector');
  if (arch.value !== 'controlvector')
    throw new FormatError(
      file,
      null,
      `general.architecture is ${JSON.stringify(arch.value)}, not "controlvector" (a model file, not a control vector?)`,
    );
  const hintKV = g.kv.get('controlvector.model_hint');
  const modelHint = hintKV && hintKV.type === GgufType.STRING ? (hintKV.value as string) : null;
  if (!hintKV) warnings.push(`${file}: controlvector.model_hint is missing`);
  else if (modelHint === null)
    warnings.push(`${file}: controlvector.model_hint is a ${GGUF_TYPE_NAMES[hintKV.type]}, not a string; ignored`);
  const countKV = g.kv.get('controlvector.layer_count');
  let layerCount: number | null = null;
  if (countKV) {
    // repeng writes u32, llama.cpp's cvector-generator i32; both are fine.
    if (countKV.type === GgufType.UINT32 || countKV.type === GgufType.INT32) layerCount = countKV.value as number;
    else warnings.push(`${file}: controlvector.layer_count is a ${GGUF_TYPE_NAMES[countKV.type]} (expected u32 or i32); ignored`);
  }
  const shift = opts.layerShift ?? 0;
  if (countKV?.type === GgufType.INT32 && shift === 0) {
    warnings.push(
      `${file}: layer_count is an int32, as llama.cpp's cvector-generator writes; that tool saves the direction it computed from block i as direction.i+1. ` +
        'Imported as llama.cpp applies it (direction.N after block N); import with layer shift -1 to steer at the block it was computed from',
    );
  }
  let hidden = -1;
  const layers: LayerVector[] = [];
  for (const t of g.tensors) {
    const m = /^direction\.(\d{1,6})$/.exec(t.name);
    if (!m) {
      warnings.push(`${file}: tensor ${t.name} is not a direction.N tensor; ignored`);
      continue;
    }
    const n = Number(m[1]);
    if (n === 0) warnings.push(`${file}: has direction.0, which llama.cpp refuses to load; imported as layer 0`);
    if (t.shape.slice(1).some((d) => d !== 1))
      throw new FormatError(file, t.dataOffset, `${t.name} has shape ${JSON.stringify(t.shape)}; expected one dimension`);
    if (t.type !== GgmlType.F32) {
      if (t.byteSize === null) throw new FormatError(file, t.dataOffset, `${t.name} has ggml type ${t.type}; control vectors are F32`);
      warnings.push(`${file}: ${t.name} is ${t.type === GgmlType.F16 ? 'F16' : 'BF16'}; llama.cpp only loads F32 directions`);
    }
    if (hidden < 0) hidden = t.shape[0]!;
    else if (t.shape[0] !== hidden)
      throw new FormatError(file, t.dataOffset, `${t.name} has ${t.shape[0]} values but earlier directions have ${hidden}`);
    const layer = n + shift;
    if (layer < 0) throw new FormatError(file, null, `${t.name} with layer shift ${shift} gives layer ${layer}`);
    layers.push(layerVector(layer, ggufTensorF32(g, t)));
  }
  if (layers.length === 0) throw new FormatError(file, null, 'holds no direction.N tensors');
  if (hidden === 0) throw new FormatError(file, null, 'directions have zero length');
  layers.sort((a, b) => a.layer - b.layer);
  if (layerCount !== null && layerCount !== layers.length) {
    warnings.push(`${file}: layer_count says ${layerCount} but the file holds ${layers.length} directions`);
  }
  const name = basename(file).replace(/\.gguf$/i, '');
  const out: ImportedVectors = {
    format: 'gguf',
    files: [file],
    persona: emptyPersona(name),
    hiddenSize: hidden,
    numLayers: null,
    modelHint,
    modelHash: null,
    layers,
    method: null,
    reduction: null,
    counts: null,
    provenance: null,
    warnings,
  };
  const studio = g.kv.get(STUDIO_KEY);
  if (studio?.type === GgufType.STRING) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(studio.value as string);
    } catch {
      parsed = null;
    }
    const meta = studioMetaSchema.safeParse(parsed);
    if (meta.success) {
      // Separation stats ride along; floats always come from the tensors.
      const seps = new Map(meta.data.layers.map((l) => [l.layer, l.separation]));
      for (const l of layers) l.separation = seps.get(l.layer - shift) ?? null;
      return { ...studioMetaToImported(meta.data, out), layers, warnings };
    }
    warnings.push(`${file}: ${STUDIO_KEY} is not valid Persona Studio metadata; ignored`);
  }
  return out;
}

export function readControlVector(path: string, opts: ImportOptions = {}): ImportedVectors {
  return readControlVectorBytes(readBounded(path), path, opts);
}

export function controlVectorBytes(input: ExportInput): { bytes: Uint8Array; warnings: string[] } {
  const { set } = input;
  const warnings: string[] = [];
  const layers = set.layers.filter((l) => {
    if (l.layer !== 0) return true;
    warnings.push('layer 0 cannot be represented in a llama.cpp control vector (llama.cpp refuses direction.0); it was left out');
    return false;
  });
  if (layers.length === 0) throw new Error('control vector export: no layer other than 0 to write');
  const hint = input.architecture ?? set.modelId;
  const kvs: GgufKV[] = [
    { key: 'general.architecture', type: GgufType.STRING, value: 'controlvector' },
    { key: 'controlvector.model_hint', type: GgufType.STRING, value: hint },
    { key: 'controlvector.layer_count', type: GgufType.UINT32, value: layers.length },
    { key: 'general.name', type: GgufType.STRING, value: input.persona.name },
    { key: STUDIO_KEY, type: GgufType.STRING, value: JSON.stringify(studioMetaFromExport(input, layers)) },
  ];
  const bytes = writeGguf(
    kvs,
    layers.map((l) => ({ name: `direction.${l.layer}`, data: l.vector })),
  );
  return { bytes, warnings };
}

export function writeControlVector(path: string, input: ExportInput): ExportResult {
  const { bytes, warnings } = controlVectorBytes(input);
  writeFileAtomic(path, bytes);
  return { files: [path], warnings };
}
