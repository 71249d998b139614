import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bits, randomVector } from '../formats/test-support/sample.ts';
import { defaultDataDir, resolveDataDir } from './data-dir.ts';
import { APPLICATION_ID, openLibraryDb } from './db.ts';
import { Library } from './library.ts';
import { LATEST_VERSION, MIGRATIONS } from './migrations.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-mig-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const file = () => join(dir, 'library.sqlite');

/** Rows a user could have had at each schema version, written with that version's SQL. */
const SEED: Record<number, (db: Database.Database) => void> = {
  1: (db) => {
    const t = Date.UTC(2024, 0, 1);
    db.prepare(`INSERT INTO models VALUES ('m1', 'tiny', 'tiny/test', 'hub', 'hash', 'qwen3', 4, 3, ?, NULL)`).run(t);
    db.prepare(`INSERT INTO personas VALUES ('p1', 'Old "persona" 🙂', 'desc', 'notes', ?, ?, NULL)`).run(t, t);
    db.prepare(`INSERT INTO persona_tags VALUES ('p1', 'legacy')`).run();
    db.prepare(`INSERT INTO prompt_sets VALUES ('s1', 'set', '', ?, NULL)`).run(t);
    db.prepare(`INSERT INTO prompt_set_versions VALUES ('sv1', 's1', 1, 'h', '', ?)`).run(t);
    db.prepare(`INSERT INTO prompt_items VALUES ('sv1', 'positive', 0, 'be formal')`).run();
    db.prepare(
      `INSERT INTO vectors VALUES ('v1', 'p1', 'm1', 'tiny/test', 'hash', 4, 3, 'mean-diff', 'response-mean', '{"positive":1,"negative":1}', 'sv1',
      '{"promptSetHash":"h","settings":{},"seed":1,"appVersion":"0.0.1","createdAt":"2024-01-01T00:00:00.000Z"}', ?, NULL)`,
    ).run(t);
    const v = randomVector(4, 9);
    db.prepare(`INSERT INTO vector_layers VALUES ('v1', 2, ?, ?, NULL)`).run(Buffer.from(v.buffer), Math.hypot(...v));
  },
};

describe('migrations', () => {
  it('upgrades a library from every earlier version, backing it up first and keeping its data', () => {
    for (let from = 0; from < LATEST_VERSION; from++) {
      rmSync(dir, { recursive: true, force: true });
      const { db } = openLibraryDb(file(), { backupDir: join(dir, 'backups'), targetVersion: from });
      for (let v = 1; v <= from; v++) SEED[v]?.(db);
      db.close();

      const lib = Library.open({ dataDir: dir, appVersion: 't' });
      try {
        expect(lib.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
        expect(lib.migratedFrom).toBe(from);
        expect(lib.integrityCheck()).toEqual(['ok']);
        expect(lib.db.pragma('foreign_key_check')).toEqual([]);
        if (from === 0) {
          expect(lib.backupPath).toBeNull();
        } else {
          expect(existsSync(lib.backupPath!)).toBe(true);
          const backup = new Database(lib.backupPath!, { readonly: true });
          expect(backup.pragma('user_version', { simple: true })).toBe(from);
          expect(backup.prepare('SELECT name FROM personas').all()).toEqual([{ name: 'Old "persona" 🙂' }]);
          backup.close();
          const p = lib.personas.require('p1');
          expect([p.name, p.tags, p.modelIds]).toEqual(['Old "persona" 🙂', ['legacy'], ['m1']]);
          expect(bits(lib.vectors.require('v1').layers[0]!.vector)).toEqual(bits(randomVector(4, 9)));
          expect(lib.promptSets.version('s1').items.positive).toEqual(['be formal']);
        }
        // Tables of later versions work.
        expect(lib.jobs.create({ kind: 'k' }).status).toBe('queued');
        expect(lib.chats.create({ title: 'c' }).title).toBe('c');
      } finally {
        lib.close();
      }
      // Opening again migrates nothing.
      const again = Library.open({ dataDir: dir });
      expect(again.migratedFrom).toBeNull();
      again.close();
    }
  });

  it('refuses a database written by a newer app and leaves it untouched', () => {
    Library.open({ dataDir: dir }).close();
    const db = new Database(file());
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(() => Library.open({ dataDir: dir })).toThrow(
      `${file()}: library schema version ${LATEST_VERSION + 1} was written by a newer Persona Studio (this app knows up to ${LATEST_VERSION}); update the app`,
    );
    const check = new Database(file(), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(LATEST_VERSION + 1);
    check.close();
  });

  it('refuses files that are not our library', () => {
    const other = new Database(file());
    other.exec('CREATE TABLE notes (x TEXT)');
    other.close();
    expect(() => Library.open({ dataDir: dir })).toThrow(/not a Persona Studio library \(application_id 0, 1 tables\)/);
    rmSync(file());
    writeFileSync(file(), 'this is not sqlite at all, just some text that is long enough '.repeat(20));
    expect(() => Library.open({ dataDir: dir })).toThrow(expect.objectContaining({ name: 'StudioError', code: 'format' }));
  });

  it('runs each step in a transaction: a failing step leaves the previous version intact', () => {
    Library.open({ dataDir: dir }).close();
    MIGRATIONS.push({
      version: LATEST_VERSION + 1,
      description: 'broken',
      up(db) {
        db.exec('CREATE TABLE half (x INTEGER) STRICT');
        throw new Error('boom');
      },
    });
    try {
      expect(() => openLibraryDb(file(), { backupDir: join(dir, 'backups'), targetVersion: LATEST_VERSION + 1 })).toThrow('boom');
    } finally {
      MIGRATIONS.pop();
    }
    const db = new Database(file(), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'half'").all()).toEqual([]);
    db.close();
  });

  it('uses WAL, foreign keys and STRICT tables', () => {
    const lib = Library.open({ dataDir: dir });
    expect(lib.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(lib.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(lib.db.pragma('synchronous', { simple: true })).toBe(2);
    const tables = lib.db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table'").all() as { name: string; sql: string }[];
    for (const t of tables) expect(t.sql, t.name).toMatch(/STRICT/);
    expect(() => lib.db.prepare("INSERT INTO personas VALUES ('x', 'n', 'd', 'n', 'not a number', 1, NULL)").run()).toThrow(
      /cannot store TEXT value in INTEGER column/,
    );
    expect(() => lib.db.prepare("INSERT INTO persona_tags VALUES ('missing', 't')").run()).toThrow(/FOREIGN KEY/);
    lib.close();
  });
});

describe('data directory', () => {
  it('is the flag, else PERSONA_STUDIO_HOME, else the OS default', () => {
    expect(resolveDataDir({ dataDir: 'rel/dir' }, { PERSONA_STUDIO_HOME: '/env' })).toBe(join(process.cwd(), 'rel/dir'));
    expect(resolveDataDir({}, { PERSONA_STUDIO_HOME: '/env/home' })).toBe('/env/home');
    expect(resolveDataDir({}, {})).toBe(defaultDataDir());
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '/x' }, '/h')).toBe('/x/persona-studio');
    expect(defaultDataDir('linux', {}, '/h')).toBe('/h/.config/persona-studio');
    expect(defaultDataDir('darwin', {}, '/Users/u')).toBe('/Users/u/Library/Application Support/persona-studio');
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u')).toMatch(/Roaming.persona-studio$/);
  });
});
