// Issue 15's hostile corpus, generated fresh and run through the CLI in a child process: every case
// must finish (a hang is killed and named), stay under 300 MB peak RSS, print no raw control
// characters, leave nothing in tmp/, and — when refused — exit non-zero with one line naming the
// user's file while the library stays exactly as it was.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostileResult } from './test-support/hostile-run.ts';

/**
 * A case still running after this is taken to hang. Refusals take milliseconds of CPU; the bound is
 * wide because this machine's cores are shared (wall time, not CPU, is what a hang shows as).
 */
const HANG_MS = 30_000;
/** Generating the corpus (about 90 MB written) before the first case. */
const GENERATE_MS = 180_000;
const MAX_PEAK_MB = 300;

const work = mkdtempSync(join(tmpdir(), 'ps-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runCorpus(): Promise<{ results: HostileResult[]; hung: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'test-support', 'hostile-run.ts'), work],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const results: HostileResult[] = [];
    let current: string | null = 'generating the corpus';
    let stderr = '';
    let buf = '';
    let hung: string | null = null;
    let timer = setTimeout(() => {
      hung = current;
      child.kill('SIGKILL');
    }, GENERATE_MS);
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { start?: string; result?: HostileResult };
        buf = buf.slice(nl + 1);
        if (msg.start) {
          current = msg.start;
          clearTimeout(timer);
          timer = setTimeout(() => {
            hung = current;
            child.kill('SIGKILL');
          }, HANG_MS);
        }
        if (msg.result) results.push(msg.result);
      }
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ results, hung, stderr });
    });
  });
}

describe('hostile corpus (issue 15)', () => {
  it('refuses every hostile input quickly, within 300 MB, naming the file, leaving nothing behind', async () => {
    const { results, hung, stderr } = await runCorpus();
    expect(hung, `case hung (killed): ${hung}; ${stderr.slice(-1000)}`).toBeNull();
    expect(results.length, `runner stopped early: ${stderr.slice(-2000)}`).toBeGreaterThan(20);
    // Per class: cases, slowest case and highest per-case peak, for the report.
    const byClass = new Map<string, HostileResult[]>();
    for (const r of results) byClass.set(r.cls, [...(byClass.get(r.cls) ?? []), r]);
    for (const [cls, rs] of [...byClass].sort()) {
      console.log(
        `${cls.padEnd(22)} ${String(rs.length).padStart(2)} cases  slowest ${Math.max(...rs.map((r) => r.ms))
          .toFixed(0)
          .padStart(5)} ms (cpu ${Math.max(...rs.map((r) => r.cpuMs))
          .toFixed(0)
          .padStart(5)} ms)  peak ${Math.max(...rs.map((r) => r.peakMB)).toFixed(0)} MB${rs[0]!.perCase ? '' : ' (process maxRSS)'}`,
      );
    }
    expect([...byClass.keys()].sort()).toEqual([
      '1 declared sizes',
      '2 archive bombs',
      '3 special files',
      '4 names the file',
      '5 output injection',
      '6 not a library',
      '7 check exit code',
    ]);
    const failures = results
      .filter((r) => r.problems.length || r.peakMB > MAX_PEAK_MB)
      .map(
        (r) =>
          `${r.id}: ${[...r.problems, ...(r.peakMB > MAX_PEAK_MB ? [`peak ${r.peakMB.toFixed(0)} MB`] : [])].join('; ')} | exit ${r.code} | ${r.err.trim().slice(0, 300)}`,
      );
    expect(failures).toEqual([]);
  }, 600_000);
});
