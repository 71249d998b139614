// The whole library as one archive: a zip holding manifest.json and library.sqlite (a consistent
// online snapshot). Reading checks every entry name stays inside the archive folder, the manifest's
// format version, and the snapshot's sha256 before anything is used.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { FormatError } from '../formats/errors.ts';
import { fileSource, isSafeEntryName, readZipDirectory, readZipEntry, streamZipEntry, ZipFileWriter } from '../formats/zip.ts';
import { sqliteDetail } from './candidate.ts';
import { TABLE_ORDER } from './migrations.ts';
import { zodIssueLine } from '../errors.ts';

export const ARCHIVE_FORMAT = 'persona-studio.library';
export const ARCHIVE_FORMAT_VERSION = 1;
const MANIFEST = 'manifest.json';
const DB_ENTRY = 'library.sqlite';
/**
 * How far the snapshot may inflate: a library's pages compress 2–10× (float vectors barely at all),
 * so past this many times its compressed size (and a floor for small libraries) an entry is a
 * decompression bomb and is refused before a byte is written.
 */
export const MAX_INFLATE_RATIO = 100;
const INFLATE_FLOOR = 64 << 20;

export const archiveManifestSchema = z.looseObject({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.int().positive(),
  appVersion: z.string(),
  schemaVersion: z.int().nonnegative(),
  createdAt: z.string(),
  dbBytes: z.int().nonnegative(),
  dbSha256: z.string().regex(/^[0-9a-f]{64}$/),
  counts: z.record(z.string(), z.int().nonnegative()),
});
export type ArchiveManifest = z.infer<typeof archiveManifestSchema>;

function* fileChunks(path: string, size = 1 << 20): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(size);
    for (;;) {
      const n = readSync(fd, buf, 0, size, null);
      if (n === 0) return;
      yield buf.slice(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

export function sha256File(path: string): string {
  const h = createHash('sha256');
  for (const c of fileChunks(path)) h.update(c);
  return h.digest('hex');
}

/** Writes the archive to `dest` (via a temp file renamed into place). */
export function writeArchive(
  dest: string,
  snapshotPath: string,
  manifest: { appVersion: string; schemaVersion: number; createdAt: string; counts: Record<string, number> },
): ArchiveManifest {
  const full: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    formatVersion: ARCHIVE_FORMAT_VERSION,
    ...manifest,
    dbBytes: statSync(snapshotPath).size,
    dbSha256: sha256File(snapshotPath),
  };
  const tmp = `${dest}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const zip = new ZipFileWriter(fd);
    zip.add(MANIFEST, [new TextEncoder().encode(`${JSON.stringify(full, null, 2)}\n`)]);
    zip.add(DB_ENTRY, fileChunks(snapshotPath));
    zip.finish();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, dest);
  return full;
}

/** Checks an archive and extracts its database to `dbOut`. Unknown entries are reported, not used. */
export function readArchive(src: string, dbOut: string): { manifest: ArchiveManifest; warnings: string[] } {
  const file = fileSource(src);
  try {
    const entries = readZipDirectory(file);
    for (const e of entries) {
      if (!isSafeEntryName(e.name))
        throw new FormatError(src, e.headerOffset, `entry ${JSON.stringify(e.name)} would escape the archive folder; refusing the archive`);
    }
    const manifestEntry = entries.find((e) => e.name === MANIFEST);
    const dbEntry = entries.find((e) => e.name === DB_ENTRY);
    if (!manifestEntry || !dbEntry)
      throw new FormatError(src, null, `is not a Persona Studio library archive (needs ${MANIFEST} and ${DB_ENTRY})`);
    const warnings = entries
      .filter((e) => e !== manifestEntry && e !== dbEntry)
      .map((e) => `${src}: unknown entry ${JSON.stringify(e.name)} ignored`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readZipEntry(file, manifestEntry, 1 << 20)));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(src, manifestEntry.headerOffset, `${MANIFEST} is not valid JSON (${(e as Error).message})`);
    }
    const v = (json as { formatVersion?: unknown } | null)?.formatVersion;
    if (typeof v === 'number' && v > ARCHIVE_FORMAT_VERSION) {
      throw new FormatError(
        src,
        null,
        `was written by a newer Persona Studio (archive version ${v}; this app reads up to ${ARCHIVE_FORMAT_VERSION})`,
      );
    }
    const parsed = archiveManifestSchema.safeParse(json);
    if (!parsed.success) {
      throw new FormatError(src, manifestEntry.headerOffset, zodIssueLine(parsed.error, MANIFEST, ' field '));
    }
    const manifest = parsed.data;
    if (dbEntry.size !== manifest.dbBytes)
      throw new FormatError(src, dbEntry.headerOffset, `${DB_ENTRY} is ${dbEntry.size} bytes, the manifest says ${manifest.dbBytes}`);
    const limit = Math.max(INFLATE_FLOOR, dbEntry.compressedSize * MAX_INFLATE_RATIO);
    if (dbEntry.size > limit) {
      throw new FormatError(
        src,
        dbEntry.headerOffset,
        `${DB_ENTRY} would inflate ${dbEntry.compressedSize} bytes to ${dbEntry.size}, more than ${MAX_INFLATE_RATIO} times (a decompression bomb?)`,
      );
    }
    const fs = statfsSync(dirname(dbOut));
    const free = fs.bavail * fs.bsize;
    if (dbEntry.size * 2 > free)
      throw new FormatError(
        src,
        dbEntry.headerOffset,
        `${DB_ENTRY} needs ${dbEntry.size * 2} bytes of free disk space to import; ${free} are free`,
      );
    const out = openSync(dbOut, 'w');
    const h = createHash('sha256');
    try {
      streamZipEntry(file, dbEntry, (chunk) => {
        h.update(chunk);
        writeSync(out, chunk);
      });
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    if (h.digest('hex') !== manifest.dbSha256)
      throw new FormatError(src, dbEntry.headerOffset, `${DB_ENTRY} does not match the manifest's sha256 (corrupt archive)`);
    return { manifest, warnings };
  } finally {
    file.close();
  }
}

