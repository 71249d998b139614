// Prompt sets with immutable versions. A version's content hash (sha256 of its canonical JSON) is
// what vectors record as their prompt-set provenance.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import {
  PROMPT_KINDS,
  promptItemsSchema,
  promptSetSpecSchema,
  type PromptItems,
  type PromptSet,
  type PromptSetSpec,
  type PromptSetVersion,
} from './schema.ts';
import { iso, isoOrNull, newId, nowMs, parseInput } from './util.ts';
import { StudioError } from '../errors.ts';

const createSchema = z.object({
  name: z.string().trim().min(1, 'name is empty').max(200),
  description: z.string().max(20_000).default(''),
  items: promptItemsSchema,
  note: z.string().max(2000).default(''),
  spec: promptSetSpecSchema.nullable().default(null),
});
export type PromptSetCreate = z.input<typeof createSchema>;

interface SetRow {
  id: string;
  name: string;
  description: string;
  created_at: number;
  deleted_at: number | null;
  latest: number | null;
}
interface VersionRow {
  id: string;
  prompt_set_id: string;
  version: number;
  content_hash: string;
  note: string;
  spec: string | null;
  created_at: number;
}

/**
 * sha256 over {positive, negative, evaluation, baseline} in that key order, then the kinds added in
 * library version 3 and the spec's kind and role only where present — so a version stored before
 * them keeps its hash (vectors record it as their prompt-set provenance).
 */
