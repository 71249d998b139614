// The JSON metadata of our own persona files (schema versioned). It also rides along inside the
// GGUF and safetensors files we export, so a round trip through them keeps the provenance.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { layerMetaSchema, vectorSetMetaSchema, type LayerVector } from '../library/schema.ts';
import { f32Bytes } from './bytes.ts';
import type { ExportInput, ImportedVectors } from './types.ts';

export const STUDIO_FORMAT = 'persona-studio.persona';
/** Bump when the metadata changes incompatibly; readers refuse versions newer than they know. */
export const STUDIO_FORMAT_VERSION = 1;

export const personaMetaSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(20_000),
  tags: z.array(z.string().max(64)).max(64),
  notes: z.string().max(200_000),
});

export const studioMetaSchema = z.object({
  format: z.literal(STUDIO_FORMAT),
  version: z.int().positive(),
  persona: personaMetaSchema,
  vector: vectorSetMetaSchema,
  layers: z.array(layerMetaSchema).min(1).max(4096),
  /** sha256 over the float32 bytes of the layers, in the order listed. */
  dataSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type StudioMeta = z.infer<typeof studioMetaSchema>;

export function layersSha256(layers: { vector: Float32Array }[]): string {
  const h = createHash('sha256');
  for (const l of layers) h.update(f32Bytes(l.vector));
  return h.digest('hex');
}

export function studioMetaFromExport(input: ExportInput, layers: LayerVector[] = input.set.layers): StudioMeta {
  const { set, persona } = input;
  return {
    format: STUDIO_FORMAT,
    version: STUDIO_FORMAT_VERSION,
    persona: { name: persona.name, description: persona.description, tags: persona.tags, notes: persona.notes },
    vector: {
      modelId: set.modelId,
      modelHash: set.modelHash,
      hiddenSize: set.hiddenSize,
      numLayers: set.numLayers,
      method: set.method,
      reduction: set.reduction,
      counts: set.counts,
      provenance: set.provenance,
    },
    layers: layers.map((l) => ({ layer: l.layer, norm: l.norm, separation: l.separation })),
    dataSha256: layersSha256(layers),
  };
}

/** Fills an import result from our metadata (persona, provenance, stated shape). */
export function studioMetaToImported(meta: StudioMeta, base: ImportedVectors): ImportedVectors {
  return {
    ...base,
    persona: { ...meta.persona },
    numLayers: meta.vector.numLayers,
    modelHint: meta.vector.modelId,
    modelHash: meta.vector.modelHash,
    method: meta.vector.method,
    reduction: meta.vector.reduction,
    counts: meta.vector.counts,
    provenance: meta.vector.provenance,
  };
}
