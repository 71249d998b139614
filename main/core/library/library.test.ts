import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShapeMismatchError } from '../formats/errors.ts';
import { exportVectors } from '../formats/index.ts';
import { bits, sampleInput, sampleSet } from '../formats/test-support/sample.ts';
import type { Library } from './library.ts';
import { layerVector, type ModelRecord } from './schema.ts';
import { tempLibrary } from './test-support/lib.ts';

let t: ReturnType<typeof tempLibrary>;
let lib: Library;
let model: ModelRecord;
beforeEach(() => {
  t = tempLibrary();
  lib = t.lib;
  model = t.model;
});
afterEach(() => t.cleanup());

const NASTY = [
  `Robert'); DROP TABLE personas;--`,
  'say "hi"\nand then\r\nleave',
  'Pirate 🏴‍☠️ 🙂 ünïcödé',
  '100% _literal_ \\ back',
  `' OR 1=1 --`,
];

describe('personas', () => {
  it('stores names with quotes, SQL, newlines and emoji exactly, and finds them by search', () => {
    const ids = NASTY.map((name) => lib.personas.create({ name, description: `about ${name}`, tags: [name.slice(0, 10)] }).id);
    expect(
      lib.personas
        .list()
        .map((p) => p.name)
        .sort(),
    ).toEqual([...NASTY].sort());
    ids.forEach((id, i) => expect(lib.personas.require(id).name).toBe(NASTY[i]));
    expect(lib.personas.list({ search: 'DROP TABLE' }).map((p) => p.name)).toEqual([NASTY[0]]);
    expect(lib.personas.list({ search: '🏴‍☠️' }).map((p) => p.name)).toEqual([NASTY[2]]);
    expect(lib.personas.list({ search: '100%' }).map((p) => p.name)).toEqual([NASTY[3]]);
    expect(lib.personas.list({ search: '%' }).length).toBe(1); // % is literal, not a wildcard
    expect(lib.personas.list({ search: '_' }).length).toBe(1);
    expect(lib.personas.list({ search: `' OR` }).map((p) => p.name)).toEqual([NASTY[4]]);
    expect(lib.personas.list({ search: 'and then' }).map((p) => p.name)).toEqual([NASTY[1]]);
    expect(lib.personas.list({ tag: NASTY[0]!.slice(0, 10) }).map((p) => p.id)).toEqual([ids[0]]);
    expect(lib.db.prepare('SELECT count(*) AS n FROM personas').get()).toEqual({ n: 5 });
  });

  it('filters by tag and model, renames, duplicates with vectors, deletes with undo', () => {
    const other = lib.models.add({
      name: 'other',
      source: '/models/other',
      sourceKind: 'path',
      architecture: 'llama',
      hiddenSize: 8,
      numLayers: 4,
    });
    const a = lib.createPersonaWithVectors({ name: 'Formal', tags: ['style', 'work'] }, model.id, sampleSet()).persona;
    const b = lib.createPersonaWithVectors(
      { name: 'Casual', tags: ['style'] },
      'other',
      sampleSet({ hidden: 8, numLayers: 4, layers: [2] }),
    ).persona;
    lib.personas.create({ name: 'Empty' });
    expect(lib.personas.list({ tag: 'style' }).map((p) => p.name)).toEqual(['Casual', 'Formal']);
    expect(lib.personas.list({ modelId: model.id }).map((p) => p.name)).toEqual(['Formal']);
    expect(lib.personas.list({ modelId: other.id }).map((p) => p.name)).toEqual(['Casual']);
    expect(lib.personas.tags()).toEqual([
      { tag: 'style', count: 2 },
      { tag: 'work', count: 1 },
    ]);
    expect(lib.personas.rename(a.id, 'Very formal').name).toBe('Very formal');

    const copy = lib.duplicatePersona(a.id);
    expect(copy.name).toBe('Very formal (copy)');
    expect(lib.duplicatePersona(a.id).name).toBe('Very formal (copy 2)');
    const orig = lib.vectors.latest(a.id)!;
    const dup = lib.vectors.latest(copy.id)!;
    expect(dup.id).not.toBe(orig.id);
    expect(dup.layers.map((l) => bits(l.vector))).toEqual(orig.layers.map((l) => bits(l.vector)));

    lib.personas.delete(b.id);
    expect(lib.personas.list().map((p) => p.name)).not.toContain('Casual');
    expect(lib.personas.list({ deleted: 'only' }).map((p) => p.name)).toEqual(['Casual']);
    expect(() => lib.models.delete(model.id)).toThrow(/still has 3 persona vectors/);
    lib.personas.restore(b.id);
    expect(lib.personas.list().map((p) => p.name)).toContain('Casual');

    lib.personas.delete(b.id);
    const bv = lib.vectors.latest(b.id)!;
    expect(lib.emptyTrash()).toEqual({ personas: 1, vectors: 0, promptSets: 0, models: 0 });
    expect(lib.personas.get(b.id)).toBeNull();
    expect(lib.vectors.get(bv.id)).toBeNull();
    lib.models.delete(other.id);
    expect(lib.emptyTrash().models).toBe(1);
  });

  it('refuses bad input with one line naming the field', () => {
    expect(() => lib.personas.create({ name: '   ' })).toThrow('persona.name: name is empty');
    expect(() => lib.personas.create({ name: 'x', tags: ['a'.repeat(65)] })).toThrow(/^persona\.tags\.0: /);
    expect(() => lib.personas.require('nope')).toThrow('persona nope is not in the library');
  });
});