export function promptItemsHash(items: PromptItems, spec: PromptSetSpec | null = null): string {
  const canonical: Record<string, unknown> = {
    positive: items.positive,
    negative: items.negative,
    evaluation: items.evaluation,
    baseline: items.baseline,
  };
  for (const k of ['questions', 'heldout-positive', 'heldout-negative', 'heldout-questions'] as const)
    if (items[k].length) canonical[k] = items[k];
  if (spec) {
    canonical.kind = spec.kind;
    if (spec.role) canonical.role = spec.role;
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

const toSet = (r: SetRow): PromptSet => ({
  id: r.id,
  name: r.name,
  description: r.description,
  latestVersion: r.latest ?? 0,
  createdAt: iso(r.created_at),
  deletedAt: isoOrNull(r.deleted_at),
});
const SELECT = 'SELECT s.*, (SELECT max(version) FROM prompt_set_versions v WHERE v.prompt_set_id = s.id) AS latest FROM prompt_sets s';

export class PromptSetsStore {
  constructor(private readonly db: Database.Database) {}

  create(input: PromptSetCreate): { set: PromptSet; version: PromptSetVersion } {
    const c = parseInput(createSchema, input, 'prompt set');
    const id = newId();
    const version = this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO prompt_sets (id, name, description, created_at) VALUES (?, ?, ?, ?)')
        .run(id, c.name, c.description, nowMs());
      return this.insertVersion(id, 1, c.items, c.note, c.spec);
    })();
    return { set: this.require(id), version };
  }

  /** Adds version latest + 1 with `items`; earlier versions stay as they were. */
  addVersion(id: string, items: Partial<PromptItems>, note = '', spec: PromptSetSpec | null = null): PromptSetVersion {
    const parsed = parseInput(promptItemsSchema, items, 'prompt items');
    const parsedSpec = spec === null ? null : parseInput(promptSetSpecSchema, spec, 'prompt set spec');
    return this.db
      .transaction(() => {
        const set = this.require(id);
        return this.insertVersion(id, set.latestVersion + 1, parsed, note, parsedSpec);
      })
      .immediate();
  }

  /** A live set by id or exact name (the newest of that name), or null. */
  find(ref: string): PromptSet | null {
    const byId = this.get(ref);
    if (byId && !byId.deletedAt) return byId;
    const r = this.db.prepare(`${SELECT} WHERE s.name = ? AND s.deleted_at IS NULL ORDER BY s.created_at DESC LIMIT 1`).get(ref) as
      SetRow | undefined;
    return r ? toSet(r) : null;
  }

  /**
   * Stores prompts under `name`: a new set, or a new version of the live set of that name when the
   * prompts differ from its latest version; identical prompts reuse that version (nothing is added).
   */
  save(
    name: string,
    description: string,
    items: Partial<PromptItems>,
    spec: PromptSetSpec | null,
    note = '',
  ): { set: PromptSet; version: PromptSetVersion; added: boolean } {
    const parsed = parseInput(promptItemsSchema, items, 'prompt items');
    const existing = this.find(name);
    if (!existing) return { ...this.create({ name, description, items: parsed, note, spec }), added: true };
    const latest = this.version(existing.id);
    if (latest.contentHash === promptItemsHash(parsed, spec)) return { set: existing, version: latest, added: false };
    return { set: existing, version: this.addVersion(existing.id, parsed, note, spec), added: true };
  }

  get(id: string): PromptSet | null {
    const r = this.db.prepare(`${SELECT} WHERE s.id = ?`).get(id) as SetRow | undefined;
    return r ? toSet(r) : null;
  }

  require(id: string): PromptSet {
    const s = this.get(id);
    if (!s) throw new StudioError('not-found', `prompt set ${id} is not in the library`);
    return s;
  }

  list(opts: { includeDeleted?: boolean } = {}): PromptSet[] {
    return (
      this.db
        .prepare(`${SELECT} ${opts.includeDeleted ? '' : 'WHERE s.deleted_at IS NULL'} ORDER BY s.name COLLATE NOCASE`)
        .all() as SetRow[]
    ).map(toSet);
  }

  /** One version with its items (the latest when `version` is omitted). */
  version(id: string, version?: number): PromptSetVersion {
    const row = (
      version === undefined
        ? this.db.prepare('SELECT * FROM prompt_set_versions WHERE prompt_set_id = ? ORDER BY version DESC LIMIT 1').get(id)
        : this.db.prepare('SELECT * FROM prompt_set_versions WHERE prompt_set_id = ? AND version = ?').get(id, version)
    ) as VersionRow | undefined;
    if (!row) throw new StudioError('not-found', `prompt set ${id} has no version ${version ?? '(none at all)'}`);
    return this.withItems(row);
  }

  versionById(versionId: string): PromptSetVersion {
    const row = this.db.prepare('SELECT * FROM prompt_set_versions WHERE id = ?').get(versionId) as VersionRow | undefined;
    if (!row) throw new StudioError('not-found', `prompt set version ${versionId} is not in the library`);
    return this.withItems(row);
  }

  versions(id: string): Omit<PromptSetVersion, 'items'>[] {
    return (this.db.prepare('SELECT * FROM prompt_set_versions WHERE prompt_set_id = ? ORDER BY version').all(id) as VersionRow[]).map(
      (r) => ({
        id: r.id,
        promptSetId: r.prompt_set_id,
        version: r.version,
        contentHash: r.content_hash,
        note: r.note,
        spec: r.spec ? (JSON.parse(r.spec) as PromptSetSpec) : null,
        createdAt: iso(r.created_at),
      }),
    );
  }

  rename(id: string, name: string): PromptSet {
    const n = parseInput(createSchema.shape.name, name, 'prompt set.name');
    this.require(id);
    this.db.prepare('UPDATE prompt_sets SET name = ? WHERE id = ?').run(n, id);
    return this.require(id);
  }

  delete(id: string): void {
    this.require(id);
    this.db.prepare('UPDATE prompt_sets SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').run(nowMs(), id);
  }

  restore(id: string): void {
    this.require(id);
    this.db.prepare('UPDATE prompt_sets SET deleted_at = NULL WHERE id = ?').run(id);
  }

  private insertVersion(
    setId: string,
    version: number,
    items: PromptItems,
    note: string,
    spec: PromptSetSpec | null = null,
  ): PromptSetVersion {
    const vid = newId();
    const hash = promptItemsHash(items, spec);
    this.db
      .prepare(
        'INSERT INTO prompt_set_versions (id, prompt_set_id, version, content_hash, note, spec, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(vid, setId, version, hash, note, spec ? JSON.stringify(spec) : null, nowMs());
    const ins = this.db.prepare('INSERT INTO prompt_items (version_id, kind, position, text) VALUES (?, ?, ?, ?)');
    for (const kind of PROMPT_KINDS) items[kind].forEach((text, i) => ins.run(vid, kind, i, text));
    return this.versionById(vid);
  }

  private withItems(r: VersionRow): PromptSetVersion {
    const items = Object.fromEntries(PROMPT_KINDS.map((k) => [k, [] as string[]])) as PromptItems;
    for (const it of this.db.prepare('SELECT kind, text FROM prompt_items WHERE version_id = ? ORDER BY kind, position').all(r.id) as {
      kind: keyof PromptItems;
      text: string;
    }[]) {
      items[it.kind].push(it.text);
    }
    return {
      id: r.id,
      promptSetId: r.prompt_set_id,
      version: r.version,
      contentHash: r.content_hash,
      note: r.note,
      items,
      spec: r.spec ? (JSON.parse(r.spec) as PromptSetSpec) : null,
      createdAt: iso(r.created_at),
    };
  }
}
