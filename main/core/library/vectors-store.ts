// Vector sets: one row per (persona, model, computation) and one BLOB of raw little-endian float32
// per layer, with the layer's norm and separation stats beside it.
import type Database from 'better-sqlite3';
import { ShapeMismatchError } from '../formats/errors.ts';
import {
  countsSchema,
  provenanceSchema,
  validateVectorSet,
  type LayerVector,
  type ModelRecord,
  type PersonaVectorSet,
  type VectorRecord,
  type VectorSummary,
} from './schema.ts';
import { fromJson, iso, isoOrNull, newId, nowMs, toJson } from './util.ts';
import { StudioError } from '../errors.ts';

interface VectorRow {
  id: string;
  persona_id: string;
  model_id: string;
  model_name: string;
  model_hash: string | null;
  hidden_size: number;
  num_layers: number;
  method: PersonaVectorSet['method'];
  reduction: PersonaVectorSet['reduction'];
  counts: string | null;
  prompt_set_version_id: string | null;
  provenance: string;
  created_at: number;
  deleted_at: number | null;
}
interface LayerRow {
  layer: number;
  data: Buffer;
  norm: number;
  separation: string | null;
}

/** A BLOB as a Float32Array of its own (Buffers from SQLite may sit at unaligned offsets). */
export function blobToF32(b: Uint8Array, what: string, hidden: number): Float32Array {
  if (b.byteLength !== hidden * 4) throw new Error(`${what}: stored layer has ${b.byteLength} bytes, expected ${hidden * 4}`);
  const out = new Float32Array(hidden);
  new Uint8Array(out.buffer).set(b);
  return out;
}
const f32ToBlob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

export interface VectorQuery {
  personaId?: string;
  modelId?: string;
  includeDeleted?: boolean;
}

export class VectorsStore {
  constructor(
    private readonly db: Database.Database,
    private readonly models: { require(id: string): ModelRecord },
  ) {}

