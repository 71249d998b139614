import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FormatError } from '../formats/errors.ts';
import { bits, sampleSet } from '../formats/test-support/sample.ts';
import { buildStoredZip } from '../formats/zip.ts';
import { mergeDatabase, readArchive } from './archive.ts';
import { sweepStaleTemp, tempName } from './temp-files.ts';
import { Library } from './library.ts';
import { tempLibrary } from './test-support/lib.ts';

let a: ReturnType<typeof tempLibrary>;
let b: ReturnType<typeof tempLibrary>;
beforeEach(() => {
  a = tempLibrary();
  b = tempLibrary();
});
afterEach(() => {
  a.cleanup();
  b.cleanup();
});

/** ZipFileWriter refuses unsafe names, so hostile archives are built with the stored writer. */
function zipWith(path: string, entries: [string, Uint8Array][]): void {
  writeFileSync(path, buildStoredZip(entries.map(([name, data]) => ({ name, data }))));
}

describe('backup and restore', () => {
  it('backs up online and restores, keeping a safety backup of what it replaced', async () => {
    const keep = a.lib.createPersonaWithVectors({ name: 'keep me' }, a.model.id, sampleSet()).persona;
    const backup = await a.lib.backup();
    expect(existsSync(backup)).toBe(true);
    a.lib.personas.create({ name: 'after backup' });
    a.lib.personas.delete(keep.id);
    a.lib.emptyTrash();
    const safety = await a.lib.restore(backup);
    expect(a.lib.personas.list().map((p) => p.name)).toEqual(['keep me']);
    expect(bits(a.lib.vectors.latest(keep.id)!.layers[0]!.vector)).toEqual(bits(sampleSet().layers[0]!.vector));
    const s = new Database(safety, { readonly: true });
    expect(s.prepare('SELECT name FROM personas').all()).toEqual([{ name: 'after backup' }]);
    s.close();
    expect(a.lib.integrityCheck()).toEqual(['ok']);
  });

  it('refuses to restore over a library another process has open', async () => {
    const backup = await a.lib.backup();
    const other = Library.open({ dataDir: a.dir });
    other.personas.create({ name: 'other process' });
    await expect(a.lib.restore(backup)).rejects.toThrow(/open in another process/);
    expect(a.lib.personas.list().map((p) => p.name)).toEqual(['other process']);
    other.close();
  });
});

