// Runs the hostile corpus in this process, one case after another, and prints one JSON line per
// case: `{"start": id}` before it (so a parent can name a case that hangs and kill us) and the
// result after. Peak memory is per case: the kernel's high-water mark (VmHWM) is reset through
// /proc/self/clear_refs before each one (Linux ≥ 4.0); elsewhere the process's maxRSS is reported.
// Usage: node --expose-gc --import tsx hostile-run.ts <work dir>
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { main } from '../main.ts';
import { buildCorpus, seedLibrary, type HostileCase } from './hostile-corpus.ts';

export interface HostileResult {
  cls: string;
  id: string;
  /** Wall-clock and CPU (user + system) milliseconds of the command. */
  ms: number;
  cpuMs: number;
  peakMB: number;
  /** Whether peakMB is this case's own peak (reset before it) or the process's so far. */
  perCase: boolean;
  code: number;
  out: string;
  err: string;
  problems: string[];
}

function resetPeak(): boolean {
  (globalThis as { gc?: () => void }).gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Everything a failed command must leave as it was: the rows of every table, and the files. */
function snapshot(dataDir: string): string {
  const db = new Database(join(dataDir, 'library.sqlite'), { readonly: true });
  try {
    const tables = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    const rows = tables.map((t) => `${t}:${JSON.stringify(db.prepare(`SELECT * FROM "${t}" ORDER BY 1`).raw().all())}`);
    const backups = existsSync(join(dataDir, 'backups')) ? readdirSync(join(dataDir, 'backups')) : [];
    return `${rows.join('\n')}\nbackups:${backups.join(',')}`;
  } finally {
    db.close();
  }
}

/** A control character (C0, DEL, C1) other than the newline that ends a line. */
const CONTROL = /(?!\n)\p{Cc}/u;

async function runCase(c: HostileCase, dataDir: string, template: string): Promise<HostileResult> {
  mkdirSync(dataDir, { recursive: true });
  copyFileSync(template, join(dataDir, 'library.sqlite'));
  c.prepare?.(dataDir);
  const before = c.expect === 'refuse' ? snapshot(dataDir) : '';
  let out = '';
  let err = '';
  const io = {
    stdout: (s: string) => {
      out += s;
    },
    stderr: (s: string) => {
      err += s;
    },
  };
  const perCase = resetPeak();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const code = await main(['--data-dir', dataDir, ...c.argv], io);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const peak = peakMB();
  const problems: string[] = [];
  if (c.then && code === 0) {
    const r = await main(['--data-dir', dataDir, ...c.then], io);
    if (r !== 0) problems.push(`${c.then.join(' ')} exited ${r}`);
  }
  if (CONTROL.test(out + err)) problems.push('printed raw control characters');
  const tmp = join(dataDir, 'tmp');
  const left = existsSync(tmp) ? readdirSync(tmp) : [];
  if (left.length) problems.push(`left in tmp/: ${left.join(', ')}`);
  if (c.expect === 'refuse') {
    if (code === 0) problems.push('exited 0');
    const lines = err.trimEnd().split('\n');
    if (lines.length !== 1) problems.push(`stderr has ${lines.length} lines`);
    if (!lines[0]!.includes(c.file!.split('\n')[0]!.split('\u001b')[0]!)) problems.push('error does not name the file');
    if (/\/tmp\/(import|restore|candidate)-/.test(err) || err.includes(join(dataDir, 'tmp'))) problems.push('error names a temp file');
    if (snapshot(dataDir) !== before) problems.push('library changed');
  } else if (c.expect === 'ok') {
    if (code !== 0) problems.push(`exited ${code}: ${err.trim()}`);
  } else {
    if (code !== 1) problems.push(`exited ${code}, expected 1`);
    if (!out.trim() || out.trim() === 'ok') problems.push('printed no problems');
  }
  problems.push(...(c.check?.(out, err) ?? []));
  return { cls: c.cls, id: c.id, ms, cpuMs: (cpu.user + cpu.system) / 1000, peakMB: peak, perCase, code, out, err, problems };
}

const work = process.argv[2];
if (!work) throw new Error('usage: hostile-run.ts <work dir>');
const cases = await buildCorpus(join(work, 'corpus'));
// Every case starts from a copy of one seeded library (closed, so the file is complete).
seedLibrary(join(work, 'template'));
const template = join(work, 'template', 'library.sqlite');
process.stdout.write(`${JSON.stringify({ cases: cases.length })}\n`);
for (const [i, c] of cases.entries()) {
  process.stdout.write(`${JSON.stringify({ start: c.id })}\n`);
  const r = await runCase(c, join(work, `lib-${i}`), template);
  process.stdout.write(`${JSON.stringify({ result: r })}\n`);
}
