// Zip reading and writing for the two places we need it: torch's .pt files (stored entries, data
// aligned to 64 bytes the way torch writes them) and library archives (deflated, possibly large).
//
// The reader is our own so that every offset and length from the file is checked against the file
// size before use: a corrupt directory gives a FormatError naming the offset, and nothing is
// allocated from a size field that the bytes present cannot back. fflate does the inflating.
import { closeSync, readSync, writeSync } from 'node:fs';
import { Inflate, Zip, ZipDeflate } from 'fflate';
import { ByteReader } from './bytes.ts';
import { crc32 } from './crc32.ts';
import { FormatError } from './errors.ts';
import { openRegularFile } from './file-io.ts';

/** Random access to the bytes of a file, in memory or through a file descriptor. */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.length,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.length) {
        throw new FormatError(name, offset, `read of ${length} bytes runs past the end of the file (${bytes.length} bytes)`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** A regular file opened for ranged reads (see openRegularFile); close() when done. */
export function fileSource(path: string): ByteSource & { close(): void } {
  const { fd, size } = openRegularFile(path);
  return {
    name: path,
    size,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new FormatError(path, offset, `read of ${length} bytes runs past the end of the file (${size} bytes)`);
      }
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) throw new FormatError(path, offset + got, 'unexpected end of file');
        got += n;
      }
      return buf;
    },
    close() {
      closeSync(fd);
    },
  };
}

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  crc: number;
  compressedSize: number;
  size: number;
  /** Where the entry's local header starts (for messages). */
  headerOffset: number;
  /** Where the entry's (compressed) data starts. */
  dataOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_SIG = 0x06064b50;
const EOCD64_LOC_SIG = 0x07064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LATIN1 = new TextDecoder('latin1');

function decodeName(b: Uint8Array, flags: number, onError: () => never): string {
  try {
    return flags & 0x800 ? UTF8.decode(b) : LATIN1.decode(b);
  } catch {
    return onError();
  }
}

/** Reads the central directory; every entry's data range is checked to lie inside the file. */
export function readZipDirectory(src: ByteSource): ZipEntry[] {
  const file = src.name;
  if (src.size < 22) throw new FormatError(file, 0, `too short for a zip archive (${src.size} bytes)`);
  const tailLen = Math.min(src.size, 22 + 65535);
  const tailStart = src.size - tailLen;
  const tail = src.read(tailStart, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 0x05 && tail[i + 3] === 0x06) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new FormatError(file, src.size, 'no zip end-of-central-directory record (not a zip file, or truncated)');
  const eocdAt = tailStart + eocd;
  const r = new ByteReader(tail, file, tailStart);
  r.pos = eocd;
  r.u32();
  const disk = r.u16(),
    cdDisk = r.u16();
  r.u16();
  let count = r.u16();
  let cdSize = r.u32();
  let cdOffset = r.u32();
  if (disk !== 0 || cdDisk !== 0) throw new FormatError(file, eocdAt, 'multi-part zip archives are not supported');
  let cdEnd = eocdAt;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = eocdAt - 20;
    if (locAt < 0) throw new FormatError(file, eocdAt, 'zip64 archive without its zip64 locator');
    const loc = new ByteReader(src.read(locAt, 20), file, locAt);
    if (loc.u32() !== EOCD64_LOC_SIG) throw new FormatError(file, locAt, 'zip64 archive without its zip64 locator');
    loc.u32();
    const e64At = loc.u64('zip64 end record offset');
    if (e64At + 56 > locAt) throw new FormatError(file, locAt, `zip64 end record offset ${e64At} is out of range`);
    const e = new ByteReader(src.read(e64At, 56), file, e64At);
    if (e.u32() !== EOCD64_SIG) throw new FormatError(file, e64At, 'bad zip64 end-of-central-directory signature');
    e.pos = 32;
    count = e.u64('entry count');
    cdSize = e.u64('central directory size');
    cdOffset = e.u64('central directory offset');
    cdEnd = e64At;
  }
  if (cdOffset + cdSize > cdEnd) {
    throw new FormatError(file, eocdAt, `central directory (${cdSize} bytes at ${cdOffset}) runs past its end record at ${cdEnd}`);
  }
  if (count * 46 > cdSize) throw new FormatError(file, eocdAt, `${count} entries cannot fit in a ${cdSize}-byte central directory`);
  const cd = new ByteReader(src.read(cdOffset, cdSize), file, cdOffset);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = cd.pos;
    if (cd.u32('central header signature') !== CDH_SIG) cd.fail(`entry ${i}: bad central directory header signature`, at);
    cd.pos += 4;
    const flags = cd.u16();
    const method = cd.u16();
    cd.pos += 4;
    const crc = cd.u32();
    let compressedSize = cd.u32();
    let size = cd.u32();
    const nameLen = cd.u16(),
      extraLen = cd.u16(),
      commentLen = cd.u16();
    cd.pos += 8;
    let headerOffset = cd.u32();
    const nameBytes = cd.take(nameLen, 'entry name');
    const name = decodeName(nameBytes, flags, () => cd.fail(`entry ${i}: name is not valid UTF-8`, at));
    const extra = new ByteReader(cd.take(extraLen, 'extra field'), file, cd.at() - extraLen);
    cd.take(commentLen, 'entry comment');
    // Zip64 sizes live in extra field 0x0001, in this order, only for fields saturated above.
    while (extra.remaining >= 4) {
      const id = extra.u16(),
        len = extra.u16();
      const body = new ByteReader(extra.take(len, 'extra field body'), file, extra.at() - len);
      if (id !== 1) continue;
      if (size === 0xffffffff) size = body.u64('zip64 size');
      if (compressedSize === 0xffffffff) compressedSize = body.u64('zip64 compressed size');
      if (headerOffset === 0xffffffff) headerOffset = body.u64('zip64 header offset');
    }
    if (flags & 1) throw new FormatError(file, at, `entry ${JSON.stringify(name)} is encrypted`);
    if (method !== 0 && method !== 8)
      throw new FormatError(
        file,
        at,
        `entry ${JSON.stringify(name)} uses compression method ${method} (only stored and deflate are supported)`,
      );
    if (method === 0 && compressedSize !== size)
      throw new FormatError(file, at, `stored entry ${JSON.stringify(name)} has compressed size ${compressedSize} but size ${size}`);
    if (seen.has(name)) throw new FormatError(file, at, `entry ${JSON.stringify(name)} appears twice`);
    seen.add(name);
    if (headerOffset + 30 > cdOffset)
      throw new FormatError(file, at, `entry ${JSON.stringify(name)}: local header offset ${headerOffset} is out of range`);
    const lh = new ByteReader(src.read(headerOffset, 30), file, headerOffset);
    if (lh.u32() !== LFH_SIG) throw new FormatError(file, headerOffset, `entry ${JSON.stringify(name)}: bad local header signature`);
    lh.pos = 26;
    const dataOffset = headerOffset + 30 + lh.u16() + lh.u16();
    if (dataOffset + compressedSize > cdOffset) {
      throw new FormatError(
        file,
        headerOffset,
        `entry ${JSON.stringify(name)}: ${compressedSize} bytes of data at ${dataOffset} run past the central directory at ${cdOffset}`,
      );
    }
    entries.push({ name, method, crc, compressedSize, size, headerOffset, dataOffset });
  }
  return entries;
}