describe('vectors', () => {
  it('store every layer bit-exactly with norms, stats and provenance', () => {
    const set = sampleSet();
    const { vector } = lib.createPersonaWithVectors({ name: 'p' }, model.id, set);
    const got = lib.vectors.require(vector.id);
    expect(got.layers.map((l) => [l.layer, bits(l.vector), l.norm, l.separation])).toEqual(
      set.layers.map((l) => [l.layer, bits(l.vector), l.norm, l.separation]),
    );
    expect(got.provenance).toEqual(set.provenance);
    expect(got.counts).toEqual(set.counts);
    expect([got.method, got.reduction, got.modelHash, got.modelId]).toEqual([set.method, set.reduction, set.modelHash, set.modelId]);
    expect(bits(lib.vectors.layer(vector.id, 4))).toEqual(bits(set.layers[2]!.vector));
    expect(lib.vectors.list({ personaId: vector.personaId })[0]!.layers.map((l) => l.layer)).toEqual([1, 2, 4]);
  });

  it('refuse a set whose shape does not fit the model, naming both shapes', () => {
    const p = lib.personas.create({ name: 'p' });
    expect(() => lib.vectors.save(p.id, model.id, sampleSet({ hidden: 8 }))).toThrow(ShapeMismatchError);
    expect(() => lib.vectors.save(p.id, model.id, sampleSet({ numLayers: 5 }))).toThrow(
      'vectors have hidden size 16 × 5 layers but model tiny has hidden size 16 × 6 layers',
    );
    const bad = sampleSet();
    bad.layers[0]!.vector[3] = Number.NaN;
    expect(() => lib.vectors.save(p.id, model.id, bad)).toThrow('vector set: layer 1 value 3 is NaN');
    const unsorted = sampleSet();
    unsorted.layers.reverse();
    expect(() => lib.vectors.save(p.id, model.id, unsorted)).toThrow(/sorted and unique/);
    expect(lib.vectors.list().length).toBe(0);
  });

  it('a·v1 + b·v2 and orthogonalisation are saved as new personas with lineage', () => {
    const mk = (name: string, vals: number[][]) =>
      lib.createPersonaWithVectors({ name }, model.id, {
        ...sampleSet(),
        layers: vals.map((v, i) =>
          layerVector(
            i + 1,
            Float32Array.from({ length: 16 }, (_, j) => v[j % v.length]!),
          ),
        ),
      }).vector;
    const v1 = mk('A', [
      [1, 0],
      [2, 2],
    ]);
    const v2 = mk('B', [
      [0, 1],
      [1, -1],
    ]);
    const sum = lib.combine({ name: 'A+B', tags: ['mix'] }, [
      { vectorId: v1.id, coef: 2 },
      { vectorId: v2.id, coef: -0.5 },
    ]);
    expect(Array.from(sum.vector.layers[0]!.vector.slice(0, 2))).toEqual([2, -0.5]);
    expect(Array.from(sum.vector.layers[1]!.vector.slice(0, 2))).toEqual([3.5, 4.5]);
    expect(sum.vector.method).toBe('arithmetic');
    expect(sum.vector.provenance.lineage).toEqual({
      op: 'combine',
      terms: [
        { vectorId: v1.id, personaId: v1.personaId, personaName: 'A', coef: 2 },
        { vectorId: v2.id, personaId: v2.personaId, personaName: 'B', coef: -0.5 },
      ],
    });
    expect(sum.persona.tags).toEqual(['mix']);
    const orth = lib.orthogonalize({ name: 'A⊥B' }, v1.id, v2.id);
    for (const [i, l] of orth.vector.layers.entries()) {
      const u = v2.layers[i]!.vector;
      const dot = l.vector.reduce((s, x, j) => s + x * u[j]!, 0);
      expect(Math.abs(dot)).toBeLessThan(1e-5);
    }
    expect(Array.from(orth.vector.layers[0]!.vector.slice(0, 2))).toEqual([1, 0]);
    expect(orth.vector.provenance.lineage?.op).toBe('orthogonalize');
  });
});

