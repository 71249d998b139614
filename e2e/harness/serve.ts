// Browser mode as a user starts it: `persona-studio --data-dir D serve --port 0` in its own process,
// the URL (with its token) read from stdout. Each spec gets a fresh data dir in the system temp
// folder, removed with the server; a server still running when the test process exits is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';

export interface StudioServe {
  url: string;
  dataDir: string;
  /** Everything the server wrote on stderr so far (refusals, warnings), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** A new empty data dir, or a copy of `from` (a data dir prepared once for several specs). */
export function tempDataDir(from?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-'));
  if (from) cpSync(from, dir, { recursive: true });
  return dir;
}

export async function startServe(opts: { dataDir?: string; keepDataDir?: boolean } = {}): Promise<StudioServe> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const child = spawn(process.execPath, ['bin/persona-studio.mjs', '--data-dir', dataDir, 'serve', '--port', '0', '--threads', '1'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
  });
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (running.delete(child), resolve(code))));

  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`persona-studio serve exited (${code}) before printing its URL:\n${stderr}`)));
  });

  let stopped: Promise<void> | null = null;
  return {
    url,
    dataDir,
    log: () => stderr,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          // serve closes its sockets and the engine on SIGTERM; a stuck one is killed outright.
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }
        if (!opts.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