/** Feeds an entry's uncompressed bytes to `sink` in chunks, checking its size and CRC. */
export function streamZipEntry(src: ByteSource, entry: ZipEntry, sink: (chunk: Uint8Array) => void): void {
  const file = src.name;
  const where = entry.headerOffset;
  const CHUNK = 1 << 16;
  let produced = 0;
  let crc = 0;
  const emit = (chunk: Uint8Array): void => {
    produced += chunk.length;
    if (produced > entry.size)
      throw new FormatError(file, where, `entry ${JSON.stringify(entry.name)} inflates past its declared ${entry.size} bytes`);
    crc = crc32(chunk, crc);
    sink(chunk);
  };
  if (entry.method === 0) {
    for (let off = 0; off < entry.size; off += CHUNK) emit(src.read(entry.dataOffset + off, Math.min(CHUNK, entry.size - off)));
  } else {
    // Small pushes bound what one push can inflate to (deflate expands at most ~1032x).
    const inf = new Inflate((chunk) => emit(chunk));
    const PUSH = 1 << 14;
    try {
      if (entry.compressedSize === 0) inf.push(new Uint8Array(0), true);
      for (let off = 0; off < entry.compressedSize; off += PUSH) {
        const n = Math.min(PUSH, entry.compressedSize - off);
        inf.push(src.read(entry.dataOffset + off, n), off + n >= entry.compressedSize);
      }
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(file, where, `entry ${JSON.stringify(entry.name)} has corrupt deflate data (${(e as Error).message})`);
    }
  }
  if (produced !== entry.size)
    throw new FormatError(file, where, `entry ${JSON.stringify(entry.name)} holds ${produced} bytes, not the declared ${entry.size}`);
  if (crc !== entry.crc) throw new FormatError(file, where, `entry ${JSON.stringify(entry.name)} fails its CRC check (corrupt)`);
}

