// Personas: name, description, notes and tags. Deleting is soft (undo with restore) until the
// trash is emptied.
import type Database from 'better-sqlite3';
import { personaInputSchema, type Persona, type PersonaInput } from './schema.ts';
import { iso, isoOrNull, likeContains, newId, nowMs, parseInput } from './util.ts';
import { StudioError } from '../errors.ts';

interface PersonaRow {
  id: string;
  name: string;
  description: string;
  notes: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  tags: string | null;
  model_ids: string | null;
}

export interface PersonaQuery {
  /** Words matched (all of them, case-insensitively for ASCII) in name, description, notes and tags. */
  search?: string;
  tag?: string;
  /** Only personas with a live vector for this library model. */
  modelId?: string;
  /** exclude (default), include, or only deleted personas (the trash). */
  deleted?: 'exclude' | 'include' | 'only';
  limit?: number;
  offset?: number;
}

// Tags and model ids are aggregated with the unit separator, which names and tags cannot contain
// usefully and which we strip on input.
const SEP = '\u001f';
const SELECT = `SELECT p.*,
  (SELECT group_concat(tag, '${SEP}') FROM (SELECT tag FROM persona_tags t WHERE t.persona_id = p.id ORDER BY tag)) AS tags,
  (SELECT group_concat(model_id, '${SEP}') FROM (SELECT DISTINCT v.model_id FROM vectors v WHERE v.persona_id = p.id AND v.deleted_at IS NULL ORDER BY v.model_id)) AS model_ids
  FROM personas p`;

const split = (s: string | null): string[] => (s ? s.split(SEP) : []);
const toPersona = (r: PersonaRow): Persona => ({
  id: r.id,
  name: r.name,
  description: r.description,
  notes: r.notes,
  tags: split(r.tags),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  deletedAt: isoOrNull(r.deleted_at),
  modelIds: split(r.model_ids),
});
const cleanTags = (tags: string[]): string[] => [...new Set(tags.map((t) => t.replaceAll(SEP, '').trim()).filter(Boolean))].sort();

export class PersonasStore {
  constructor(private readonly db: Database.Database) {}

  create(input: PersonaInput): Persona {
    const p = parseInput(personaInputSchema, input, 'persona');
    const id = newId();
    const t = nowMs();
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO personas (id, name, description, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, p.name, p.description, p.notes, t, t);
      this.setTags(id, p.tags);
    })();
    return this.require(id);
  }

  /** The personas `ref` names: the one with that id, else every one with exactly that name (the rule of every face). */
  named(ref: string, opts: { deleted?: 'include' | 'exclude' } = {}): Persona[] {
    const byId = this.get(ref);
    if (byId && (opts.deleted === 'include' || !byId.deletedAt)) return [byId];
    return this.list({ search: ref, deleted: opts.deleted ?? 'exclude' }).filter((p) => p.name === ref);
  }

  /** The one persona `ref` names, else one line (prefixed by `prefix`): not-found, or usage when a name is ambiguous. */
  resolve(ref: string, opts: { deleted?: 'include' | 'exclude'; prefix?: string } = {}): Persona {
    const named = this.named(ref, opts);
    if (named.length === 1) return named[0]!;
    const prefix = opts.prefix ?? '';
    throw new StudioError(
      named.length ? 'usage' : 'not-found',
      named.length
        ? `${prefix}${named.length} personas are named ${JSON.stringify(ref)}; give the id`
        : `${prefix}no persona ${JSON.stringify(ref)}`,
    );
  }

  get(id: string): Persona | null {
    const r = this.db.prepare(`${SELECT} WHERE p.id = ?`).get(id) as PersonaRow | undefined;
    return r ? toPersona(r) : null;
  }

  /** The persona, live or in the trash; throws if it does not exist. */
  require(id: string): Persona {
    const p = this.get(id);
    if (!p) throw new StudioError('not-found', `persona ${id} is not in the library`);
    return p;
  }

  list(q: PersonaQuery = {}): Persona[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const deleted = q.deleted ?? 'exclude';
    if (deleted === 'exclude') where.push('p.deleted_at IS NULL');
    if (deleted === 'only') where.push('p.deleted_at IS NOT NULL');
    for (const word of (q.search ?? '').split(/\s+/).filter(Boolean)) {
      where.push(`(p.name LIKE ? ESCAPE '\\' OR p.description LIKE ? ESCAPE '\\' OR p.notes LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM persona_tags t WHERE t.persona_id = p.id AND t.tag LIKE ? ESCAPE '\\'))`);
      const pat = likeContains(word);
      args.push(pat, pat, pat, pat);
    }
    if (q.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM persona_tags t WHERE t.persona_id = p.id AND t.tag = ?)');
      args.push(q.tag.trim());
    }
    if (q.modelId !== undefined) {
      where.push('EXISTS (SELECT 1 FROM vectors v WHERE v.persona_id = p.id AND v.model_id = ? AND v.deleted_at IS NULL)');
      args.push(q.modelId);
    }
    const sql = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY p.name COLLATE NOCASE, p.created_at LIMIT ? OFFSET ?`;
    args.push(q.limit ?? -1, q.offset ?? 0);
    return (this.db.prepare(sql).all(...args) as PersonaRow[]).map(toPersona);
  }

  update(id: string, patch: Partial<PersonaInput>): Persona {
    const cur = this.require(id);
    const next = parseInput(personaInputSchema, { ...cur, ...patch }, 'persona');
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE personas SET name = ?, description = ?, notes = ?, updated_at = ? WHERE id = ?')
        .run(next.name, next.description, next.notes, nowMs(), id);
      if (patch.tags) this.setTags(id, next.tags);
    })();
    return this.require(id);
  }

  rename(id: string, name: string): Persona {
    return this.update(id, { name });
  }

  /** A name not yet used by a live persona: "X (copy)", "X (copy 2)"… */
  uniqueCopyName(name: string): string {
    const taken = new Set(
      (this.db.prepare('SELECT name FROM personas WHERE deleted_at IS NULL').all() as { name: string }[]).map((r) => r.name),
    );
    const base = `${name} (copy)`;
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) if (!taken.has(`${name} (copy ${i})`)) return `${name} (copy ${i})`;
  }

  delete(id: string): void {
    this.require(id);
    this.db.prepare('UPDATE personas SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').run(nowMs(), id);
  }

  restore(id: string): void {
    this.require(id);
    this.db.prepare('UPDATE personas SET deleted_at = NULL WHERE id = ?').run(id);
  }

  /** Every tag in use by live personas, with how many use it. */
  tags(): { tag: string; count: number }[] {
    return this.db
      .prepare(
        `SELECT tag, count(*) AS count FROM persona_tags t JOIN personas p ON p.id = t.persona_id
      WHERE p.deleted_at IS NULL GROUP BY tag ORDER BY tag`,
      )
      .all() as { tag: string; count: number }[];
  }

  private setTags(id: string, tags: string[]): void {
    this.db.prepare('DELETE FROM persona_tags WHERE persona_id = ?').run(id);
    const ins = this.db.prepare('INSERT INTO persona_tags (persona_id, tag) VALUES (?, ?)');
    for (const t of cleanTags(tags)) ins.run(id, t);
  }
}
