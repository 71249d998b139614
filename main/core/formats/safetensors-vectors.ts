// Vectors in safetensors, two ways:
// - our persona file (format "studio"): one F32 tensor "layers.{b}" per layer, and the studio JSON
//   metadata (versioned, with a checksum of the floats) in __metadata__.persona_studio;
// - plain safetensors for other tools: the same per-layer tensors or one stacked [layers, hidden]
//   tensor, with a few plain metadata strings (model_hint, layer_rows…).
import { basename } from 'node:path';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../../native-models/checkpoint/safetensors.ts';
import { layerVector, type LayerVector } from '../library/schema.ts';
import { closeSync } from 'node:fs';
import { FormatError } from './errors.ts';
import { MAX_LAYERS, MAX_VECTOR_FILE, openRegularFile, readAt } from './file-io.ts';
import { parseFileJson } from './json.ts';
import {
  layersSha256,
  STUDIO_FORMAT,
  STUDIO_FORMAT_VERSION,
  studioMetaFromExport,
  studioMetaSchema,
  studioMetaToImported,
} from './studio-meta.ts';
import { emptyPersona, type ExportInput, type ExportResult, type ImportOptions, type ImportedVectors } from './types.ts';
import { zodIssueLine } from '../errors.ts';

const META_KEY = 'persona_studio';

/** A vector file's header is small (our metadata caps notes at 200 000 characters). */
const MAX_VECTOR_HEADER = 16 << 20;

/**
 * Opens with the shared reader, once per import, turning any failure into one FormatError line for
 * this file. Only regular files of vector size are opened, and a header length past what a vector
 * file needs is refused before anything is read or parsed.
 */
function open(path: string): SafetensorsFile {
  const { fd, size } = openRegularFile(path);
  try {
    if (size > MAX_VECTOR_FILE)
      throw new FormatError(path, null, `is ${size} bytes; larger than the ${MAX_VECTOR_FILE} a vector file may be`);
    const head = readAt(fd, 8, 0);
    if (head.length === 8) {
      const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
      if (n > BigInt(MAX_VECTOR_HEADER) && n <= BigInt(size - 8))
        throw new FormatError(path, 0, `header of ${n} bytes is larger than the ${MAX_VECTOR_HEADER} a vector file needs`);
    }
  } finally {
    closeSync(fd);
  }
  try {
    return new SafetensorsFile(path);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const detail = msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg;
    // The reader's messages concern the 8-byte length prefix and the JSON header that follows it.
    throw new FormatError(path, 8, `not a readable safetensors file: ${detail}`);
  }
}

function readF32(st: SafetensorsFile, name: string): Float32Array {
  try {
    return st.readFloat32(name);
  } catch (e) {
    const info = st.tensors.get(name);
    throw new FormatError(st.path, info ? 8 + info.begin : null, `tensor ${name}: ${(e as Error).message}`);
  }
}

export function isStudioSafetensors(path: string): boolean {
  const st = open(path);
  try {
    return META_KEY in st.metadata;
  } finally {
    st.close();
  }
}

// ---------- our persona file ----------

export function readStudioFile(path: string): ImportedVectors {
  return readSafetensorsVectors(path, {}, 'studio');
}

/**
 * Reads a safetensors vector file, ours or plain, from one open (the header is parsed once):
 * `expect` 'studio' refuses a file without our metadata; otherwise our metadata, when present, is used.
 */
export function readSafetensorsVectors(path: string, opts: ImportOptions = {}, expect?: 'studio'): ImportedVectors {
  const st = open(path);
  try {
    if (META_KEY in st.metadata) return studioFromOpen(st);
    if (expect === 'studio') throw new FormatError(path, 8, `has no ${META_KEY} metadata; not a Persona Studio persona file`);
    return plainFromOpen(st, opts);
  } finally {
    st.close();
  }
}

