// Opening the library database: pragmas, identity check, the migration ladder (a backup first, each
// step in its own transaction) and refusal of databases written by a newer app.
import Database from 'better-sqlite3';
import { mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LATEST_VERSION, MIGRATIONS } from './migrations.ts';
import { StudioError } from '../errors.ts';

/** PRAGMA application_id of our databases ("PSTD"), so we never migrate someone else's file. */
export const APPLICATION_ID = 0x50535444;

export interface OpenDbOptions {
  /** Where the pre-migration backup goes. */
  backupDir: string;
  /** Stop the ladder at this version (tests build old databases with it). */
  targetVersion?: number;
  readonly?: boolean;
}

export interface OpenedDb {
  db: Database.Database;
  /** The version found on disk when a migration ran; null when none was needed. */
  migratedFrom: number | null;
  backupPath: string | null;
}

export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

export function openLibraryDb(file: string, opts: OpenDbOptions): OpenedDb {
  const target = opts.targetVersion ?? LATEST_VERSION;
  if (!opts.readonly) mkdirSync(dirname(file), { recursive: true });
  else if (!existsSync(file)) throw new StudioError('not-found', `${file}: no library database there`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
  } catch (e) {
    throw new StudioError('format', `${file}: cannot open the library database (${(e as Error).message})`);
  }
  try {
    db.pragma('busy_timeout = 10000');
    let version: number;
    let appId: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      appId = db.pragma('application_id', { simple: true }) as number;
    } catch (e) {
      throw new StudioError('format', `${file}: not a SQLite database (${(e as Error).message})`);
    }
    if (version > LATEST_VERSION) {
      throw new StudioError(
        'format',
        `${file}: library schema version ${version} was written by a newer Persona Studio (this app knows up to ${LATEST_VERSION}); update the app`,
      );
    }
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as { n: number }).n;
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
      throw new StudioError('format', `${file}: not a Persona Studio library (application_id ${appId}, ${tables} tables)`);
    }
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: a committed persona survives power loss, not only a crash of the app.
      db.pragma('synchronous = FULL');
    }
    let backupPath: string | null = null;
    let migratedFrom: number | null = null;
    if (version < target) {
      if (opts.readonly)
        throw new StudioError('conflict', `${file}: schema version ${version} needs migrating, but the database was opened read-only`);
      if (version > 0) {
        mkdirSync(opts.backupDir, { recursive: true });
        backupPath = join(opts.backupDir, `library-v${version}-before-v${target}-${stamp()}.sqlite`);
        db.prepare('VACUUM INTO ?').run(backupPath);
      }
      migratedFrom = version;
      migrate(db, target);
    }
    db.pragma('foreign_keys = ON');
    return { db, migratedFrom, backupPath };
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Runs the steps above the current version, each in an IMMEDIATE transaction of its own. */
function migrate(db: Database.Database, target: number): void {
  // Foreign keys cannot be toggled inside a transaction; steps check them before committing.
  db.pragma('foreign_keys = OFF');
  for (const step of MIGRATIONS) {
    if (step.version > target) break;
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current >= step.version) return;
      if (current !== step.version - 1)
        throw new StudioError('internal', `migration ${step.version} expects version ${step.version - 1}, found ${current}`);
      step.up(db);
      const bad = db.pragma('foreign_key_check') as unknown[];
      if (bad.length)
        throw new StudioError('internal', `migration ${step.version} (${step.description}) left ${bad.length} foreign-key violations`);
      if (step.version === 1) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${step.version}`);
    }).immediate();
  }
}

/** PRAGMA integrity_check's lines; ['ok'] when sound. */
export function integrityCheck(db: Database.Database): string[] {
  return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
}
