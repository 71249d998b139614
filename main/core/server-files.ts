// The server's disk as the studio UI sees it: one folder at a time for the file picker (browser
// mode cannot browse the machine running main), and the bytes a folder takes (compiled models).
// Absolute paths only, so a listing never depends on the server's working directory.
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { StudioError } from './errors.ts';

export interface FileEntry {
  name: string;
  path: string;
  kind: 'dir' | 'file';
  /** Bytes of a file; null for a folder (or a file that could not be read). */
  size: number | null;
}

/** Most entries one listing returns (a folder of 100,000 files stays responsive). */
export const MAX_ENTRIES = 2000;

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? '';

/** One folder: sub-folders first, then files, each by name; symlinks followed, broken ones skipped. */
export function listFolder(dir: string, label = 'dir'): { dir: string; parent: string | null; entries: FileEntry[]; truncated: boolean } {
  if (!isAbsolute(dir)) throw new StudioError('usage', `${label} ${JSON.stringify(dir)}: give an absolute path`);
  const at = resolve(dir);
  let dirents: Dirent[];
  try {
    dirents = readdirSync(at, { withFileTypes: true });
  } catch (e) {
    const code = errno(e);
    const why =
      code === 'ENOENT'
        ? 'no such folder'
        : code === 'ENOTDIR'
          ? 'is a file, not a folder'
          : code === 'EACCES' || code === 'EPERM'
            ? 'not readable (permission denied)'
            : (e as Error).message;
    throw new StudioError(code === 'ENOENT' ? 'not-found' : 'usage', `${label} ${at}: ${why}`);
  }
  const entries: FileEntry[] = [];
  for (const d of dirents) {
    const path = join(at, d.name);
    try {
      const st = statSync(path); // follows links: a linked folder is browsable like any other
      if (st.isDirectory()) entries.push({ name: d.name, path, kind: 'dir', size: null });
      else if (st.isFile()) entries.push({ name: d.name, path, kind: 'file', size: st.size });
    } catch {
      // a broken link or an entry removed while listing: nothing to pick
    }
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = dirname(at);
  return {
    dir: at,
    parent: parent === at ? null : parent,
    entries: entries.slice(0, MAX_ENTRIES),
    truncated: entries.length > MAX_ENTRIES,
  };
}

/** Bytes under `path` (files counted once, links not followed); 0 when it does not exist. */
export function diskUsage(path: string): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += diskUsage(join(path, name));
  return total;
}
