// Models the library knows: where they come from, their weights' hash, shape and compiled variants.
import type Database from 'better-sqlite3';
import { modelInputSchema, variantInputSchema, type ModelInput, type ModelRecord, type ModelVariant, type VariantInput } from './schema.ts';
import { fromJson, iso, isoOrNull, newId, nowMs, parseInput, toJson } from './util.ts';
import { StudioError } from '../errors.ts';

interface ModelRow {
  id: string;
  name: string;
  source: string;
  source_kind: 'path' | 'hub';
  content_hash: string | null;
  architecture: string;
  hidden_size: number;
  num_layers: number;
  created_at: number;
  deleted_at: number | null;
}
interface VariantRow {
  id: string;
  model_id: string;
  label: string;
  path: string;
  precision: string;
  compiler_version: string;
  options: string;
  created_at: number;
}

const toModel = (r: ModelRow): ModelRecord => ({
  id: r.id,
  name: r.name,
  source: r.source,
  sourceKind: r.source_kind,
  contentHash: r.content_hash,
  architecture: r.architecture,
  hiddenSize: r.hidden_size,
  numLayers: r.num_layers,
  createdAt: iso(r.created_at),
  deletedAt: isoOrNull(r.deleted_at),
});
const toVariant = (r: VariantRow): ModelVariant => ({
  id: r.id,
  modelId: r.model_id,
  label: r.label,
  path: r.path,
  precision: r.precision,
  compilerVersion: r.compiler_version,
  options: fromJson(r.options) as Record<string, unknown>,
  createdAt: iso(r.created_at),
});

export class ModelsStore {
  constructor(private readonly db: Database.Database) {}

  add(input: ModelInput): ModelRecord {
    const m = parseInput(modelInputSchema, input, 'model');
    const id = newId();
    this.db
      .prepare(
        `INSERT INTO models (id, name, source, source_kind, content_hash, architecture, hidden_size, num_layers, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, m.name, m.source, m.sourceKind, m.contentHash, m.architecture, m.hiddenSize, m.numLayers, nowMs());
    return this.require(id);
  }

  get(id: string): ModelRecord | null {
    const r = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
    return r ? toModel(r) : null;
  }

  require(id: string): ModelRecord {
    const m = this.get(id);
    if (!m) throw new StudioError('not-found', `model ${id} is not in the library`);
    return m;
  }

  list(opts: { includeDeleted?: boolean } = {}): ModelRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM models ${opts.includeDeleted ? '' : 'WHERE deleted_at IS NULL'} ORDER BY name COLLATE NOCASE, created_at`)
      .all() as ModelRow[];
    return rows.map(toModel);
  }

  /** Finds a live model by id, name, source (hub id or path) or content hash; one line if none or several. */
  resolve(ref: string): ModelRecord {
    const byId = this.get(ref);
    if (byId && !byId.deletedAt) return byId;
    const rows = this.db
      .prepare(`SELECT * FROM models WHERE deleted_at IS NULL AND (name = ? COLLATE NOCASE OR source = ? OR content_hash = ?)`)
      .all(ref, ref, ref) as ModelRow[];
    if (rows.length === 1) return toModel(rows[0]!);
    if (rows.length === 0)
      throw new StudioError('not-found', `no model matches ${JSON.stringify(ref)} (give an id, name, hub id, path or content hash)`);
    throw new StudioError(
      'usage',
      `${rows.length} models match ${JSON.stringify(ref)}: ${rows.map((r) => `${r.name} (${r.id})`).join(', ')}; give the id`,
    );
  }

  findByHash(hash: string): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models WHERE content_hash = ? AND deleted_at IS NULL').all(hash) as ModelRow[]).map(toModel);
  }

  update(id: string, patch: { name?: string; contentHash?: string | null; source?: string }): ModelRecord {
    const cur = this.require(id);
    const next = parseInput(modelInputSchema, { ...cur, ...patch }, 'model');
    this.db
      .prepare('UPDATE models SET name = ?, content_hash = ?, source = ? WHERE id = ?')
      .run(next.name, next.contentHash, next.source, id);
    return this.require(id);
  }

  /** Soft delete; refused while live vectors use the model (they would become unusable). */
  delete(id: string): void {
    this.require(id);
    const n = (
      this.db
        .prepare(
          `SELECT count(*) AS n FROM vectors v JOIN personas p ON p.id = v.persona_id
      WHERE v.model_id = ? AND v.deleted_at IS NULL AND p.deleted_at IS NULL`,
        )
        .get(id) as { n: number }
    ).n;
    if (n > 0)
      throw new StudioError(
        'conflict',
        `model ${id} still has ${n} persona vector${n === 1 ? '' : 's'}; delete those personas or vectors first`,
      );
    this.db.prepare('UPDATE models SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').run(nowMs(), id);
  }

  restore(id: string): void {
    this.require(id);
    this.db.prepare('UPDATE models SET deleted_at = NULL WHERE id = ?').run(id);
  }

  /** Adds a compiled variant, replacing one with the same label. */
  addVariant(modelId: string, input: VariantInput): ModelVariant {
    this.require(modelId);
    const v = parseInput(variantInputSchema, input, 'variant');
    this.db
      .prepare(
        `INSERT INTO model_variants (id, model_id, label, path, precision, compiler_version, options, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (model_id, label) DO UPDATE SET path = excluded.path, precision = excluded.precision,
        compiler_version = excluded.compiler_version, options = excluded.options, created_at = excluded.created_at`,
      )
      .run(newId(), modelId, v.label, v.path, v.precision, v.compilerVersion, toJson(v.options), nowMs());
    return toVariant(this.db.prepare('SELECT * FROM model_variants WHERE model_id = ? AND label = ?').get(modelId, v.label) as VariantRow);
  }

  variants(modelId: string): ModelVariant[] {
    return (this.db.prepare('SELECT * FROM model_variants WHERE model_id = ? ORDER BY label').all(modelId) as VariantRow[]).map(toVariant);
  }

  removeVariant(variantId: string): void {
    this.db.prepare('DELETE FROM model_variants WHERE id = ?').run(variantId);
  }
}
