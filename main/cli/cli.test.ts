// The CLI end to end: bad input gets one line naming the file, a non-zero exit, and no partial
// model in the cache; stories260K greedy generation equals llama.cpp's.
import { describe, it, expect, afterAll } from 'vitest';
import {
  mkdtempSync,
  rmSync,
  cpSync,
  writeFileSync,
  readFileSync,
  existsSync,
  readdirSync,
  openSync,
  writeSync,
  closeSync,
  truncateSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './test-support/run-cli.ts';
import { tinyCheckpoint } from '../../native-models/test-support/tiny-checkpoints.ts';
import { llamaCppGreedy, disposeLlamaCpp } from '../../native-models/test-support/llamacpp.ts';

const work = mkdtempSync(join(tmpdir(), 'ps-cli-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeLlamaCpp();
});

const cli = (...argv: string[]) => runCli(join(work, 'data'), argv);

/** A copy of the tiny llama checkpoint, damaged by `damage`. */
function damaged(name: string, damage: (dir: string) => void): string {
  const dir = join(work, name);
  cpSync(tinyCheckpoint('llama'), dir, { recursive: true });
  // compile only checks that the tokenizer files exist; their content is never read here.
  writeFileSync(join(dir, 'tokenizer.json'), '{}');
  writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
  damage(dir);
  return dir;
}

function expectCleanFailure(r: { code: number; err: string }, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(pattern);
  const cache = join(work, 'data', 'models');
  expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
}

describe('models compile rejects bad input cleanly', () => {
  it('a truncated safetensors file', async () => {
    const dir = damaged('truncated', (d) => {
      const f = join(d, 'model.safetensors');
      truncateSync(f, Math.floor(statSync(f).size / 2));
    });
    expectCleanFailure(await cli('models', 'compile', dir), /model\.safetensors: tensor .* past the end of the file/);
  });

  it('a header length past the end', async () => {
    const dir = damaged('header', (d) => {
      const fd = openSync(join(d, 'model.safetensors'), 'r+');
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(10n ** 12n);
      writeSync(fd, b, 0, 8, 0);
      closeSync(fd);
    });
    expectCleanFailure(await cli('models', 'compile', dir), /model\.safetensors: header length \d+ runs past the end/);
  });

  it('a tensor whose shape disagrees with config.json', async () => {
    const dir = damaged('shape', (d) => {
      const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      c.intermediate_size += 2;
      writeFileSync(join(d, 'config.json'), JSON.stringify(c));
    });
    expectCleanFailure(
      await cli('models', 'compile', dir),
      /tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[\d+,\d+\] but config\.json implies/,
    );
  });

  it('an unknown architecture', async () => {
    const dir = damaged('arch', (d) => {
      const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      c.model_type = 'mamba';
      writeFileSync(join(d, 'config.json'), JSON.stringify(c));
    });
    expectCleanFailure(await cli('models', 'compile', dir), /config\.json: model_type "mamba" is not supported/);
  });

  it('missing tokenizer files', async () => {
    const dir = damaged('notok', (d) => rmSync(join(d, 'tokenizer.json')));
    expectCleanFailure(await cli('models', 'compile', dir), /tokenizer\.json: missing/);
  });

  it('an unknown flag value', async () => {
    const r = await cli('models', 'compile', tinyCheckpoint('llama'), '--precision', 'int3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--precision int3: expected one of/);
  });

  it('an unknown provider, refused before any compile', async () => {
    const r = await cli('generate', '--model', tinyCheckpoint('llama'), '--raw', '--provider', 'tpu');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('persona-studio: --provider tpu: expected one of auto, cpu, cuda, dml, coreml, webgpu');
  });
});

const STORIES = join(import.meta.dirname, '../../../shared/models/stories260K');
const haveStories = existsSync(join(STORIES, 'stories260K.gguf'));
if (!haveStories) console.log(`skipping stories260K CLI tests: ${STORIES} is absent`);

describe.skipIf(!haveStories)('stories260K end to end', () => {
  it('compiles and greedy-generates 80 tokens from BOS exactly as llama.cpp does', async () => {
    const compiled = await cli('models', 'compile', STORIES, '--json');
    expect(compiled.code).toBe(0);
    const dir = JSON.parse(compiled.out).dir as string;
    const r = await cli('generate', '--model', dir, '--raw', '--greedy', '--max-new-tokens', '80', '--json');
    expect(r.code).toBe(0);
    const ours = JSON.parse(r.out);
    expect(ours.promptTokens).toEqual([1]);
    const theirs = await llamaCppGreedy(join(STORIES, 'stories260K.gguf'), [1], 80);
    expect(ours.generatedTokens).toEqual(theirs.slice(0, ours.generatedTokens.length));
    expect(ours.generatedTokens.length).toBeGreaterThanOrEqual(Math.min(80, theirs.length));
    expect(ours.text).toMatch(/^Once upon a time/);
  });

  it('compiles once and reuses the cache', async () => {
    const r = await cli('models', 'compile', STORIES);
    expect(r.out).toMatch(/^already compiled/);
  });
});

describe('personas and library commands', () => {
  it('imports, lists, exports, deletes and restores a persona; a damaged file is refused and nothing is saved', async () => {
    const { Library, layerVector } = await import('../core/library/index.ts');
    const { exportVectors } = await import('../core/formats/index.ts');
    const lib = Library.open({ dataDir: join(work, 'data') });
    lib.models.add({ name: 'tiny', source: '/models/tiny', sourceKind: 'path', architecture: 'llama', hiddenSize: 8, numLayers: 4 });
    lib.close();
    const set = {
      modelId: 'tiny',
      modelHash: null,
      hiddenSize: 8,
      numLayers: 4,
      layers: [layerVector(1, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])), layerVector(3, new Float32Array(8).fill(0.5))],
      method: 'mean-diff' as const,
      reduction: 'response-mean' as const,
      counts: null,
      provenance: { promptSetHash: null, settings: {}, seed: null, appVersion: 'test', createdAt: new Date(0).toISOString() },
    };
    const gguf = join(work, 'formal.gguf');
    exportVectors(gguf, 'gguf', { persona: { name: 'formal "quoted"', description: '', tags: [], notes: '' }, set, architecture: 'llama' });

    const bad = join(work, 'damaged.gguf');
    writeFileSync(bad, readFileSync(gguf).subarray(0, 60));
    const refused = await cli('personas', 'import', bad, '--model', 'tiny');
    expect(refused.code).toBe(4); // format: a malformed file (main/cli/errors.ts EXIT_CODES)
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    expect(refused.err).toContain('damaged.gguf');
    expect((await cli('personas', 'list', '--json')).out.trim()).toBe('[]');

    const imported = await cli('personas', 'import', gguf, '--model', 'tiny', '--name', 'Formal; DROP TABLE personas;--');
    expect(imported.code).toBe(0);
    const list = JSON.parse((await cli('personas', 'list', '--json')).out);
    expect(list.map((p: { name: string }) => p.name)).toEqual(['Formal; DROP TABLE personas;--']);
    const id = list[0].id as string;

    const exported = await cli('personas', 'export', id, '--format', 'persona-vectors', '--dir', join(work, 'exports'));
    expect(exported.code).toBe(0);
    expect(existsSync(exported.out.trim().split('\n')[0]!)).toBe(true);

    expect((await cli('personas', 'delete', id)).code).toBe(0);
    expect((await cli('personas', 'list', '--json')).out.trim()).toBe('[]');
    expect((await cli('personas', 'restore', id)).code).toBe(0);
    expect(JSON.parse((await cli('personas', 'list', '--json')).out)).toHaveLength(1);
    expect((await cli('library', 'check')).out.trim()).toBe('ok');
  });
});
