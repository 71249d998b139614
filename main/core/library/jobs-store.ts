// Job records for long work (capture, sweeps…): status, progress and the state needed to resume.
// The runner lives in core/jobs; this is only its persistence.
import type Database from 'better-sqlite3';
import { JOB_STATUSES, type Job, type JobStatus } from './schema.ts';
import { fromJson, iso, isoOrNull, newId, nowMs, toJson } from './util.ts';
import { StudioError } from '../errors.ts';

interface JobRow {
  id: string;
  kind: string;
  status: JobStatus;
  progress: number;
  message: string;
  params: string;
  state: string | null;
  result: string | null;
  error: string | null;
  persona_id: string | null;
  model_id: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}
const toJob = (r: JobRow): Job => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  progress: r.progress,
  message: r.message,
  params: fromJson(r.params),
  state: fromJson(r.state),
  result: fromJson(r.result),
  error: r.error,
  personaId: r.persona_id,
  modelId: r.model_id,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  startedAt: isoOrNull(r.started_at),
  finishedAt: isoOrNull(r.finished_at),
});
const FINAL: JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface JobPatch {
  status?: JobStatus;
  progress?: number;
  message?: string;
  state?: unknown;
  result?: unknown;
  error?: string | null;
}

export class JobsStore {
  constructor(private readonly db: Database.Database) {}

  create(input: { kind: string; params?: unknown; personaId?: string | null; modelId?: string | null }): Job {
    if (!input.kind.trim()) throw new Error('job.kind: is empty');
    const id = newId();
    const t = nowMs();
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, status, progress, message, params, persona_id, model_id, created_at, updated_at)
      VALUES (?, ?, 'queued', 0, '', ?, ?, ?, ?, ?)`,
      )
      .run(id, input.kind, toJson(input.params ?? {}), input.personaId ?? null, input.modelId ?? null, t, t);
    return this.require(id);
  }

  get(id: string): Job | null {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  require(id: string): Job {
    const j = this.get(id);
    if (!j) throw new StudioError('not-found', `job ${id} is not in the library`);
    return j;
  }

  list(q: { status?: JobStatus | JobStatus[]; kind?: string; limit?: number } = {}): Job[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const statuses = q.status === undefined ? [] : Array.isArray(q.status) ? q.status : [q.status];
    if (statuses.length) {
      where.push(`status IN (${statuses.map(() => '?').join(',')})`);
      args.push(...statuses);
    }
    if (q.kind) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    args.push(q.limit ?? -1);
    return (
      this.db
        .prepare(`SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT ?`)
        .all(...args) as JobRow[]
    ).map(toJob);
  }

  /** Updates a job; sets started_at / finished_at on the matching transitions. */
  update(id: string, patch: JobPatch): Job {
    if (patch.status !== undefined && !JOB_STATUSES.includes(patch.status))
      throw new Error(`job.status: unknown status ${String(patch.status)}`);
    if (patch.progress !== undefined && !(patch.progress >= 0 && patch.progress <= 1))
      throw new Error(`job.progress: ${patch.progress} is outside 0..1`);
    return this.db.transaction(() => {
      const cur = this.require(id);
      const t = nowMs();
      const status = patch.status ?? cur.status;
      this.db
        .prepare(
          `UPDATE jobs SET status = ?, progress = ?, message = ?, state = ?, result = ?, error = ?, updated_at = ?,
          started_at = coalesce(started_at, ?), finished_at = ? WHERE id = ?`,
        )
        .run(
          status,
          patch.progress ?? cur.progress,
          patch.message ?? cur.message,
          patch.state === undefined ? (cur.state === null ? null : toJson(cur.state)) : patch.state === null ? null : toJson(patch.state),
          patch.result === undefined
            ? cur.result === null
              ? null
              : toJson(cur.result)
            : patch.result === null
              ? null
              : toJson(patch.result),
          patch.error === undefined ? cur.error : patch.error,
          t,
          status === 'running' ? t : null,
          FINAL.includes(status) ? t : null,
          id,
        );
      return this.require(id);
    })();
  }

  /** At startup: jobs left 'running' by a previous process become 'paused' (resumable from their state). */
  markInterrupted(): string[] {
    const ids = (this.db.prepare("SELECT id FROM jobs WHERE status = 'running'").all() as { id: string }[]).map((r) => r.id);
    this.db.prepare("UPDATE jobs SET status = 'paused', message = 'interrupted', updated_at = ? WHERE status = 'running'").run(nowMs());
    return ids;
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
  }
}