describe('import and export through the library', () => {
  it('imports every format for a chosen model and exports it again', () => {
    const src = sampleInput(sampleSet());
    const dir = t.dir;
    const files = {
      studio: join(dir, 'a.persona.safetensors'),
      gguf: join(dir, 'a.gguf'),
      'persona-vectors': join(dir, 'calm_response_avg_diff.pt'),
      safetensors: join(dir, 'a.safetensors'),
    } as const;
    for (const [fmt, path] of Object.entries(files)) exportVectors(path, fmt as keyof typeof files, src);
    for (const [fmt, path] of Object.entries(files)) {
      const r = lib.importPersona(path, { model: 'tiny/test-model', tags: ['imported'] });
      expect(r.format).toBe(fmt);
      expect(r.vector.layers.map((l) => bits(l.vector))).toEqual(src.set.layers.map((l) => bits(l.vector)));
      expect(r.vector.provenance.source?.format).toBe(fmt);
      expect(r.persona.tags).toContain('imported');
    }
    expect(
      lib.personas
        .list({ tag: 'imported' })
        .map((p) => p.name)
        .sort(),
    ).toEqual(['Formal "tone"', 'Formal "tone"', 'Formal "tone"', 'calm']);
    const p = lib.personas.list({ search: 'calm' })[0]!;
    const out = lib.exportPersona(p.id, { format: 'gguf', dir });
    expect(out.files).toEqual([join(dir, 'calm.gguf')]);
    const back = lib.importPersona(out.files[0]!, { model: model.id, personaId: p.id });
    expect(back.persona.id).toBe(p.id);
    expect(lib.vectors.list({ personaId: p.id }).length).toBe(2);
  });

  it('exports names with quotes, SQL, newlines and emoji to safe file names and back', () => {
    for (const name of NASTY) {
      const { persona } = lib.createPersonaWithVectors({ name }, model.id, sampleSet());
      const out = lib.exportPersona(persona.id, { format: 'studio', dir: t.dir });
      expect(out.files[0]!.slice(t.dir.length + 1)).toMatch(/^[\p{L}\p{N}\-_.]+\.persona\.safetensors$/u);
      expect(lib.previewImport(out.files[0]!).persona.name).toBe(name);
    }
  });

  it('refuses a file for the wrong model, naming both shapes, and stores nothing', () => {
    const path = join(t.dir, 'wide.gguf');
    exportVectors(path, 'gguf', sampleInput(sampleSet({ hidden: 32, numLayers: 6 })));
    const preview = lib.previewImport(path, { model: model.id });
    expect(preview.fit).toEqual({
      ok: false,
      error: `${path}: vectors have hidden size 32 × 6 layers but model tiny has hidden size 16 × 6 layers`,
      warnings: [],
    });
    expect(preview.layers.map((l) => l.layer)).toEqual([1, 2, 4]);
    expect(() => lib.importPersona(path, { model: model.id })).toThrow(
      `${path}: vectors have hidden size 32 × 6 layers but model tiny has hidden size 16 × 6 layers`,
    );
    expect(lib.personas.list()).toEqual([]);
  });
});

