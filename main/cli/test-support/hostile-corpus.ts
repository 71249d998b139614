// A corpus of hostile inputs, generated (no bombs are committed): one or more cases for every class
// of issue 15 — sizes declared far past the bytes present, decompression and SQL bombs, special
// files, errors that must name the user's file, names that try to inject terminal output, a
// library that is not one, and `library check`'s exit code. Each case is a CLI command run against
// a fresh library holding model "tiny" and persona "seed"; hostile-run.ts runs them and measures.
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { SafetensorsFile, writeSafetensors } from '../../../native-models/checkpoint/safetensors.ts';
import { ByteWriter } from '../../core/formats/bytes.ts';
import { crc32 } from '../../core/formats/crc32.ts';
import { GgufType, writeGguf } from '../../core/formats/gguf.ts';
import { exportVectors } from '../../core/formats/index.ts';
import { pickleTensor } from '../../core/formats/pickle.ts';
import { buildStoredZip } from '../../core/formats/zip.ts';
import { sampleInput, sampleSet } from '../../core/formats/test-support/sample.ts';
import { writeArchive } from '../../core/library/archive.ts';
import { APPLICATION_ID } from '../../core/library/db.ts';
import { Library } from '../../core/library/library.ts';
import { LATEST_VERSION } from '../../core/library/migrations.ts';

export type HostileClass =
  | '1 declared sizes'
  | '2 archive bombs'
  | '3 special files'
  | '4 names the file'
  | '5 output injection'
  | '6 not a library'
  | '7 check exit code';

export interface HostileCase {
  cls: HostileClass;
  id: string;
  /** CLI arguments (after --data-dir). */
  argv: string[];
  /**
   * refuse: non-zero exit, one stderr line naming `file`, library unchanged. ok: exit 0.
   * problems: exit 1 with what is wrong on stdout (a check that finds a broken library).
   */
  expect: 'refuse' | 'ok' | 'problems';
  /** The user's file the error must name (refuse cases). */
  file?: string;
  /** Done to the case's fresh library before the command (e.g. break it). */
  prepare?: (dataDir: string) => void;
  /** A further command whose output must stay clean (e.g. list what was imported). */
  then?: string[];
  /** Extra checks on the outputs; returns problems. */
  check?: (out: string, err: string) => string[];
}

/** The library every case starts from: model "tiny" (16 × 6) and persona "seed". */
export function seedLibrary(dataDir: string): void {
  const lib = Library.open({ dataDir, appVersion: '0.1.0-test' });
  try {
    lib.models.add({
      name: 'tiny',
      source: 'tiny/test-model',
      sourceKind: 'hub',
      contentHash: 'a'.repeat(64),
      architecture: 'qwen3',
      hiddenSize: 16,
      numLayers: 6,
    });
    lib.personas.create({ name: 'seed' });
  } finally {
    lib.close();
  }
}

// ---------- byte builders ----------

/** A safetensors file from a raw header string and data (no checks: the header may lie). */
function rawSafetensors(path: string, header: string, data = new Uint8Array(0)): void {
  const h = Buffer.from(header);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, data]));
}

/**
 * A raw-deflate stream of `total` zero bytes from about total/1030 bytes: one flushed block of
 * 1 MiB of zeros (it ends on a byte boundary and refers only to zeros) repeated, then an empty
 * final block. Built in milliseconds, without ever holding `total` bytes.
 */
function zeroBomb(total: number): Uint8Array {
  const unit = deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const n = Math.ceil(total / (1 << 20));
  const out = new Uint8Array(unit.length * n + 2);
  for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
  out.set([0x03, 0x00], unit.length * n); // BFINAL, fixed Huffman, end of block
  return out;
}