describe('library archives', () => {
  it('export then merge-import into another library adds what it lacks and overwrites nothing', async () => {
    const p = a.lib.createPersonaWithVectors({ name: 'Pirate 🏴‍☠️', tags: ['fun'] }, a.model.id, sampleSet()).persona;
    a.lib.promptSets.create({ name: 'ps', items: { positive: ['x'] } });
    const chat = a.lib.chats.create({ title: 'chat' });
    a.lib.chats.append(chat.id, { role: 'user', content: 'hi' });
    const archive = join(a.dir, 'lib.zip');
    const manifest = await a.lib.exportArchive(archive);
    expect(manifest.counts.personas).toBe(1);
    const first = await b.lib.importArchive(archive);
    expect(first.added).toMatchObject({
      personas: 1,
      vectors: 1,
      vector_layers: 3,
      models: 1,
      persona_tags: 1,
      chat_messages: 1,
      prompt_items: 1,
    });
    expect(bits(b.lib.vectors.latest(p.id)!.layers[2]!.vector)).toEqual(bits(sampleSet().layers[2]!.vector));
    b.lib.personas.rename(p.id, 'renamed here');
    const second = await b.lib.importArchive(archive);
    expect(Object.values(second.added!).every((n) => n === 0)).toBe(true);
    expect(b.lib.personas.require(p.id).name).toBe('renamed here');
    expect(b.lib.models.list().length).toBe(2);
  });

  it('replace-imports an archive', async () => {
    a.lib.personas.create({ name: 'from a' });
    b.lib.personas.create({ name: 'from b' });
    const archive = join(a.dir, 'lib.zip');
    await a.lib.exportArchive(archive);
    const r = await b.lib.importArchive(archive, { mode: 'replace' });
    expect(b.lib.personas.list().map((x) => x.name)).toEqual(['from a']);
    expect(existsSync(r.safetyBackup!)).toBe(true);
  });

  it('a merge past its row budget is aborted inside the statement and imports nothing', async () => {
    a.lib.personas.create({ name: 'one' });
    a.lib.personas.create({ name: 'two' });
    const snap = join(a.dir, 'snap.sqlite');
    await a.lib.backup(snap);
    const before = b.lib.counts();
    expect(() => mergeDatabase(b.lib.db, snap, 'user.zip', { rows: 2, ms: 60_000 })).toThrow(
      /^user\.zip: holds more than 2 rows to merge; nothing was imported$/,
    );
    expect(b.lib.counts()).toEqual(before);
    expect(mergeDatabase(b.lib.db, snap, 'user.zip').personas).toBe(2);
  });

  it('sweeps temp entries whose owner was killed or that are a day old, and keeps live ones', () => {
    const tmp = join(a.dir, 'tmp-sweep');
    mkdirSync(tmp);
    const mine = `${tempName('import')}.sqlite`;
    const killed = `import-999999999@${tempName('x').split('@')[1]}.sqlite-wal`;
    const foreignFresh = 'import-123@other-host-00000000-0000-4000-8000-000000000000.sqlite';
    const foreignOld = 'import-123@other-host-00000000-0000-4000-8000-000000000001.sqlite';
    for (const n of [mine, killed, foreignFresh, foreignOld]) writeFileSync(join(tmp, n), 'x');
    const old = new Date(Date.now() - 25 * 3600_000);
    utimesSync(join(tmp, foreignOld), old, old);
    expect(sweepStaleTemp(tmp).sort()).toEqual([foreignOld, killed].sort());
    expect(readdirSync(tmp).sort()).toEqual([foreignFresh, mine].sort());
  });

  it('rejects archives whose entries would escape their folder', async () => {
    const evil = join(a.dir, 'evil.zip');
    for (const name of ['../escape.sqlite', '/abs/manifest.json', 'a/../../x', 'C:/win.txt', 'back\\slash']) {
      zipWith(evil, [
        ['manifest.json', new TextEncoder().encode('{}')],
        ['library.sqlite', new Uint8Array(10)],
        [name, new Uint8Array(1)],
      ]);
      await expect(b.lib.importArchive(evil)).rejects.toThrow(/would escape the archive folder; refusing the archive/);
    }
    expect(existsSync(join(b.dir, '..', 'escape.sqlite'))).toBe(false);
  });

  it('refuses newer, corrupt and foreign archives with one clear line', async () => {
    const archive = join(a.dir, 'lib.zip');
    await a.lib.exportArchive(archive);
    const man = JSON.parse(new TextDecoder().decode(readEntry(archive, 'manifest.json')));
    const db = readEntry(archive, 'library.sqlite');
    const newer = join(a.dir, 'newer.zip');
    zipWith(newer, [
      ['manifest.json', new TextEncoder().encode(JSON.stringify({ ...man, formatVersion: 99 }))],
      ['library.sqlite', db],
    ]);
    await expect(b.lib.importArchive(newer)).rejects.toThrow(
      `${newer}: was written by a newer Persona Studio (archive version 99; this app reads up to 1)`,
    );
    const tampered = join(a.dir, 'tampered.zip');
    const db2 = db.slice();
    db2[db2.length - 5]! ^= 0xff;
    zipWith(tampered, [
      ['manifest.json', new TextEncoder().encode(JSON.stringify(man))],
      ['library.sqlite', db2],
    ]);
    await expect(b.lib.importArchive(tampered)).rejects.toThrow(/does not match the manifest's sha256 \(corrupt archive\)/);
    const foreign = join(a.dir, 'foreign.zip');
    zipWith(foreign, [['readme.txt', new Uint8Array(3)]]);
    await expect(b.lib.importArchive(foreign)).rejects.toThrow(/is not a Persona Studio library archive/);
    expect(b.lib.personas.list()).toEqual([]);
  });

  it('the archive reader survives random corruption', async () => {
    a.lib.personas.create({ name: 'x' });
    const archive = join(a.dir, 'lib.zip');
    await a.lib.exportArchive(archive);
    const valid = new Uint8Array(readFileSync(archive));
    const mutated = join(a.dir, 'm.zip');
    const out = join(a.dir, 'out.sqlite');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), (i, x, cut) => {
        const m = cut ? valid.slice(0, i) : valid.slice();
        if (!cut) m[i]! ^= x;
        writeFileSync(mutated, m);
        try {
          readArchive(mutated, out);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          expect(e.message.startsWith(`${mutated}: `)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

function readEntry(zipPath: string, name: string): Uint8Array {
  // fflate is an independent reader here.
  return unzipSync(readFileSync(zipPath))[name]!;
}