export interface MergeBudget {
  rows: number;
  ms: number;
}
/** Far past any real library; only a runaway merge meets it. */
export const DEFAULT_MERGE_BUDGET: MergeBudget = { rows: 50_000_000, ms: 10 * 60_000 };

/**
 * Copies every row of the database at `srcPath` (same schema version, already checked by
 * validateCandidate) that the library lacks. Rows whose key exists are kept as they are here:
 * nothing local is overwritten. `label` (the user's archive) names every failure.
 *
 * better-sqlite3 exposes no progress handler, so the time and row budget is a SQL function in each
 * SELECT's WHERE clause: SQLite calls it for every source row and its throw aborts the statement;
 * the transaction then rolls back and nothing is imported.
 */
export function mergeDatabase(
  db: Database.Database,
  srcPath: string,
  label: string,
  budget: MergeBudget = DEFAULT_MERGE_BUDGET,
): Record<string, number> {
  const added: Record<string, number> = {};
  const deadline = Date.now() + budget.ms;
  let rows = 0;
  db.function('ps_merge_budget', { deterministic: false }, () => {
    if (++rows > budget.rows) throw new FormatError(label, null, `holds more than ${budget.rows} rows to merge; nothing was imported`);
    if ((rows & 1023) === 0 && Date.now() > deadline)
      throw new FormatError(label, null, `merge ran past ${budget.ms / 1000} s; nothing was imported`);
    return 1;
  });
  try {
    db.prepare('ATTACH DATABASE ? AS src').run(srcPath);
  } catch (e) {
    throw new FormatError(label, null, `cannot be attached for merging (${sqliteDetail(e, [srcPath])})`);
  }
  try {
    db.transaction(() => {
      for (const table of TABLE_ORDER) {
        const cols = (db.prepare(`SELECT name FROM pragma_table_info(?, 'main')`).all(table) as { name: string }[])
          .map((c) => `"${c.name}"`)
          .join(', ');
        added[table] = db
          .prepare(`INSERT OR IGNORE INTO main."${table}" (${cols}) SELECT ${cols} FROM src."${table}" WHERE ps_merge_budget()`)
          .run().changes;
      }
      const bad = db.pragma('foreign_key_check') as unknown[];
      if (bad.length) throw new FormatError(label, null, `merge would leave ${bad.length} broken references; nothing was imported`);
    }).immediate();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(label, null, `cannot be merged (${sqliteDetail(e, [srcPath])}); nothing was imported`);
  } finally {
    db.prepare('DETACH DATABASE src').run();
  }
  return added;
}