/** A zip whose entries carry whatever sizes they claim (method 8 = deflate). */
function rawZip(entries: { name: string; method: 0 | 8; body: Uint8Array; size: number; crc: number }[]): Uint8Array {
  const w = new ByteWriter();
  const central = new ByteWriter();
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const at = w.length;
    w.u32(0x04034b50)
      .u16(20)
      .u16(0x800)
      .u16(e.method)
      .u16(0)
      .u16(33)
      .u32(e.crc)
      .u32(e.body.length)
      .u32(e.size)
      .u16(name.length)
      .u16(0)
      .bytes(name)
      .bytes(e.body);
    central
      .u32(0x02014b50)
      .u16(20)
      .u16(20)
      .u16(0x800)
      .u16(e.method)
      .u16(0)
      .u16(33)
      .u32(e.crc)
      .u32(e.body.length)
      .u32(e.size)
      .u16(name.length)
      .u16(0)
      .u16(0)
      .u16(0)
      .u16(0)
      .u32(0)
      .u32(at)
      .bytes(name);
  }
  const cd = central.finish();
  const cdAt = w.length;
  w.bytes(cd).u32(0x06054b50).u16(0).u16(0).u16(entries.length).u16(entries.length).u32(cd.length).u32(cdAt).u16(0);
  return w.finish();
}

/** Pickle opcodes around `body`: PROTO 2 … STOP. */
function pickle(body: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter().u8(0x80).u8(2);
  body(w);
  return w.u8(0x2e).finish();
}

const ptWith = (pkl: Uint8Array): Uint8Array =>
  buildStoredZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);

/** A GGUF v3 control vector header with one u8 array of `items` items (the bytes follow, zero). */
function ggufWithArray(items: number): Uint8Array {
  const w = new ByteWriter().bytes(Buffer.from('GGUF')).u32(3).u64(0).u64(2);
  const str = (s: string): void => {
    const b = Buffer.from(s);
    w.u64(b.length).bytes(b);
  };
  str('general.architecture');
  w.u32(8);
  str('controlvector');
  str('big');
  w.u32(9).u32(0).u64(items);
  return Buffer.concat([w.finish(), Buffer.alloc(items)]);
}

/** An archive of the library database at `db` (manifest with its true size and sha256). */
function archiveOf(dest: string, db: string): void {
  writeArchive(dest, db, { appVersion: '0.1.0-test', schemaVersion: LATEST_VERSION, createdAt: '2025-01-01T00:00:00.000Z', counts: {} });
}

/** A backup of a fresh seeded library, then changed by `edit` (foreign keys off). */
async function libraryDb(dir: string, name: string, edit: (db: Database.Database) => void): Promise<string> {
  const d = join(dir, `src-${name}`);
  seedLibrary(d);
  const lib = Library.open({ dataDir: d, appVersion: '0.1.0-test' });
  const out = join(dir, `${name}.sqlite`);
  try {
    await lib.backup(out);
  } finally {
    lib.close();
  }
  const db = new Database(out);
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('foreign_keys = OFF');
    edit(db);
  } finally {
    db.close();
  }
  return out;
}

const INJECT = 'Evil\npersona-studio: forged line\u001b]0;pwned title\u0007\u001b[31mred\u009b2J';

// ---------- the corpus ----------

