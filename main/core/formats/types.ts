// Shapes shared by the format readers and writers.
import type { Counts, LayerVector, Method, PersonaVectorSet, Provenance, Reduction } from '../library/schema.ts';

export const VECTOR_FORMATS = ['studio', 'gguf', 'persona-vectors', 'toolkit', 'safetensors'] as const;
export type VectorFormat = (typeof VECTOR_FORMATS)[number];

export interface PersonaMeta {
  name: string;
  description: string;
  tags: string[];
  notes: string;
}

/** The model an import is meant for; resolves conventions a file leaves open (negative layers, row 0). */
export interface ImportTarget {
  hiddenSize: number;
  numLayers: number;
  name?: string;
  architecture?: string;
  contentHash?: string | null;
}

export interface ImportOptions {
  target?: ImportTarget;
  /** Added to every layer index read from the file (e.g. -1 for llama.cpp cvector-generator files). */
  layerShift?: number;
}

/** What a file holds, before it is fitted to a model: exact float32 per layer plus what the file says. */
export interface ImportedVectors {
  format: VectorFormat;
  files: string[];
  persona: PersonaMeta;
  hiddenSize: number;
  /** Decoder block count when the file states it (a .pt's rows − 1, our own files). */
  numLayers: number | null;
  /** Model id / architecture named by the file (GGUF model_hint, our modelId). */
  modelHint: string | null;
  modelHash: string | null;
  layers: LayerVector[];
  method: Method | null;
  reduction: Reduction | null;
  counts: Counts | null;
  /** Full provenance when the file is ours. */
  provenance: Provenance | null;
  warnings: string[];
}

export interface ExportInput {
  persona: PersonaMeta;
  set: PersonaVectorSet;
  /** Model architecture (config model_type, e.g. "qwen3"): GGUF's model_hint. */
  architecture?: string;
}

export interface ExportResult {
  files: string[];
  warnings: string[];
}

export function emptyPersona(name: string): PersonaMeta {
  return { name, description: '', tags: [], notes: '' };
}