  /**
   * Stores `set` for persona `personaId` on library model `modelId`. Refuses a set whose shape does
   * not match the model (naming both) or that breaks the set invariants.
   */
  save(personaId: string, modelId: string, set: PersonaVectorSet, opts: { promptSetVersionId?: string | null } = {}): VectorRecord {
    const model = this.models.require(modelId);
    if (set.hiddenSize !== model.hiddenSize || set.numLayers !== model.numLayers) {
      throw new ShapeMismatchError(
        `vectors have hidden size ${set.hiddenSize} × ${set.numLayers} layers but model ${model.name} has hidden size ${model.hiddenSize} × ${model.numLayers} layers`,
      );
    }
    validateVectorSet(set);
    const counts = set.counts === null ? null : countsSchema.parse(set.counts);
    const provenance = provenanceSchema.parse(set.provenance);
    const id = newId();
    this.db.transaction(() => {
      const p = this.db.prepare('SELECT id FROM personas WHERE id = ?').get(personaId);
      if (!p) throw new StudioError('not-found', `persona ${personaId} is not in the library`);
      this.db
        .prepare(
          `INSERT INTO vectors (id, persona_id, model_id, model_name, model_hash, hidden_size, num_layers, method, reduction,
          counts, prompt_set_version_id, provenance, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          personaId,
          modelId,
          set.modelId,
          set.modelHash,
          set.hiddenSize,
          set.numLayers,
          set.method,
          set.reduction,
          counts === null ? null : toJson(counts),
          opts.promptSetVersionId ?? null,
          toJson(provenance),
          nowMs(),
        );
      const ins = this.db.prepare('INSERT INTO vector_layers (vector_id, layer, data, norm, separation) VALUES (?, ?, ?, ?, ?)');
      for (const l of set.layers) ins.run(id, l.layer, f32ToBlob(l.vector), l.norm, l.separation === null ? null : toJson(l.separation));
    })();
    return this.require(id);
  }

  get(id: string): VectorRecord | null {
    const r = this.db.prepare('SELECT * FROM vectors WHERE id = ?').get(id) as VectorRow | undefined;
    if (!r) return null;
    const layers = (
      this.db.prepare('SELECT layer, data, norm, separation FROM vector_layers WHERE vector_id = ? ORDER BY layer').all(id) as LayerRow[]
    ).map((l): LayerVector => ({
      layer: l.layer,
      vector: blobToF32(l.data, `vector ${id} layer ${l.layer}`, r.hidden_size),
      norm: l.norm,
      separation: fromJson(l.separation) as LayerVector['separation'],
    }));
    return {
      ...this.meta(r),
      layers,
      id: r.id,
      personaId: r.persona_id,
      libraryModelId: r.model_id,
      createdAt: iso(r.created_at),
      deletedAt: isoOrNull(r.deleted_at),
    };
  }

  require(id: string): VectorRecord {
    const v = this.get(id);
    if (!v) throw new StudioError('not-found', `vector ${id} is not in the library`);
    return v;
  }

  /** One layer's floats, without reading the others. */
  layer(id: string, layer: number): Float32Array {
    const r = this.db
      .prepare(
        'SELECT l.data, v.hidden_size FROM vector_layers l JOIN vectors v ON v.id = l.vector_id WHERE l.vector_id = ? AND l.layer = ?',
      )
      .get(id, layer) as { data: Buffer; hidden_size: number } | undefined;
    if (!r) throw new StudioError('not-found', `vector ${id} has no layer ${layer}`);
    return blobToF32(r.data, `vector ${id} layer ${layer}`, r.hidden_size);
  }

  /** Summaries (no floats), newest first. */
  list(q: VectorQuery = {}): VectorSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (!q.includeDeleted) where.push('v.deleted_at IS NULL');
    if (q.personaId) {
      where.push('v.persona_id = ?');
      args.push(q.personaId);
    }
    if (q.modelId) {
      where.push('v.model_id = ?');
      args.push(q.modelId);
    }
    const rows = this.db
      .prepare(`SELECT * FROM vectors v ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY v.created_at DESC`)
      .all(...args) as VectorRow[];
    const layersOf = this.db.prepare('SELECT layer, norm, separation FROM vector_layers WHERE vector_id = ? ORDER BY layer');
    return rows.map((r) => ({
      ...this.meta(r),
      id: r.id,
      personaId: r.persona_id,
      libraryModelId: r.model_id,
      createdAt: iso(r.created_at),
      deletedAt: isoOrNull(r.deleted_at),
      layers: (layersOf.all(r.id) as Omit<LayerRow, 'data'>[]).map((l) => ({
        layer: l.layer,
        norm: l.norm,
        separation: fromJson(l.separation) as LayerVector['separation'],
      })),
    }));
  }

  /** The newest live vector of a persona for a model. */
  latest(personaId: string, modelId?: string): VectorRecord | null {
    const r = (
      modelId
        ? this.db
            .prepare('SELECT id FROM vectors WHERE persona_id = ? AND model_id = ? AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 1')
            .get(personaId, modelId)
        : this.db
            .prepare('SELECT id FROM vectors WHERE persona_id = ? AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 1')
            .get(personaId)
    ) as { id: string } | undefined;
    return r ? this.get(r.id) : null;
  }

  delete(id: string): void {
    this.require(id);
    this.db.prepare('UPDATE vectors SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').run(nowMs(), id);
  }

  restore(id: string): void {
    this.require(id);
    this.db.prepare('UPDATE vectors SET deleted_at = NULL WHERE id = ?').run(id);
  }

  private meta(r: VectorRow) {
    return {
      modelId: r.model_name,
      modelHash: r.model_hash,
      hiddenSize: r.hidden_size,
      numLayers: r.num_layers,
      method: r.method,
      reduction: r.reduction,
      counts: fromJson(r.counts) as PersonaVectorSet['counts'],
      provenance: fromJson(r.provenance) as PersonaVectorSet['provenance'],
    };
  }
}