describe('prompt sets, jobs and records', () => {
  it('prompt sets keep immutable versions with content hashes', () => {
    const { set, version } = lib.promptSets.create({ name: 'formality', items: { positive: ['Write "formally"\n'], negative: ['yo 🤙'] } });
    expect(version.version).toBe(1);
    const v2 = lib.promptSets.addVersion(set.id, { positive: ['a', 'b'], negative: ['c'], evaluation: ['e'] }, 'more');
    expect(v2.version).toBe(2);
    expect(lib.promptSets.version(set.id, 1).items.positive).toEqual(['Write "formally"\n']);
    expect(lib.promptSets.version(set.id).items).toMatchObject({
      positive: ['a', 'b'],
      negative: ['c'],
      evaluation: ['e'],
      baseline: [],
      questions: [],
      'heldout-questions': [],
    });
    expect(v2.contentHash).not.toBe(version.contentHash);
    expect(
      lib.promptSets.create({ name: 'same', items: { positive: ['a', 'b'], negative: ['c'], evaluation: ['e'] } }).version.contentHash,
    ).toBe(v2.contentHash);
    expect(lib.promptSets.get(set.id)!.latestVersion).toBe(2);
  });

  it('jobs record progress and resumable state; running jobs become paused after a restart', () => {
    const j = lib.jobs.create({ kind: 'capture', params: { layers: [1, 2] } });
    expect(j.status).toBe('queued');
    lib.jobs.update(j.id, { status: 'running', progress: 0.25, state: { done: 12 } });
    expect(() => lib.jobs.update(j.id, { progress: 2 })).toThrow('job.progress: 2 is outside 0..1');
    expect(lib.jobs.markInterrupted()).toEqual([j.id]);
    const paused = lib.jobs.require(j.id);
    expect([paused.status, paused.state, paused.startedAt !== null]).toEqual(['paused', { done: 12 }, true]);
    const done = lib.jobs.update(j.id, { status: 'succeeded', progress: 1, result: { ok: true } });
    expect(done.finishedAt).not.toBeNull();
    expect(lib.jobs.list({ status: ['succeeded'] }).map((x) => x.id)).toEqual([j.id]);
  });

  it('evaluations, comparisons and chats', () => {
    const p = lib.personas.create({ name: 'p' });
    const e = lib.evaluations.create({
      name: 'sweep',
      kind: 'layer-alpha',
      personaId: p.id,
      grid: { layers: [1, 2], alphas: [0, 4] },
      samples: [{ layer: 1, alpha: 4, prompt: 'q', output: 'a', scores: { trait: 80 } }],
    });
    lib.evaluations.addSamples(e.id, [{ layer: 2, alpha: 0, prompt: 'q2', output: 'a2', scores: {} }]);
    expect(lib.evaluations.samples(e.id).map((s) => s.seq)).toEqual([0, 1]);
    expect(lib.evaluations.list({ personaId: p.id }).length).toBe(1);
    const c = lib.comparisons.save({ name: 'alphas', config: { alphas: [0, 2] } });
    expect(lib.comparisons.save({ id: c.id, name: 'alphas 2', config: {}, results: [1] }).name).toBe('alphas 2');
    const chat = lib.chats.create({ title: 'try 🙂', modelId: model.id, settings: { alpha: 4 } });
    lib.chats.append(chat.id, { role: 'user', content: 'hi\n"there"' });
    lib.chats.append(chat.id, { role: 'assistant', content: 'hello' });
    expect(lib.chats.messages(chat.id).map((m) => [m.seq, m.role, m.content])).toEqual([
      [0, 'user', 'hi\n"there"'],
      [1, 'assistant', 'hello'],
    ]);
  });
});
