// Evaluations (grids, metrics, samples), saved comparisons, and chats with their messages.
import type Database from 'better-sqlite3';
import type { Chat, ChatMessage, Comparison, Evaluation, EvaluationSample } from './schema.ts';
import { fromJson, iso, newId, nowMs, toJson } from './util.ts';
import { StudioError } from '../errors.ts';

interface EvalRow {
  id: string;
  name: string;
  kind: string;
  persona_id: string | null;
  vector_id: string | null;
  model_id: string | null;
  grid: string;
  metrics: string;
  settings: string;
  created_at: number;
}
interface SampleRow {
  seq: number;
  layer: number | null;
  alpha: number | null;
  prompt: string;
  output: string;
  scores: string;
}
const toEval = (r: EvalRow): Evaluation => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  personaId: r.persona_id,
  vectorId: r.vector_id,
  modelId: r.model_id,
  grid: fromJson(r.grid),
  metrics: fromJson(r.metrics),
  settings: fromJson(r.settings),
  createdAt: iso(r.created_at),
});

export class EvaluationsStore {
  constructor(private readonly db: Database.Database) {}

  create(input: {
    name: string;
    kind: string;
    personaId?: string | null;
    vectorId?: string | null;
    modelId?: string | null;
    grid?: unknown;
    metrics?: unknown;
    settings?: unknown;
    samples?: Omit<EvaluationSample, 'seq'>[];
  }): Evaluation {
    const id = newId();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO evaluations (id, name, kind, persona_id, vector_id, model_id, grid, metrics, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          input.name,
          input.kind,
          input.personaId ?? null,
          input.vectorId ?? null,
          input.modelId ?? null,
          toJson(input.grid ?? {}),
          toJson(input.metrics ?? {}),
          toJson(input.settings ?? {}),
          nowMs(),
        );
      if (input.samples) this.addSamples(id, input.samples);
    })();
    return this.require(id);
  }

  /** Appends samples after the last stored one; returns their sequence numbers. */
  addSamples(id: string, samples: Omit<EvaluationSample, 'seq'>[]): number[] {
    return this.db.transaction(() => {
      this.require(id);
      let seq = (
        this.db.prepare('SELECT coalesce(max(seq), -1) AS s FROM evaluation_samples WHERE evaluation_id = ?').get(id) as { s: number }
      ).s;
      const ins = this.db.prepare(
        'INSERT INTO evaluation_samples (evaluation_id, seq, layer, alpha, prompt, output, scores) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      return samples.map((s) => {
        ins.run(id, ++seq, s.layer, s.alpha, s.prompt, s.output, toJson(s.scores));
        return seq;
      });
    })();
  }

  updateMetrics(id: string, metrics: unknown): Evaluation {
    this.require(id);
    this.db.prepare('UPDATE evaluations SET metrics = ? WHERE id = ?').run(toJson(metrics), id);
    return this.require(id);
  }

  get(id: string): Evaluation | null {
    const r = this.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as EvalRow | undefined;
    return r ? toEval(r) : null;
  }

  require(id: string): Evaluation {
    const e = this.get(id);
    if (!e) throw new StudioError('not-found', `evaluation ${id} is not in the library`);
    return e;
  }

  samples(id: string): EvaluationSample[] {
    return (
      this.db
        .prepare('SELECT seq, layer, alpha, prompt, output, scores FROM evaluation_samples WHERE evaluation_id = ? ORDER BY seq')
        .all(id) as SampleRow[]
    ).map((s) => ({ ...s, scores: fromJson(s.scores) as Record<string, number> }));
  }

  list(q: { personaId?: string; modelId?: string } = {}): Evaluation[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.personaId) {
      where.push('persona_id = ?');
      args.push(q.personaId);
    }
    if (q.modelId) {
      where.push('model_id = ?');
      args.push(q.modelId);
    }
    return (
      this.db
        .prepare(`SELECT * FROM evaluations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC`)
        .all(...args) as EvalRow[]
    ).map(toEval);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM evaluations WHERE id = ?').run(id);
  }
}

