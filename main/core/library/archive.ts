// The whole library as one archive: a zip holding manifest.json and library.sqlite (a consistent
// online snapshot). Reading checks every entry name stays inside the archive folder, the manifest's
// format version, and the snapshot's sha256 before anything is used.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { FormatError } from '../formats/errors.ts';
import { fileSource, isSafeEntryName, readZipDirectory, readZipEntry, streamZipEntry, ZipFileWriter } from '../formats/zip.ts';
import { TABLE_ORDER } from './migrations.ts';
import { zodIssueLine } from '../errors.ts';

export const ARCHIVE_FORMAT = 'persona-studio.library';
export const ARCHIVE_FORMAT_VERSION = 1;
const MANIFEST = 'manifest.json';
const DB_ENTRY = 'library.sqlite';

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
export function writeArchive(dest: string, snapshotPath: string, manifest: { appVersion: string; schemaVersion: number; createdAt: string; counts: Record<string, number> }): ArchiveManifest {
  const full: ArchiveManifest = {
    format: ARCHIVE_FORMAT, formatVersion: ARCHIVE_FORMAT_VERSION, ...manifest,
    dbBytes: statSync(snapshotPath).size, dbSha256: sha256File(snapshotPath),
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
      if (!isSafeEntryName(e.name)) throw new FormatError(src, e.headerOffset, `entry ${JSON.stringify(e.name)} would escape the archive folder; refusing the archive`);
    }
    const manifestEntry = entries.find((e) => e.name === MANIFEST);
    const dbEntry = entries.find((e) => e.name === DB_ENTRY);
    if (!manifestEntry || !dbEntry) throw new FormatError(src, null, `is not a Persona Studio library archive (needs ${MANIFEST} and ${DB_ENTRY})`);
    const warnings = entries.filter((e) => e !== manifestEntry && e !== dbEntry).map((e) => `${src}: unknown entry ${JSON.stringify(e.name)} ignored`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readZipEntry(file, manifestEntry, 1 << 20)));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(src, manifestEntry.headerOffset, `${MANIFEST} is not valid JSON (${(e as Error).message})`);
    }
    const v = (json as { formatVersion?: unknown } | null)?.formatVersion;
    if (typeof v === 'number' && v > ARCHIVE_FORMAT_VERSION) {
      throw new FormatError(src, null, `was written by a newer Persona Studio (archive version ${v}; this app reads up to ${ARCHIVE_FORMAT_VERSION})`);
    }
    const parsed = archiveManifestSchema.safeParse(json);
    if (!parsed.success) {
      throw new FormatError(src, manifestEntry.headerOffset, zodIssueLine(parsed.error, MANIFEST, ' field '));
    }
    const manifest = parsed.data;
    if (dbEntry.size !== manifest.dbBytes) throw new FormatError(src, dbEntry.headerOffset, `${DB_ENTRY} is ${dbEntry.size} bytes, the manifest says ${manifest.dbBytes}`);
    const out = openSync(dbOut, 'w');
    const h = createHash('sha256');
    try {
      streamZipEntry(file, dbEntry, (chunk) => { h.update(chunk); writeSync(out, chunk); });
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    if (h.digest('hex') !== manifest.dbSha256) throw new FormatError(src, dbEntry.headerOffset, `${DB_ENTRY} does not match the manifest's sha256 (corrupt archive)`);
    return { manifest, warnings };
  } finally {
    file.close();
  }
}

/**
 * Copies every row of the database at `srcPath` (same schema version) that the library lacks.
 * Rows whose key exists are kept as they are here: nothing local is overwritten.
 */
export function mergeDatabase(db: Database.Database, srcPath: string): Record<string, number> {
  const added: Record<string, number> = {};
  db.prepare('ATTACH DATABASE ? AS src').run(srcPath);
  try {
    db.transaction(() => {
      for (const table of TABLE_ORDER) {
        const cols = (db.prepare(`SELECT name FROM pragma_table_info(?, 'main')`).all(table) as { name: string }[]).map((c) => `"${c.name}"`).join(', ');
        added[table] = db.prepare(`INSERT OR IGNORE INTO main."${table}" (${cols}) SELECT ${cols} FROM src."${table}"`).run().changes;
      }
      const bad = db.pragma('foreign_key_check') as unknown[];
      if (bad.length) throw new Error(`merge would leave ${bad.length} broken references; nothing was imported`);
    }).immediate();
  } finally {
    db.prepare('DETACH DATABASE src').run();
  }
  return added;
}