export async function buildCorpus(dir: string): Promise<HostileCase[]> {
  mkdirSync(dir, { recursive: true });
  const p = (name: string): string => join(dir, name);
  const cases: HostileCase[] = [];
  const refuse = (cls: HostileClass, id: string, file: string, argv: string[], more: Partial<HostileCase> = {}): void => {
    cases.push({ cls, id, argv, expect: 'refuse', file, ...more });
  };
  const importArgs = (file: string, format?: string): string[] => [
    'personas',
    'import',
    file,
    '--model',
    'tiny',
    ...(format ? ['--format', format] : []),
  ];

  // 1. Sizes declared far past the bytes present; nesting that balloons or recurses.
  rawSafetensors(
    p('shape.safetensors'),
    JSON.stringify({ __metadata__: { layer_rows: 'layers' }, layers: { dtype: 'F32', shape: [2 ** 53 - 1, 0], data_offsets: [0, 0] } }),
  );
  refuse('1 declared sizes', 'safetensors shape [2^53-1, 0]', p('shape.safetensors'), importArgs(p('shape.safetensors')));
  refuse(
    '1 declared sizes',
    'safetensors shape [2^53-1, 0] --format safetensors',
    p('shape.safetensors'),
    importArgs(p('shape.safetensors'), 'safetensors'),
  );
  const depth = 4_000_000; // 8 MB of "[[[[…]]]]"
  rawSafetensors(p('deep-header.safetensors'), `{"__metadata__":{"format":"x"},"a":${'['.repeat(depth)}${']'.repeat(depth)}}`);
  refuse('1 declared sizes', '8 MB nested JSON header', p('deep-header.safetensors'), importArgs(p('deep-header.safetensors')));
  // Our own persona file whose provenance settings nest 100 000 levels deep.
  const studio = p('deep-provenance.persona.safetensors');
  {
    const set = sampleSet();
    exportVectors(studio, 'studio', sampleInput(set));
    // The metadata string re-written with deep settings spliced in (floats and checksum unchanged).
    const st = new SafetensorsFile(studio);
    const md = { ...st.metadata };
    st.close();
    const deep = `${'{"x":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    md.persona_studio = md.persona_studio!.replace('"settings":{"maxNewTokens":64}', `"settings":{"maxNewTokens":64,"deep":${deep}}`);
    writeSafetensors(
      studio,
      set.layers.map((l) => ({ name: `layers.${l.layer}`, shape: [l.vector.length], data: l.vector })),
      md,
    );
  }
  refuse('1 declared sizes', 'studio file with 100k-deep provenance settings', studio, importArgs(studio));
  // A .pt whose storage declares 1 GiB, deflated from about 1 MiB.
  const bombBody = zeroBomb(1 << 30);
  writeFileSync(
    p('storage-bomb.pt'),
    rawZip([
      {
        name: 'archive/data.pkl',
        method: 0,
        body: pickleTensor([1 << 28]),
        size: pickleTensor([1 << 28]).length,
        crc: crc32(pickleTensor([1 << 28])),
      },
      { name: 'archive/data/0', method: 8, body: bombBody, size: 2 ** 30, crc: 0 },
    ]),
  );
  refuse('1 declared sizes', '.pt storage of 1 GiB deflated from 1 MiB', p('storage-bomb.pt'), importArgs(p('storage-bomb.pt')));
  // A dict whose key holds a list shared down 40 levels (2^40 items when stringified).
  writeFileSync(
    p('shared-key.pt'),
    ptWith(
      pickle((w) => {
        w.u8(0x7d).u8(0x5d).u8(0x71).u8(0).u8(0x30); // {}  L0=[] memo 0, pop
        for (let k = 1; k <= 40; k++)
          w.u8(0x28)
            .u8(0x68)
            .u8(k - 1)
            .u8(0x68)
            .u8(k - 1)
            .u8(0x6c)
            .u8(0x71)
            .u8(k)
            .u8(0x30); // Lk=[Lk-1, Lk-1]
        w.u8(0x68).u8(40).u8(0x85).u8(0x4e).u8(0x73); // key (L40,), value None, SETITEM
      }),
    ),
  );
  refuse('1 declared sizes', 'pickle dict key of a 40-level shared list', p('shared-key.pt'), importArgs(p('shared-key.pt')));
  // Lists nested 200 000 deep.
  writeFileSync(
    p('deep.pt'),
    ptWith(
      pickle((w) => {
        const n = 200_000;
        w.bytes(new Uint8Array(n).fill(0x5d)).bytes(new Uint8Array(n - 1).fill(0x61));
      }),
    ),
  );
  refuse('1 declared sizes', 'pickle lists nested 200k deep', p('deep.pt'), importArgs(p('deep.pt')));
  // A list placed inside itself.
  writeFileSync(
    p('cycle.pt'),
    ptWith(
      pickle((w) => {
        w.u8(0x5d).u8(0x71).u8(0).u8(0x68).u8(0).u8(0x61);
      }),
    ),
  );
  refuse('1 declared sizes', 'pickle list containing itself', p('cycle.pt'), importArgs(p('cycle.pt')));
  // A GGUF whose metadata is one u8 array of 2 M items (each would become an 8-byte JS value; the
  // 32 MiB a vector file may be would hold 32 M of them).
  writeFileSync(p('array.gguf'), ggufWithArray(2_000_000));
  refuse('1 declared sizes', 'GGUF metadata array of 2 M items', p('array.gguf'), importArgs(p('array.gguf')));
  // A stacked safetensors of 1 M rows of 8 values (16 MB of real data, a row loop of a million).
  rawSafetensors(
    p('rows.safetensors'),
    JSON.stringify({
      __metadata__: { layer_rows: 'layers' },
      layers: { dtype: 'BF16', shape: [1_000_000, 8], data_offsets: [0, 16_000_000] },
    }),
    new Uint8Array(16_000_000),
  );
  refuse('1 declared sizes', 'safetensors of 1 M layer rows', p('rows.safetensors'), importArgs(p('rows.safetensors')));
  // The largest file a reader accepts: 4096 BF16 rows of 4000 values (32.8 MB, all read and
  // converted before the shape is found not to fit the model).
  const ones = new Uint16Array(4096 * 4000).fill(0x3f80);
  rawSafetensors(
    p('largest.safetensors'),
    JSON.stringify({
      __metadata__: { layer_rows: 'layers' },
      layers: { dtype: 'BF16', shape: [4096, 4000], data_offsets: [0, ones.byteLength] },
    }),
    new Uint8Array(ones.buffer),
  );
  refuse('1 declared sizes', 'largest accepted vector file (32.8 MB BF16)', p('largest.safetensors'), importArgs(p('largest.safetensors')));

  // 2. Decompression and SQL bombs in archives; temp files always removed.
  const zipBomb = zeroBomb(2 ** 31);
  const manifest = Buffer.from(
    JSON.stringify({
      format: 'persona-studio.library',
      formatVersion: 1,
      appVersion: 'x',
      schemaVersion: LATEST_VERSION,
      createdAt: 'x',
      dbBytes: 2 ** 31,
      dbSha256: '0'.repeat(64),
      counts: {},
    }),
  );
  writeFileSync(
    p('bomb.zip'),
    rawZip([
      { name: 'manifest.json', method: 0, body: manifest, size: manifest.length, crc: crc32(manifest) },
      { name: 'library.sqlite', method: 8, body: zipBomb, size: 2 ** 31, crc: 0 },
    ]),
  );
  refuse('2 archive bombs', 'archive of 2 MiB inflating to 2 GiB (import)', p('bomb.zip'), ['library', 'import', p('bomb.zip')]);
  refuse('2 archive bombs', 'archive of 2 MiB inflating to 2 GiB (restore)', p('bomb.zip'), ['library', 'restore', p('bomb.zip')]);
  const viewDb = await libraryDb(dir, 'view', (db) => {
    db.exec('DROP TABLE personas');
    db.exec(`CREATE VIEW personas (id, name, description, notes, created_at, updated_at, deleted_at) AS
      WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT 'p' || n, 'x', '', '', 0, 0, NULL FROM r`);
  });
  archiveOf(p('view.zip'), viewDb);
  refuse('2 archive bombs', 'archive whose personas table is an endless recursive VIEW (merge)', p('view.zip'), [
    'library',
    'import',
    p('view.zip'),
  ]);
  refuse('2 archive bombs', 'archive whose personas table is an endless recursive VIEW (replace)', p('view.zip'), [
    'library',
    'import',
    p('view.zip'),
    '--replace',
  ]);
  refuse('2 archive bombs', 'backup whose personas table is an endless recursive VIEW (restore)', viewDb, ['library', 'restore', viewDb]);
  const triggerDb = await libraryDb(dir, 'trigger', (db) => {
    db.exec(
      "CREATE TRIGGER evil AFTER INSERT ON personas BEGIN INSERT INTO personas SELECT id || 'x', name, description, notes, created_at, updated_at, deleted_at FROM personas; END",
    );
  });
  archiveOf(p('trigger.zip'), triggerDb);
  refuse('2 archive bombs', 'archive with a self-feeding trigger', p('trigger.zip'), ['library', 'import', p('trigger.zip')]);
  refuse('2 archive bombs', 'stale temp files of a killed run are swept', p('bomb.zip'), ['library', 'import', p('bomb.zip')], {
    prepare: (d) => {
      // What a killed import leaves: its extracted database and the migration scratch folder.
      mkdirSync(join(d, 'tmp', 'candidate-999999999@gone-host-00000000-0000-4000-8000-000000000000'), { recursive: true });
      const old = join(d, 'tmp', 'import-999999999@gone-host-00000000-0000-4000-8000-000000000001.sqlite');
      writeFileSync(old, 'x');
      const t = new Date(Date.now() - 48 * 3600_000);
      execFileSync('touch', [
        '-d',
        t.toISOString(),
        old,
        join(d, 'tmp', 'candidate-999999999@gone-host-00000000-0000-4000-8000-000000000000'),
      ]);
    },
  });

  // 3. Special files, whatever --format says.
  let fifo: string | null = p('fifo');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    fifo = null;
  }
  if (fifo) {
    for (const f of ['gguf', 'safetensors', 'studio', 'persona-vectors'])
      refuse('3 special files', `FIFO with --format ${f}`, fifo, importArgs(fifo, f));
    refuse('3 special files', 'FIFO without --format', fifo, importArgs(fifo));
    refuse('3 special files', 'FIFO to library import', fifo, ['library', 'import', fifo]);
    refuse('3 special files', 'FIFO to library restore', fifo, ['library', 'restore', fifo]);
  }
  const zero = p('zero.gguf');
  symlinkSync('/dev/zero', zero);
  refuse('3 special files', 'symlink to /dev/zero with --format gguf', zero, importArgs(zero, 'gguf'));
  refuse('3 special files', 'symlink to /dev/zero to library restore', zero, ['library', 'restore', zero]);
  refuse('3 special files', 'symlink to /dev/zero to library import', zero, ['library', 'import', zero]);
  mkdirSync(p('folder.gguf'));
  refuse('3 special files', 'a folder with --format gguf', p('folder.gguf'), importArgs(p('folder.gguf'), 'gguf'));

  // 4. Errors that must name the user's file (not a temp file, not nothing).
  mkdirSync(p('folder.sqlite'));
  refuse('4 names the file', 'restore of a folder (EISDIR)', p('folder.sqlite'), ['library', 'restore', p('folder.sqlite')]);
  const garbage = new Uint8Array(8192);
  garbage.set(Buffer.from('SQLite format 3\0'));
  for (let i = 16; i < garbage.length; i++) garbage[i] = (i * 7919) & 0xff;
  writeFileSync(p('garbage.sqlite'), garbage);
  refuse('4 names the file', 'restore of a non-database with the SQLite magic', p('garbage.sqlite'), [
    'library',
    'restore',
    p('garbage.sqlite'),
  ]);
  const truncated = await libraryDb(dir, 'truncated', () => {});
  truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
  refuse('4 names the file', 'restore of a truncated backup (malformed)', truncated, ['library', 'restore', truncated]);
  archiveOf(p('truncated.zip'), truncated);
  refuse('4 names the file', 'archive of a truncated database', p('truncated.zip'), ['library', 'import', p('truncated.zip')]);
  const noColumn = await libraryDb(dir, 'nocolumn', (db) => {
    db.exec('ALTER TABLE personas DROP COLUMN notes');
  });
  archiveOf(p('nocolumn.zip'), noColumn);
  refuse('4 names the file', 'archive whose personas table lacks a column', p('nocolumn.zip'), ['library', 'import', p('nocolumn.zip')]);
  writeFileSync(p('notdb.sqlite'), 'not a database at all, just text');
  archiveOf(p('notdb.zip'), p('notdb.sqlite'));
  refuse('4 names the file', 'archive whose database is text', p('notdb.zip'), ['library', 'import', p('notdb.zip')]);
  refuse('4 names the file', 'a file that does not exist', p('missing.gguf'), importArgs(p('missing.gguf'), 'gguf'));

  // 5. Names from files printed as text, never as terminal control.
  const evil = p('evil.persona.safetensors');
  exportVectors(evil, 'studio', {
    ...sampleInput(sampleSet()),
    persona: { name: INJECT, description: '', tags: [`tag${INJECT}`], notes: '' },
  });
  const clean = (out: string, err: string): string[] => (/(?!\n)\p{Cc}/u.test(out + err) ? ['raw control characters printed'] : []);
  // The import line and `personas list` (seed + the new persona): nothing may forge a line of ours.
  const noForgedLine = (out: string, err: string): string[] => [
    ...clean(out, err),
    ...(out.split('\n').some((l) => l.startsWith('persona-studio:')) ? ['a forged persona-studio: line'] : []),
  ];
  cases.push({
    cls: '5 output injection',
    id: 'persona name with newline, ANSI and OSC escapes',
    argv: importArgs(evil),
    expect: 'ok',
    check: noForgedLine,
    then: ['personas', 'list'],
  });
  const evilGguf = p('evil-tensor.gguf');
  {
    const v = sampleSet().layers[0]!.vector;
    writeFileSync(
      evilGguf,
      writeGguf(
        [{ key: 'general.architecture', type: GgufType.STRING, value: 'controlvector' }],
        [
          { name: 'direction.1', data: v },
          { name: `x${INJECT}`, data: v },
        ],
      ),
    );
  }
  cases.push({
    cls: '5 output injection',
    id: 'warning naming a tensor with escapes',
    argv: importArgs(evilGguf),
    expect: 'ok',
    check: clean,
  });
  const evilModelDb = await libraryDb(dir, 'evilmodel', (db) => {
    db.prepare('UPDATE models SET name = ?').run(INJECT);
  });
  archiveOf(p('evilmodel.zip'), evilModelDb);
  cases.push({
    cls: '5 output injection',
    id: 'model name from a merged archive',
    argv: ['library', 'import', p('evilmodel.zip')],
    expect: 'ok',
    check: clean,
    then: ['library', 'models'],
  });
  refuse('5 output injection', 'error about a file named with escapes', p(`bad${INJECT}.gguf`), importArgs(p(`bad${INJECT}.gguf`), 'gguf'));

  // 6. A backup with the right application id and version but no tables.
  const empty = p('empty.sqlite');
  {
    const db = new Database(empty);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${LATEST_VERSION}`);
    db.close();
  }
  refuse('6 not a library', 'restore of a backup with no library tables', empty, ['library', 'restore', empty]);
  archiveOf(p('empty.zip'), empty);
  refuse('6 not a library', 'import of an archive with no library tables', p('empty.zip'), [
    'library',
    'import',
    p('empty.zip'),
    '--replace',
  ]);
  cases.push({
    cls: '6 not a library',
    id: 'library check on a library with no tables exits 1',
    argv: ['library', 'check'],
    expect: 'problems',
    prepare: (d) => {
      copyFileSync(empty, join(d, 'library.sqlite'));
      for (const s of ['-wal', '-shm']) rmSync(join(d, `library.sqlite${s}`), { force: true });
    },
  });

  // 7. `library check` on a healthy library: ok, exit 0.
  cases.push({
    cls: '7 check exit code',
    id: 'library check on a healthy library',
    argv: ['library', 'check'],
    expect: 'ok',
    check: (out) => (out === 'ok\n' ? [] : [`printed ${JSON.stringify(out)}`]),
  });
  return cases;
}
