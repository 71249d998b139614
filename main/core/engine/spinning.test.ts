// The engine's spinning rule: a model alone spins, two resident models do not (Engine.load).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../../native-models/compile.ts';
import { tinyCheckpoint } from '../../../native-models/test-support/tiny-checkpoints.ts';
import { Engine } from './engine.ts';
import { openSession } from './providers.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-spinning-'));
let dir = '';
beforeAll(async () => {
  dir = (await compileModel({ checkpointDir: tinyCheckpoint('llama'), cacheRoot: root, options: { requireTokenizer: false } })).dir;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('allow_spinning', () => {
  it('is on for a model alone, off for both once a second one is resident, and an explicit choice wins', async () => {
    const a = new Engine({ inProcess: true });
    const b = new Engine({ inProcess: true });
    const c = new Engine({ inProcess: true });
    try {
      expect((await a.load(dir, { provider: 'cpu', threads: 1 })).spinning).toBe(true);
      expect((await b.load(dir, { provider: 'cpu', threads: 1 })).spinning).toBe(false);
      expect((await a.status())!.spinning).toBe(false); // reloaded without spinning
      expect((await c.load(dir, { provider: 'cpu', threads: 1, spinning: true })).spinning).toBe(true);
      await b.unload();
      await a.unload();
      // alone again: the next load spins
      expect((await b.load(dir, { provider: 'cpu', threads: 1 })).spinning).toBe(false); // c is still resident
      await c.close();
      expect((await a.load(dir, { provider: 'cpu', threads: 1 })).spinning).toBe(false); // b is resident
      await b.close();
      expect((await a.load(dir, { provider: 'cpu', threads: 1 })).spinning).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('the session option reaches onnxruntime (session.intra_op.allow_spinning), which accepts it', async () => {
    const seen: unknown[] = [];
    const opened = await openSession(join(dir, 'model.onnx'), { provider: 'cpu', spinning: false }, async (path, o) => {
      seen.push(o.extra);
      const ort = await import('onnxruntime-node');
      return ort.InferenceSession.create(path, o);
    });
    await opened.session.release();
    expect(seen).toEqual([{ session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }]);
  });
});
