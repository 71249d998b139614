// Prompt sets with immutable versions. A version's content hash (sha256 of its canonical JSON) is
// what vectors record as their prompt-set provenance.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { PROMPT_KINDS, promptItemsSchema, type PromptItems, type PromptSet, type PromptSetVersion } from './schema.ts';
import { iso, isoOrNull, newId, nowMs, parseInput } from './util.ts';
import { StudioError } from '../errors.ts';

const createSchema = z.object({
  name: z.string().trim().min(1, 'name is empty').max(200),
  description: z.string().max(20_000).default(''),
  items: promptItemsSchema,
  note: z.string().max(2000).default(''),
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
  created_at: number;
}

/** sha256 over {positive, negative, evaluation, baseline} in that key order. */
export function promptItemsHash(items: PromptItems): string {
  const canonical = JSON.stringify({
    positive: items.positive,
    negative: items.negative,
    evaluation: items.evaluation,
    baseline: items.baseline,
  });
  return createHash('sha256').update(canonical).digest('hex');
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
      return this.insertVersion(id, 1, c.items, c.note);
    })();
    return { set: this.require(id), version };
  }

  /** Adds version latest + 1 with `items`; earlier versions stay as they were. */
  addVersion(id: string, items: Partial<PromptItems>, note = ''): PromptSetVersion {
    const parsed = parseInput(promptItemsSchema, items, 'prompt items');
    return this.db
      .transaction(() => {
        const set = this.require(id);
        return this.insertVersion(id, set.latestVersion + 1, parsed, note);
      })
      .immediate();
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

  private insertVersion(setId: string, version: number, items: PromptItems, note: string): PromptSetVersion {
    const vid = newId();
    const hash = promptItemsHash(items);
    this.db
      .prepare('INSERT INTO prompt_set_versions (id, prompt_set_id, version, content_hash, note, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(vid, setId, version, hash, note, nowMs());
    const ins = this.db.prepare('INSERT INTO prompt_items (version_id, kind, position, text) VALUES (?, ?, ?, ?)');
    for (const kind of PROMPT_KINDS) items[kind].forEach((text, i) => ins.run(vid, kind, i, text));
    return this.versionById(vid);
  }

  private withItems(r: VersionRow): PromptSetVersion {
    const items: PromptItems = { positive: [], negative: [], evaluation: [], baseline: [] };
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
      createdAt: iso(r.created_at),
    };
  }
}
