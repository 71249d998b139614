import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Library } from '../library/index.ts';
import { promptItemsHash } from '../library/prompt-sets-store.ts';
import { promptSetFromVersion, promptSetToItems } from './prompt-set-library.ts';
import { demoPromptSet, demoPromptSetNames } from '../test-support/demo-model.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-psl-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('prompt sets in the library', () => {
  it('a prompt-set file stored and read back equals the original, splits included', () => {
    const lib = Library.open({ dataDir: join(root, 'a'), appVersion: 'test' });
    try {
      for (const name of demoPromptSetNames()) {
        const set = demoPromptSet(name);
        const { items, spec } = promptSetToItems(set);
        const saved = lib.promptSets.save(set.name, set.description, items, spec);
        expect(saved.added).toBe(true);
        expect(promptSetFromVersion(set.name, set.description, lib.promptSets.version(saved.set.id))).toEqual(set);
        // the same prompts again: the version is reused, nothing added
        const again = lib.promptSets.save(set.name, set.description, items, spec);
        expect(again).toMatchObject({ added: false, version: { id: saved.version.id } });
      }
    } finally {
      lib.close();
    }
  });

  it('changed prompts become version 2; version 1 stays as it was', () => {
    const lib = Library.open({ dataDir: join(root, 'b'), appVersion: 'test' });
    try {
      const set = demoPromptSet('formal-vs-casual');
      const a = promptSetToItems(set);
      const v1 = lib.promptSets.save(set.name, '', a.items, a.spec).version;
      const v2 = lib.promptSets.save(set.name, '', { ...a.items, 'heldout-questions': ['What about tea?'] }, a.spec).version;
      expect(v2.version).toBe(2);
      expect(lib.promptSets.version(v1.promptSetId, 1).items['heldout-questions']).toEqual(set.heldout.questions);
      expect(lib.promptSets.find(set.name)!.latestVersion).toBe(2);
    } finally {
      lib.close();
    }
  });

  it('versions from before the spec keep their content hash', () => {
    const old = {
      positive: ['a'],
      negative: ['b'],
      evaluation: ['e'],
      baseline: [],
      questions: [],
      'heldout-positive': [],
      'heldout-negative': [],
      'heldout-questions': [],
    };
    // the library-version-2 hash: sha256 of {positive, negative, evaluation, baseline}
    expect(promptItemsHash(old)).toBe(
      createHash('sha256')
        .update(JSON.stringify({ positive: ['a'], negative: ['b'], evaluation: ['e'], baseline: [] }))
        .digest('hex'),
    );
    expect(promptItemsHash({ ...old, questions: ['q'] })).not.toBe(promptItemsHash(old));
  });
});
