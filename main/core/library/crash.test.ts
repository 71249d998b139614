// A writer killed with SIGKILL in the middle of its writes must leave a database that opens,
// passes integrity_check and holds every persona whose commit it reported.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bits, sampleSet } from '../formats/test-support/sample.ts';
import { Library } from './library.ts';

const dir = mkdtempSync(join(tmpdir(), 'ps-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runAndKill(minCommits: number, extraDelayMs: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'test-support', 'write-loop.ts'), dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const committed = new Map<string, number>();
    let buf = '';
    let err = '';
    let killing = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [id, i] = l.split(' ');
        committed.set(id!, Number(i));
      }
      if (!killing && committed.size >= minCommits) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code} ${signal}: ${err}`));
      else resolve(committed);
    });
  });
}

describe('crash safety', () => {
  it('SIGKILL mid-write loses no committed persona and leaves a sound database', async () => {
    const all = new Map<string, number>();
    for (const delay of [0, 3, 11]) {
      const committed = await runAndKill(all.size + 15, delay);
      for (const [id, i] of committed) all.set(id, i);
      const lib = Library.open({ dataDir: dir });
      try {
        expect(lib.integrityCheck()).toEqual(['ok']);
        expect(lib.db.pragma('foreign_key_check')).toEqual([]);
        const stored = new Set(lib.personas.list().map((p) => p.id));
        for (const id of all.keys()) expect(stored.has(id), id).toBe(true);
        // Beyond those reported, at most one unreported commit per kill.
        expect(stored.size - all.size).toBeLessThanOrEqual(3);
        for (const [id, i] of [...all].slice(-3)) {
          const v = lib.vectors.latest(id)!;
          const want = sampleSet({ hidden: 1024, numLayers: 28, layers: Array.from({ length: 28 }, (_, b) => b), seed: i + 1 });
          expect(v.layers.length).toBe(28);
          expect(bits(v.layers[27]!.vector)).toEqual(bits(want.layers[27]!.vector));
        }
        // Every stored persona is whole: no persona without its 28 layers.
        const partial = lib.db
          .prepare(
            `SELECT p.id FROM personas p LEFT JOIN vectors v ON v.persona_id = p.id
          LEFT JOIN vector_layers l ON l.vector_id = v.id GROUP BY p.id HAVING count(l.layer) != 28`,
          )
          .all();
        expect(partial).toEqual([]);
      } finally {
        lib.close();
      }
    }
  });
});
