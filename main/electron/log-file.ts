// The desktop app's log: one line per event in <userData>/logs/main.log, rotated by size so it
// never grows without bound (main.log → main.1.log → … → main.<keep>.log, the oldest dropped).
// Written synchronously: the lines that matter most are the last ones before a crash.
import fs from 'node:fs';
import path from 'node:path';

export interface LogFile {
  readonly file: string;
  write(line: string): void;
}

export interface LogFileOptions {
  /** Rotate once the file reaches this size (default 1 MiB). */
  maxBytes?: number;
  /** Rotated files kept besides the current one (default 3). */
  keep?: number;
  now?: () => Date;
}

export function openLogFile(dir: string, name = 'main', opts: LogFileOptions = {}): LogFile {
  const maxBytes = opts.maxBytes ?? 2 ** 20;
  const keep = opts.keep ?? 3;
  const now = opts.now ?? (() => new Date());
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.log`);
  const rotated = (i: number) => path.join(dir, `${name}.${i}.log`);
  let size = fs.existsSync(file) ? fs.statSync(file).size : 0;

  function rotate() {
    fs.rmSync(rotated(keep), { force: true });
    for (let i = keep - 1; i >= 1; i--) if (fs.existsSync(rotated(i))) fs.renameSync(rotated(i), rotated(i + 1));
    if (keep >= 1) fs.renameSync(file, rotated(1));
    else fs.rmSync(file, { force: true });
    size = 0;
  }

  return {
    file,
    write(line) {
      // One line per entry, whatever the caller passed: a multi-line message cannot forge entries.
      const text = `${now().toISOString()} ${line.replace(/\r?\n/g, ' | ')}\n`;
      if (size > 0 && size + Buffer.byteLength(text) > maxBytes) rotate();
      fs.appendFileSync(file, text);
      size += Buffer.byteLength(text);
    },
  };
}