interface ComparisonRow {
  id: string;
  name: string;
  config: string;
  results: string;
  created_at: number;
  updated_at: number;
}
const toComparison = (r: ComparisonRow): Comparison => ({
  id: r.id,
  name: r.name,
  config: fromJson(r.config),
  results: fromJson(r.results),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export class ComparisonsStore {
  constructor(private readonly db: Database.Database) {}

  /** Creates, or updates when `id` names an existing comparison. */
  save(input: { id?: string; name: string; config: unknown; results?: unknown }): Comparison {
    const t = nowMs();
    const id = input.id ?? newId();
    this.db
      .prepare(
        `INSERT INTO comparisons (id, name, config, results, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, config = excluded.config, results = excluded.results, updated_at = excluded.updated_at`,
      )
      .run(id, input.name, toJson(input.config), toJson(input.results ?? null), t, t);
    return this.require(id);
  }

  get(id: string): Comparison | null {
    const r = this.db.prepare('SELECT * FROM comparisons WHERE id = ?').get(id) as ComparisonRow | undefined;
    return r ? toComparison(r) : null;
  }

  require(id: string): Comparison {
    const c = this.get(id);
    if (!c) throw new StudioError('not-found', `comparison ${id} is not in the library`);
    return c;
  }

  list(): Comparison[] {
    return (this.db.prepare('SELECT * FROM comparisons ORDER BY updated_at DESC').all() as ComparisonRow[]).map(toComparison);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM comparisons WHERE id = ?').run(id);
  }
}

interface ChatRow {
  id: string;
  title: string;
  model_id: string | null;
  settings: string;
  created_at: number;
  updated_at: number;
}
interface MessageRow {
  seq: number;
  role: ChatMessage['role'];
  content: string;
  meta: string;
  created_at: number;
}
const toChat = (r: ChatRow): Chat => ({
  id: r.id,
  title: r.title,
  modelId: r.model_id,
  settings: fromJson(r.settings),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export class ChatsStore {
  constructor(private readonly db: Database.Database) {}

  create(input: { title: string; modelId?: string | null; settings?: unknown }): Chat {
    const id = newId();
    const t = nowMs();
    this.db
      .prepare('INSERT INTO chats (id, title, model_id, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, input.title, input.modelId ?? null, toJson(input.settings ?? {}), t, t);
    return this.require(id);
  }

  get(id: string): Chat | null {
    const r = this.db.prepare('SELECT * FROM chats WHERE id = ?').get(id) as ChatRow | undefined;
    return r ? toChat(r) : null;
  }

  require(id: string): Chat {
    const c = this.get(id);
    if (!c) throw new StudioError('not-found', `chat ${id} is not in the library`);
    return c;
  }

  list(): Chat[] {
    return (this.db.prepare('SELECT * FROM chats ORDER BY updated_at DESC').all() as ChatRow[]).map(toChat);
  }

  update(id: string, patch: { title?: string; settings?: unknown }): Chat {
    const c = this.require(id);
    this.db
      .prepare('UPDATE chats SET title = ?, settings = ?, updated_at = ? WHERE id = ?')
      .run(patch.title ?? c.title, toJson(patch.settings === undefined ? c.settings : patch.settings), nowMs(), id);
    return this.require(id);
  }

  /** Appends a message and returns its sequence number. */
  append(chatId: string, msg: { role: ChatMessage['role']; content: string; meta?: unknown }): number {
    return this.db.transaction(() => {
      this.require(chatId);
      const t = nowMs();
      const seq = (
        this.db.prepare('SELECT coalesce(max(seq), -1) + 1 AS s FROM chat_messages WHERE chat_id = ?').get(chatId) as { s: number }
      ).s;
      this.db
        .prepare('INSERT INTO chat_messages (chat_id, seq, role, content, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(chatId, seq, msg.role, msg.content, toJson(msg.meta ?? {}), t);
      this.db.prepare('UPDATE chats SET updated_at = ? WHERE id = ?').run(t, chatId);
      return seq;
    })();
  }

  messages(chatId: string): ChatMessage[] {
    return (
      this.db
        .prepare('SELECT seq, role, content, meta, created_at FROM chat_messages WHERE chat_id = ? ORDER BY seq')
        .all(chatId) as MessageRow[]
    ).map((m) => ({ seq: m.seq, role: m.role, content: m.content, meta: fromJson(m.meta), createdAt: iso(m.created_at) }));
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM chats WHERE id = ?').run(id);
  }
}
