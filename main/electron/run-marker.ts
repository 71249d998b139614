// Tells a clean start from one after a crash: a "running" file in the data dir, written when the app
// starts and removed when it quits normally. Found at start, it means the last run ended without
// quitting (a crash, a kill, a power cut): the app says so, and starts normally anyway. The library
// needs no repair (SQLite recovers its own journal; interrupted jobs resume from their checkpoints).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const RUN_MARKER = 'running.json';

const markerSchema = z.object({ pid: z.number().int(), startedAt: z.string(), version: z.string() });
export type RunMarker = z.output<typeof markerSchema>;

export interface PreviousRun {
  /** What the unfinished run wrote, or null when its marker is unreadable (it died while writing it). */
  marker: RunMarker | null;
}

/** Records this run; returns the previous run if it did not end cleanly, else null. */
export function beginRun(dataDir: string, run: RunMarker): PreviousRun | null {
  const file = path.join(dataDir, RUN_MARKER);
  let previous: PreviousRun | null = null;
  if (fs.existsSync(file)) {
    let marker: RunMarker | null;
    try {
      const parsed = markerSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
      marker = parsed.success ? parsed.data : null;
    } catch {
      marker = null;
    }
    previous = { marker };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(run));
  return previous;
}

/** This run ended normally: the next start is a clean one. */
export function endRun(dataDir: string): void {
  fs.rmSync(path.join(dataDir, RUN_MARKER), { force: true });
}

/** The one line the app shows and logs after an unclean end. */
export function uncleanEndMessage(previous: PreviousRun, logFile: string): string {
  const when = previous.marker ? ` (started ${previous.marker.startedAt}, version ${previous.marker.version})` : '';
  return `Persona Studio did not shut down properly last time${when}. Your library is intact and unfinished jobs can be resumed; details are in ${logFile}.`;
}