/** An entry's bytes in memory; refuses entries larger than `maxSize`. */
export function readZipEntry(src: ByteSource, entry: ZipEntry, maxSize: number): Uint8Array {
  if (entry.size > maxSize) {
    throw new FormatError(
      src.name,
      entry.headerOffset,
      `entry ${JSON.stringify(entry.name)} is ${entry.size} bytes, more than the ${maxSize} allowed`,
    );
  }
  if (entry.method === 0) {
    const data = src.read(entry.dataOffset, entry.size);
    if (crc32(data) !== entry.crc)
      throw new FormatError(src.name, entry.headerOffset, `entry ${JSON.stringify(entry.name)} fails its CRC check (corrupt)`);
    return data;
  }
  const out = new Uint8Array(entry.size);
  let at = 0;
  streamZipEntry(src, entry, (chunk) => {
    out.set(chunk, at);
    at += chunk.length;
  });
  return out;
}

/**
 * True when an entry name stays inside the folder it is extracted to: relative, forward slashes
 * only, no `..` or `.` segments, no drive letters or NULs.
 */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.length > 1024) return false;
  if (name.includes('\\') || name.includes('\0')) return false;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  const parts = name.endsWith('/') ? name.slice(0, -1).split('/') : name.split('/');
  return parts.every((p) => p !== '' && p !== '.' && p !== '..');
}

// DOS date 1980-01-01 00:00: fixed so that identical inputs give identical files.
const DOS_DATE = (1 << 5) | 1;

/**
 * A zip of stored (uncompressed) entries whose data starts on `align`-byte boundaries, padded with
 * an extra field the way torch's writer does ("FB" id), so readers can map tensors in place.
 */
export function buildStoredZip(entries: { name: string; data: Uint8Array }[], align = 64): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const crc = crc32(e.data);
    const start = offset + 30 + name.length;
    let extraLen = 0;
    if (start % align !== 0) {
      extraLen = 4;
      while ((start + extraLen) % align !== 0) extraLen++;
    }
    if (offset + 30 + name.length + extraLen + e.data.length > 0xfffffffe)
      throw new Error(`buildStoredZip: ${e.name} would need zip64, which we do not write`);
    const lh = new DataView(new ArrayBuffer(30 + name.length + extraLen));
    lh.setUint32(0, LFH_SIG, true);
    lh.setUint16(4, 20, true);
    lh.setUint16(6, 0x800, true);
    lh.setUint16(8, 0, true);
    lh.setUint16(10, 0, true);
    lh.setUint16(12, DOS_DATE, true);
    lh.setUint32(14, crc, true);
    lh.setUint32(18, e.data.length, true);
    lh.setUint32(22, e.data.length, true);
    lh.setUint16(26, name.length, true);
    lh.setUint16(28, extraLen, true);
    const lhBytes = new Uint8Array(lh.buffer);
    lhBytes.set(name, 30);
    if (extraLen) {
      lh.setUint16(30 + name.length, 0x4246, true); // "FB"
      lh.setUint16(32 + name.length, extraLen - 4, true);
      lhBytes.fill(0x5a, 34 + name.length); // "Z"
    }
    const ch = new DataView(new ArrayBuffer(46 + name.length));
    ch.setUint32(0, CDH_SIG, true);
    ch.setUint16(4, 0x031e, true);
    ch.setUint16(6, 20, true);
    ch.setUint16(8, 0x800, true);
    ch.setUint16(10, 0, true);
    ch.setUint16(12, 0, true);
    ch.setUint16(14, DOS_DATE, true);
    ch.setUint32(16, crc, true);
    ch.setUint32(20, e.data.length, true);
    ch.setUint32(24, e.data.length, true);
    ch.setUint16(28, name.length, true);
    ch.setUint32(38, 0o100644 << 16, true);
    ch.setUint32(42, offset, true);
    new Uint8Array(ch.buffer).set(name, 46);
    parts.push(lhBytes, e.data);
    central.push(new Uint8Array(ch.buffer));
    offset += lhBytes.length + e.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, EOCD_SIG, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let at = 0;
  for (const p of [...parts, ...central, new Uint8Array(end.buffer)]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Streams a deflated zip to an open file descriptor: entries are added one at a time from chunk
 * producers, so a large library snapshot never sits in memory whole.
 */
export class ZipFileWriter {
  private readonly zip: Zip;
  private error: Error | null = null;
  constructor(private readonly fd: number) {
    this.zip = new Zip((err, chunk) => {
      if (err) {
        this.error = err;
        return;
      }
      writeSync(this.fd, chunk);
    });
  }
  add(name: string, chunks: Iterable<Uint8Array>, level: 0 | 1 | 6 | 9 = 6): void {
    if (!isSafeEntryName(name)) throw new Error(`ZipFileWriter: unsafe entry name ${JSON.stringify(name)}`);
    const entry = new ZipDeflate(name, { level });
    this.zip.add(entry);
    let prev: Uint8Array | null = null;
    for (const c of chunks) {
      if (prev) entry.push(prev, false);
      prev = c;
      if (this.error) throw this.error;
    }
    entry.push(prev ?? new Uint8Array(0), true);
    if (this.error) throw this.error;
  }
  finish(): void {
    this.zip.end();
    if (this.error) throw this.error;
  }
}