function studioFromOpen(st: SafetensorsFile): ImportedVectors {
  const path = st.path;
  const json = parseFileJson(st.metadata[META_KEY]!, path, `metadata ${META_KEY}`, 8);
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > STUDIO_FORMAT_VERSION) {
    throw new FormatError(
      path,
      null,
      `was written by a newer Persona Studio (persona file version ${version}; this app reads up to ${STUDIO_FORMAT_VERSION})`,
    );
  }
  const parsed = studioMetaSchema.safeParse(json);
  if (!parsed.success) {
    throw new FormatError(path, 8, zodIssueLine(parsed.error, 'metadata field', ' '));
  }
  const meta = parsed.data;
  const hidden = meta.vector.hiddenSize;
  const layers: LayerVector[] = [];
  const warnings: string[] = [];
  const listed = new Set<string>();
  let prev = -1;
  for (const l of meta.layers) {
    if (l.layer <= prev || l.layer >= meta.vector.numLayers)
      throw new FormatError(path, 8, `metadata lists layer ${l.layer} out of order or past ${meta.vector.numLayers - 1}`);
    prev = l.layer;
    const name = `layers.${l.layer}`;
    listed.add(name);
    const info = st.tensors.get(name);
    if (!info) throw new FormatError(path, null, `metadata lists layer ${l.layer} but tensor ${name} is missing`);
    if (info.dtype !== 'F32' || info.shape.length !== 1 || info.shape[0] !== hidden) {
      throw new FormatError(path, 8 + info.begin, `tensor ${name} is ${info.dtype}${JSON.stringify(info.shape)}; expected F32[${hidden}]`);
    }
    layers.push({ layer: l.layer, vector: readF32(st, name), norm: l.norm, separation: l.separation });
  }
  if (layersSha256(layers) !== meta.dataSha256)
    throw new FormatError(path, null, 'tensor data does not match the checksum in its metadata (corrupt file)');
  for (const name of st.tensors.keys())
    if (!listed.has(name)) warnings.push(`${path}: tensor ${name} is not listed in the metadata; ignored`);
  const base: ImportedVectors = {
    format: 'studio',
    files: [path],
    persona: emptyPersona(meta.persona.name),
    hiddenSize: hidden,
    numLayers: null,
    modelHint: null,
    modelHash: null,
    layers,
    method: null,
    reduction: null,
    counts: null,
    provenance: null,
    warnings,
  };
  return studioMetaToImported(meta, base);
}

export function writeStudioFile(path: string, input: ExportInput): ExportResult {
  const meta = studioMetaFromExport(input);
  writeSafetensors(
    path,
    input.set.layers.map((l) => ({ name: `layers.${l.layer}`, shape: [l.vector.length], data: l.vector })),
    { format: STUDIO_FORMAT, format_version: String(STUDIO_FORMAT_VERSION), [META_KEY]: JSON.stringify(meta) },
  );
  return { files: [path], warnings: [] };
}

// ---------- plain safetensors ----------

export interface SafetensorsExportOptions {
  /** per-layer: one tensor "layers.{b}" each; stacked: one [numLayers, hidden] tensor "layers" (absent layers zero). */
  layout?: 'per-layer' | 'stacked';
}

export function writeVectorSafetensors(path: string, input: ExportInput, opts: SafetensorsExportOptions = {}): ExportResult {
  const { set, persona } = input;
  const warnings: string[] = [];
  const metadata: Record<string, string> = {
    format: 'persona-studio.vectors',
    persona: persona.name,
    model_hint: input.architecture ?? set.modelId,
    model_id: set.modelId,
    hidden_size: String(set.hiddenSize),
    num_layers: String(set.numLayers),
    layers_present: set.layers.map((l) => l.layer).join(','),
  };
  if (set.modelHash) metadata.model_hash = set.modelHash;
  if (set.method) metadata.method = set.method;
  if (set.reduction) metadata.reduction = set.reduction;
  let tensors: TensorToWrite[];
  if ((opts.layout ?? 'per-layer') === 'stacked') {
    const all = new Float32Array(set.numLayers * set.hiddenSize);
    for (const l of set.layers) all.set(l.vector, l.layer * set.hiddenSize);
    tensors = [{ name: 'layers', shape: [set.numLayers, set.hiddenSize], data: all }];
    metadata.layer_rows = 'layers';
    if (set.layers.length < set.numLayers) warnings.push(`${set.numLayers - set.layers.length} absent layers are written as zero rows`);
  } else {
    tensors = set.layers.map((l) => ({ name: `layers.${l.layer}`, shape: [l.vector.length], data: l.vector }));
  }
  writeSafetensors(path, tensors, metadata);
  return { files: [path], warnings };
}

const allZero = (v: Float32Array): boolean => v.every((x) => x === 0);

export function readVectorSafetensors(path: string, opts: ImportOptions = {}): ImportedVectors {
  return readSafetensorsVectors(path, opts);
}

