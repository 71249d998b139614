import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePromptSetFile, readPromptSetFile, type PromptSetFileInput } from './prompt-set-file.ts';
import { PROMPT_SETS_DIR } from '../test-support/demo-model.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-promptset-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const minimal: PromptSetFileInput = {
  format: 'persona-studio/prompt-set',
  version: 1,
  name: 'formal',
  kind: 'system-prompts',
  positive: ['Be formal.'],
  negative: ['Be casual.'],
  questions: ['Tell me about tea.'],
};

describe('prompt-set file', () => {
  it('fills defaults and keeps every field', () => {
    const p = parsePromptSetFile(minimal, 'x.json');
    expect(p.description).toBe('');
    expect(p.heldout).toEqual({ positive: [], negative: [], questions: [] });
    expect(p.markers).toBeUndefined();
    const full = parsePromptSetFile(
      { ...minimal, role: 'butler', heldout: { questions: ['Q?'] }, markers: { positive: ['indeed'] }, source: 'hand' },
      'x.json',
    );
    expect(full.role).toBe('butler');
    expect(full.markers).toEqual({ positive: ['indeed'], negative: [] });
  });

  it.each([
    [{ ...minimal, format: 'other' }, 'x.json: format: is not "persona-studio/prompt-set"'],
    [{ ...minimal, version: 2 }, 'x.json: version: is not 1 (a newer studio wrote this file?)'],
    [{ ...minimal, positive: [] }, 'x.json: positive: has no entries'],
    [{ ...minimal, negative: ['ok', '  '] }, 'x.json: negative[1]: is empty'],
    [
      { ...minimal, questions: [] },
      'x.json: questions: is empty, but kind "system-prompts" needs questions to apply the system prompts to',
    ],
    [{ ...minimal, kind: 'prompts' }, 'x.json: questions: is only used with kind "system-prompts"'],
    [{ ...minimal, extra: 1 }, 'x.json: document: Unrecognized key: "extra"'],
    [{ ...minimal, heldout: { questions: [3] } }, 'x.json: heldout.questions[0]: Invalid input: expected string, received number'],
    [[], 'x.json: document: Invalid input: expected object, received array'],
  ])('refuses %j in one line naming the file and field', (doc, message) => {
    expect(() => parsePromptSetFile(doc, 'x.json')).toThrow(message);
  });

  it('reads files, refusing a folder, a missing file and broken JSON in one line', () => {
    const good = join(root, 'good.json');
    writeFileSync(good, JSON.stringify(minimal));
    expect(readPromptSetFile(good).name).toBe('formal');
    writeFileSync(join(root, 'bad.json'), '{"format": ');
    expect(() => readPromptSetFile(join(root, 'bad.json'))).toThrow(/bad\.json: is not JSON/);
    mkdirSync(join(root, 'dir.json'));
    expect(() => readPromptSetFile(join(root, 'dir.json'))).toThrow(/dir\.json: is not a regular file/);
    expect(() => readPromptSetFile(join(root, 'none.json'))).toThrow(/none\.json: no such file/);
  });
});

describe('the demo prompt sets in assets/', () => {
  const files = readdirSync(PROMPT_SETS_DIR).filter((f) => f.endsWith('.json'));

  it('cover four trait axes and three roles, each with held-out splits and markers', () => {
    expect(files.length).toBe(7);
    for (const f of files) {
      const p = readPromptSetFile(join(PROMPT_SETS_DIR, f));
      expect(p.heldout.positive.length, f).toBeGreaterThan(0);
      expect(p.heldout.questions.length, f).toBeGreaterThan(0);
      expect(p.markers?.positive.length ?? 0, f).toBeGreaterThanOrEqual(f.startsWith('verbose') ? 1 : 5);
      // held-out entries never appear in the training lists
      for (const q of p.heldout.positive) expect(p.positive).not.toContain(q);
      for (const q of p.heldout.questions) expect(p.questions).not.toContain(q);
    }
    expect(
      files
        .filter((f) => f.startsWith('role-'))
        .map((f) => readPromptSetFile(join(PROMPT_SETS_DIR, f)).role)
        .sort(),
    ).toEqual(['chef', 'doctor', 'mathematician']);
  });

  const py = spawnSync('/usr/bin/python3', ['--version']);
  it.skipIf(py.status !== 0)('are exactly what native-models/demo-model/corpus.py writes', () => {
    const out = join(root, 'regen');
    const r = spawnSync(
      '/usr/bin/python3',
      [join(import.meta.dirname, '../../../native-models/demo-model/corpus.py'), '--write-prompt-sets', out],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    for (const f of files) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(PROMPT_SETS_DIR, f), 'utf8'));
  });
});
