// Vector interchange: detect a file's format, read it to exact float32 layers, write any format.
import { join } from 'node:path';
import { readHead, safeFileStem } from './file-io.ts';
import { readControlVector, writeControlVector } from './control-vector.ts';
import { FormatError } from './errors.ts';
import { personaVectorsFileName, readPersonaVectors, writePersonaVectors } from './persona-vectors.ts';
import {
  isStudioSafetensors,
  readSafetensorsVectors,
  writeStudioFile,
  writeVectorSafetensors,
  type SafetensorsExportOptions,
} from './safetensors-vectors.ts';
import { looksLikeToolkit, readToolkit, writeToolkit, type ToolkitExportOptions } from './toolkit.ts';
import {
  VECTOR_FORMATS,
  type ExportInput,
  type ExportResult,
  type ImportOptions,
  type ImportedVectors,
  type VectorFormat,
} from './types.ts';

export * from './types.ts';
export { FormatError, ShapeMismatchError, oneLine } from './errors.ts';
export { fitToModel, type FitModel } from './fit.ts';
export { STUDIO_FORMAT, STUDIO_FORMAT_VERSION } from './studio-meta.ts';

/** File extension each format is written with. */
export const FORMAT_EXTENSIONS: Record<VectorFormat, string> = {
  studio: '.persona.safetensors',
  gguf: '.gguf',
  'persona-vectors': '.pt',
  toolkit: '.json',
  safetensors: '.safetensors',
};

type Sniffed = Exclude<VectorFormat, 'studio' | 'safetensors'> | 'safetensors-any';

/**
 * The format from the content (magic bytes) and, for .json/.pt pairs, the sibling file. Only a
 * regular file is opened; safetensors files are told apart (ours or plain) by the reader itself,
 * so their header is parsed once.
 */
function sniff(path: string): Sniffed {
  const h = readHead(path, 16);
  const magic = new TextDecoder('latin1').decode(h.subarray(0, 4));
  if (magic === 'GGUF') return 'gguf';
  if (/\.json$/i.test(path)) {
    if (looksLikeToolkit(path)) return 'toolkit';
    throw new FormatError(path, null, 'a .json file without a .pt beside it is not a toolkit persona');
  }
  if (h[0] === 0x50 && h[1] === 0x4b) return looksLikeToolkit(path) && /\.pt$/i.test(path) ? 'toolkit' : 'persona-vectors';
  if (h.length >= 9 && h[8] === 0x7b) return 'safetensors-any';
  throw new FormatError(path, 0, 'unrecognised file: expected GGUF, torch .pt (zip), safetensors, or a toolkit .json/.pt pair');
}

/** Tells the format from the content (magic bytes) and, for .json/.pt pairs, the sibling file. */
export function detectFormat(path: string): VectorFormat {
  const f = sniff(path);
  if (f !== 'safetensors-any') return f;
  return isStudioSafetensors(path) ? 'studio' : 'safetensors';
}

export function importVectors(path: string, opts: ImportOptions & { format?: VectorFormat } = {}): ImportedVectors {
  const format = opts.format ?? sniff(path);
  switch (format) {
    case 'studio':
      return readSafetensorsVectors(path, opts, 'studio');
    case 'safetensors':
    case 'safetensors-any':
      return readSafetensorsVectors(path, opts);
    case 'gguf':
      return readControlVector(path, opts);
    case 'persona-vectors':
      return readPersonaVectors(path, opts);
    case 'toolkit':
      return readToolkit(path, opts);
  }
}

export interface ExportOptions extends SafetensorsExportOptions, ToolkitExportOptions {}

/**
 * Writes `input` in `format`. `path` is the file to write, or for the toolkit (two files) the
 * folder; `defaultExportPath` proposes one.
 */
export function exportVectors(path: string, format: VectorFormat, input: ExportInput, opts: ExportOptions = {}): ExportResult {
  if (!VECTOR_FORMATS.includes(format))
    throw new Error(`unknown export format ${JSON.stringify(format)} (known: ${VECTOR_FORMATS.join(', ')})`);
  switch (format) {
    case 'studio':
      return writeStudioFile(path, input);
    case 'gguf':
      return writeControlVector(path, input);
    case 'persona-vectors':
      return writePersonaVectors(path, input);
    case 'toolkit':
      return writeToolkit(path, input, opts);
    case 'safetensors':
      return writeVectorSafetensors(path, input, opts);
  }
}

/** A file name in `dir` for exporting persona `name` (for the toolkit: the folder itself). */
export function defaultExportPath(dir: string, format: VectorFormat, name: string, input?: ExportInput): string {
  const stem = safeFileStem(name);
  if (format === 'toolkit') return dir;
  if (format === 'persona-vectors') return join(dir, personaVectorsFileName(stem, input?.set.reduction ?? null));
  return join(dir, `${stem}${FORMAT_EXTENSIONS[format]}`);
}