function plainFromOpen(st: SafetensorsFile, opts: ImportOptions): ImportedVectors {
  const path = st.path;
  const warnings: string[] = [];
  const md = st.metadata;
  const shift = opts.layerShift ?? 0;
  const infos = [...st.tensors.values()];
  if (infos.length === 0) throw new FormatError(path, null, 'holds no tensors');
  const layers: LayerVector[] = [];
  let hidden: number;
  let numLayers: number | null = md.num_layers && /^\d+$/.test(md.num_layers) ? Number(md.num_layers) : null;
  const stacked = infos.filter((t) => t.shape.length === 2);
  if (stacked.length === 1 && infos.length === 1) {
    const t = stacked[0]!;
    const [rows, h] = t.shape as [number, number];
    // A zero dimension makes the tensor empty whatever the other says ([2^53-1, 0] holds no
    // bytes): refused before the other is used as a loop bound.
    if (rows === 0 || h === 0) throw new FormatError(path, 8 + t.begin, `${t.name} is [${rows}, ${h}]; a zero dimension holds no vectors`);
    hidden = h;
    let firstLayerRow: 0 | 1;
    if (md.layer_rows === 'layers') firstLayerRow = 0;
    else if (md.layer_rows === 'hidden_states') firstLayerRow = 1;
    else if (opts.target && rows === opts.target.numLayers) firstLayerRow = 0;
    else if (opts.target && rows === opts.target.numLayers + 1) {
      firstLayerRow = 1;
      warnings.push(
        `${path}: ${t.name} has ${rows} rows for a ${opts.target.numLayers}-layer model; read row 0 as the embeddings and row b+1 as layer b`,
      );
    } else {
      throw new FormatError(
        path,
        null,
        `${t.name} is [${rows}, ${h}] with no layer_rows metadata; choose the model so its layer count tells whether row 0 is layer 0 or the embeddings`,
      );
    }
    if (rows - firstLayerRow > MAX_LAYERS)
      throw new FormatError(path, 8 + t.begin, `${t.name} has ${rows} rows; no model has more than ${MAX_LAYERS} layers`);
    numLayers = rows - firstLayerRow;
    const present = md.layers_present ? new Set(md.layers_present.split(',').map(Number)) : null;
    const all = readF32(st, t.name);
    for (let row = firstLayerRow; row < rows; row++) {
      const v = all.subarray(row * h, (row + 1) * h); // a view: rows share one buffer, no second copy
      const b = row - firstLayerRow;
      if (present ? !present.has(b) : allZero(v)) continue;
      if (b + shift < 0) throw new FormatError(path, null, `layer ${b} with layer shift ${shift} is negative`);
      layers.push(layerVector(b + shift, v));
    }
  } else {
    hidden = -1;
    const seen = new Set<number>();
    for (const t of infos) {
      const m = /(?:^|[._-])(\d{1,6})$/.exec(t.name);
      if (!m || t.shape.length !== 1) {
        warnings.push(`${path}: tensor ${t.name} ${JSON.stringify(t.shape)} is not a per-layer vector; ignored`);
        continue;
      }
      const b = Number(m[1]) + shift;
      if (b < 0) throw new FormatError(path, null, `tensor ${t.name} with layer shift ${shift} gives a negative layer`);
      if (seen.has(b)) throw new FormatError(path, null, `two tensors name layer ${b}`);
      seen.add(b);
      if (seen.size > MAX_LAYERS)
        throw new FormatError(path, null, `holds more than ${MAX_LAYERS} per-layer tensors; no model has that many layers`);
      if (t.shape[0] === 0) throw new FormatError(path, 8 + t.begin, `tensor ${t.name} has zero length`);
      if (hidden < 0) hidden = t.shape[0]!;
      else if (t.shape[0] !== hidden)
        throw new FormatError(path, 8 + t.begin, `tensor ${t.name} has ${t.shape[0]} values, others have ${hidden}`);
      layers.push(layerVector(b, readF32(st, t.name)));
    }
    if (layers.length === 0)
      throw new FormatError(
        path,
        null,
        'holds no per-layer vectors (expected tensors named like layers.N, or one [layers, hidden] tensor)',
      );
    if (/hidden_states/i.test(infos[0]!.name))
      warnings.push(
        `${path}: tensor names mention hidden_states; hidden_states[N] is our layer N-1 — import with layer shift -1 if that is the convention`,
      );
    layers.sort((a, b) => a.layer - b.layer);
  }
  if (hidden <= 0) throw new FormatError(path, null, 'vectors have zero length');
  if (layers.length === 0) throw new FormatError(path, null, 'every layer row is zero; nothing to import');
  return {
    format: 'safetensors',
    files: [path],
    persona: emptyPersona(md.persona || basename(path).replace(/\.safetensors$/i, '')),
    hiddenSize: hidden,
    numLayers,
    modelHint: md.model_id || md.model_hint || null,
    modelHash: md.model_hash || null,
    layers,
    method: (['mean-diff', 'pca', 'arithmetic'] as const).find((m) => m === md.method) ?? null,
    reduction: (['response-mean', 'last-prompt', 'all-tokens', 'prompt-mean'] as const).find((r) => r === md.reduction) ?? null,
    counts: null,
    provenance: null,
    warnings,
  };
}
