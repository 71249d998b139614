// A database from outside (an archive's snapshot, a backup being restored) is checked before any
// query touches its tables: its schema must be exactly the one our migrations build for its version.
// That rules out a VIEW standing in for a table (a recursive one never ends), triggers, virtual
// tables and missing or extra columns, and it makes every later step (integrity_check, the
// migration ladder, the merge) linear in the file's size. Errors name the user's file, never the
// temporary copy, and carry SQLite's own words only after that name.
import Database from 'better-sqlite3';
import { FormatError } from '../formats/errors.ts';
import { APPLICATION_ID, integrityCheck, openLibraryDb } from './db.ts';
import { LATEST_VERSION, MIGRATIONS } from './migrations.ts';

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

// sqlite_stat* tables are ANALYZE's statistics: they steer the planner, they hold no data of ours.
const SCHEMA_SQL = "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name";

const references = new Map<number, Map<string, SchemaRow>>();

/** sqlite_schema as the migration ladder leaves it at `version`, built once in memory. */
function referenceSchema(version: number): Map<string, SchemaRow> {
  let ref = references.get(version);
  if (!ref) {
    const db = new Database(':memory:');
    try {
      for (const step of MIGRATIONS) if (step.version <= version) db.transaction(() => step.up(db))();
      ref = keyed(db.prepare(SCHEMA_SQL).all() as SchemaRow[]);
    } finally {
      db.close();
    }
    references.set(version, ref);
  }
  return ref;
}

const keyed = (rows: SchemaRow[]): Map<string, SchemaRow> => new Map(rows.map((r) => [`${r.type} ${r.name}`, r]));

/** How `db`'s schema differs from the library schema at `version` (empty when identical). */
export function schemaProblems(db: Database.Database, version: number): string[] {
  const want = referenceSchema(version);
  const have = keyed(db.prepare(SCHEMA_SQL).all() as SchemaRow[]);
  const problems: string[] = [];
  for (const [k, w] of want) {
    const h = have.get(k);
    if (!h) problems.push(`${k} is missing`);
    else if (h.tbl_name !== w.tbl_name || h.sql !== w.sql) problems.push(`${k} differs from the library schema`);
  }
  for (const k of have.keys()) if (!want.has(k)) problems.push(`${k} is not part of the library schema`);
  // Tables, views and triggers first: an index is missing because its table is.
  const rank = (p: string): number => ['table', 'view', 'trigger', 'index'].indexOf(p.slice(0, p.indexOf(' ')));
  return problems.sort((a, b) => rank(a) - rank(b));
}

/** Problems of an open library: schema, integrity_check and foreign keys; empty when healthy. */
export function libraryProblems(db: Database.Database): string[] {
  const version = db.pragma('user_version', { simple: true }) as number;
  const problems = schemaProblems(db, version).map((p) => `schema: ${p}`);
  const integrity = integrityCheck(db);
  if (integrity.join() !== 'ok') problems.push(...integrity.map((l) => `integrity: ${l}`));
  const broken = (db.pragma('foreign_key_check') as unknown[]).length;
  if (broken) problems.push(`foreign keys: ${broken} rows refer to rows that do not exist`);
  return problems;
}

/** SQLite's words for a failure, without any path it mentions (the caller names the user's file). */
export function sqliteDetail(e: unknown, paths: string[]): string {
  let m = e instanceof Error ? e.message : String(e);
  for (const p of paths) m = m.split(p).join('the database');
  return m;
}

/**
 * Checks the database at `path` (a temporary copy) as a library to import or restore, reporting
 * problems as `label` (the user's file): identity, version, exact schema, integrity and foreign
 * keys; then migrates an older one (the migration's backup goes to `scratchDir`).
 */
export function validateCandidate(path: string, label: string, scratchDir: string): void {
  const refuse = (detail: string): never => {
    throw new FormatError(label, null, detail);
  };
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    return refuse(`cannot be opened as a library database (${sqliteDetail(e, [path])})`);
  }
  let version: number;
  try {
    let appId: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      appId = db.pragma('application_id', { simple: true }) as number;
    } catch (e) {
      return refuse(`is not a library database (${sqliteDetail(e, [path])})`);
    }
    if (appId !== APPLICATION_ID) refuse(`is not a Persona Studio library (application_id ${appId})`);
    if (version > LATEST_VERSION)
      refuse(`was written by a newer Persona Studio (library schema version ${version}; this app knows up to ${LATEST_VERSION})`);
    if (version < 1) refuse('holds no library (schema version 0)');
    let problems: string[];
    try {
      problems = schemaProblems(db, version);
    } catch (e) {
      return refuse(`has an unreadable schema (${sqliteDetail(e, [path])})`);
    }
    if (problems.length)
      refuse(
        `is not a library this app wrote: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`,
      );
    try {
      const integrity = integrityCheck(db);
      if (integrity.join() !== 'ok') refuse(`fails SQLite's integrity check: ${integrity.slice(0, 3).join('; ')}`);
      const broken = (db.pragma('foreign_key_check') as unknown[]).length;
      if (broken) refuse(`has ${broken} rows referring to rows that do not exist`);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      return refuse(`is damaged (${sqliteDetail(e, [path])})`);
    }
  } finally {
    db.close();
  }
  if (version < LATEST_VERSION) {
    try {
      openLibraryDb(path, { backupDir: scratchDir }).db.close();
    } catch (e) {
      refuse(`could not be migrated from schema version ${version} (${sqliteDetail(e, [path])})`);
    }
  }
  // Leave a single-file database behind (no WAL) so it can be renamed into place or attached.
  const rw = new Database(path, { fileMustExist: true });
  try {
    rw.pragma('journal_mode = DELETE');
  } finally {
    rw.close();
  }
}
