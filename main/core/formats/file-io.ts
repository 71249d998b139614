// File helpers: only regular files are opened, reads are bounded by the size stat reported, and
// writes never leave a half-written file under the final name.
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FormatError } from './errors.ts';

/**
 * Vector files are small (a 128-layer × 16384 float32 set is 8 MiB); anything past this is refused
 * before being read, which also bounds what a reader can allocate from what the file declares:
 * with the float32 copies a reader makes, a file at this size stays well under 300 MB of memory.
 */
export const MAX_VECTOR_FILE = 32 << 20;

/** More layers than any model has (our own metadata allows as many); rows past it are refused. */
export const MAX_LAYERS = 4096;

/** One line for a failed open, naming the file rather than echoing Node's "ENOENT: …, open '…'". */
function openProblem(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'is a symbolic link loop';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    default:
      return `cannot be opened (${(e as Error).message})`;
  }
}

/**
 * Opens `path` for reading only when it is a regular file: FIFOs, devices (a symlink to
 * /dev/zero), sockets and folders are refused, whatever format the caller expects. O_NONBLOCK
 * keeps the open itself from waiting on a FIFO with no writer. Returns the descriptor and size.
 */
export function openRegularFile(path: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FormatError(path, null, openProblem(e));
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    const kind = st.isDirectory()
      ? 'a folder'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : st.isSocket()
            ? 'a socket'
            : 'not a plain file';
    throw new FormatError(path, null, `is not a regular file (${kind})`);
  }
  return { fd, size: st.size };
}

/** Reads up to `n` bytes at `position` from an open descriptor (fewer when the file is shorter). */
export function readAt(fd: number, n: number, position: number): Uint8Array {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, buf, got, n - got, position + got);
    if (r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/** The first `n` bytes of a regular file. */
export function readHead(path: string, n: number): Uint8Array {
  const { fd } = openRegularFile(path);
  try {
    return readAt(fd, n, 0);
  } finally {
    closeSync(fd);
  }
}

/** The whole of a regular file of at most `max` bytes; never more than the size stat reported. */
export function readBounded(path: string, max = MAX_VECTOR_FILE, what = 'a vector file'): Uint8Array {
  const { fd, size } = openRegularFile(path);
  try {
    if (size > max) throw new FormatError(path, null, `is ${size} bytes; larger than the ${max} ${what} may be`);
    return readAt(fd, size, 0);
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    writeFileSync(tmp, data, { flush: true });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A file-name-safe version of a persona name (keeps letters of any script, digits, - _ .). */
export function safeFileStem(name: string): string {
  const s = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}\-_.]+/gu, '_')
    .replace(/^[._]+|[._]+$/g, '')
    .slice(0, 100);
  return s || 'persona';
}
