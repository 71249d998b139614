// Temporary files under <data dir>/tmp. Each name carries its owner (pid and host) as its lock:
// the app, the CLI and cluster shards may share one data dir, so a run removes only what is stale —
// an entry whose owner on this host is gone (a run that was killed), or, whatever its owner, one
// untouched for longer than any import takes (the owner may be on another host, or its pid reused).
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Past this age a temp entry is stale whoever owns it. */
export const STALE_TEMP_MS = 24 * 3600_000;

/** Host names may hold dashes, so the owner is "<pid>@<host>" and the uuid ends the name. */
const NAME = /^[a-z]+-(\d+)@(.+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\.|-|$)/;

/** A unique temp name (no extension) owned by this process. */
export function tempName(tag: string): string {
  return `${tag}-${process.pid}@${hostname()}-${randomUUID()}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes stale entries of `dir` (see above); returns their names. Never throws. */
export function sweepStaleTemp(dir: string, now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    try {
      const m = NAME.exec(name);
      const ownerGone = m !== null && m[2] === hostname() && Number(m[1]) !== process.pid && !alive(Number(m[1]));
      if (ownerGone || now - statSync(join(dir, name)).mtimeMs > STALE_TEMP_MS) {
        rmSync(join(dir, name), { recursive: true, force: true });
        removed.push(name);
      }
    } catch {
      // Another run removed it first, or it is not ours to remove: either way, leave it.
    }
  }
  return removed;
}
