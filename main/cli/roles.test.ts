// persona-studio roles run on the demo model, in-process: roles files parsed strictly; a selected
// role direction raises its domain vocabulary on held-out questions; a killed run resumes to the same
// result; shards exported and merged with library import equal one unsharded run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './test-support/run-cli.ts';
import { DEMO_MODEL_DIR } from '../core/test-support/demo-model.ts';
import { Library } from '../core/library/index.ts';
import { Engine } from '../core/engine/engine.ts';
import { storedRecommendation } from '../core/evaluation/sweep-store.ts';
import { markerStats } from '../core/evaluation/markers.ts';
import { parseRolesText, readBaselineFile, readRolesFile, defaultBaselineFile } from '../core/authoring/roles-file.ts';
import { runRoles, type RoleOutcome } from '../core/authoring/roles.ts';
import type { EvalReport } from '../core/evaluation/evaluate.ts';

const root = mkdtempSync(join(tmpdir(), 'ps-roles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ROLES = join(DEMO_MODEL_DIR, '..', 'roles', 'demo-roles.json');
const small = ['--positions', '2', '--max-new-tokens', '24', '--validation-questions', '6'];
const settings = { positions: 2, maxNewTokens: 24, validationQuestions: 6 };

describe('roles files', () => {
  it('JSON, the short JSON form and JSONL parse to the same roles; bad ones are one line naming the place', () => {
    const doc = parseRolesText(
      JSON.stringify({
        format: 'persona-studio/roles',
        version: 1,
        roles: { chef: { instructions: ['You are a chef.'], markers: ['recipe'] } },
      }),
      'a.json',
    );
    expect(doc).toEqual([{ name: 'chef', instructions: ['You are a chef.'], markers: ['recipe'] }]);
    expect(parseRolesText('{"chef": ["You are a chef.", "Cook."]}', 'b.json')).toEqual([
      { name: 'chef', instructions: ['You are a chef.', 'Cook.'], markers: [] },
    ]);
    expect(
      parseRolesText(
        '{"role":"chef","instruction":"A","markers":["dish"]}\n{"role":"doc","instruction":"B"}\n{"role":"chef","instruction":"C"}\n',
        'c.jsonl',
      ),
    ).toEqual([
      { name: 'chef', instructions: ['A', 'C'], markers: ['dish'] },
      { name: 'doc', instructions: ['B'], markers: [] },
    ]);
    expect(() => parseRolesText('{"role":"chef","instruction":"A"}\n{"role":"chef"', 'd.jsonl')).toThrow('d.jsonl: line 2: not JSON');
    expect(() => parseRolesText('{"chef": []}', 'e.json')).toThrow(/e\.json: roles\.chef/);
    expect(() => parseRolesText('{"bad name!": ["x"]}', 'f.json')).toThrow(/^f\.json: roles\.bad name!: /);
    expect(readRolesFile(ROLES).map((r) => r.name)).toEqual(['chef', 'doctor', 'mathematician']);
    expect(readBaselineFile(defaultBaselineFile()).questions.heldout.length).toBeGreaterThan(5);
  });

  it('flags: --shard and a missing roles file are one line', async () => {
    let r = await runCli(join(root, 'x'), ['roles', 'run', '--model', DEMO_MODEL_DIR, '--roles', ROLES, '--shard', '2/2']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--shard "2/2": expected i/n with 0 <= i < n');
    r = await runCli(join(root, 'x'), ['roles', 'run', '--model', DEMO_MODEL_DIR, '--roles', join(root, 'none.json')]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('none.json: no such file (expected a roles file)');
    r = await runCli(join(root, 'x'), ['roles', 'go']);
    expect(r.err).toContain('roles go: unknown command (expected one of run)');
  });
});

describe('roles run on the demo model', () => {
  const base = join(root, 'base.zip');
  const fresh = async (name: string) => {
    const dir = join(root, name);
    const r = await runCli(dir, ['library', 'import', base]);
    expect(r.code, r.err).toBe(0);
    return dir;
  };
  let whole: RoleOutcome[];
  beforeAll(async () => {
    // One library with the model registered, shared by every run (as a cluster's base library).
    const b = join(root, 'base');
    expect((await runCli(b, ['generate', '--model', DEMO_MODEL_DIR, '--prompt', 'hi', '--max-new-tokens', '1'])).code).toBe(0);
    expect((await runCli(b, ['library', 'export', base])).code).toBe(0);
    const r = await runCli(await fresh('whole'), ['roles', 'run', '--model', DEMO_MODEL_DIR, '--roles', ROLES, ...small, '--json']);
    expect(r.code, r.err).toBe(0);
    whole = (JSON.parse(r.out) as { roles: RoleOutcome[] }).roles;
  }, 300_000);

  /** What a run left in a library: each role persona's vectors and stored recommendation. */
  const contents = (dataDir: string) => {
    const lib = Library.open({ dataDir });
    try {
      return ['chef', 'doctor', 'mathematician'].map((role) => {
        const [p] = lib.personas.named(`role:${role}`);
        const v = lib.vectors.get(lib.vectors.list({ personaId: p!.id })[0]!.id)!;
        const rec = storedRecommendation(lib, p!.id, v.id);
        return {
          role,
          layers: v.layers.map((l) => [l.layer, Array.from(l.vector)]),
          rec: rec && { layer: rec.layer, alpha: rec.alpha, rule: rec.rule },
        };
      });
    } finally {
      lib.close();
    }
  };

  it('the chef direction chosen on validation raises chef words on held-out questions over many seeded samples', async () => {
    const chef = whole.find((o) => o.role === 'chef')!;
    console.log(
      whole
        .map(
          (o) =>
            `${o.role}: layer ${o.layer} position −${o.position} ${o.selectedBy} ${o.score?.toFixed(2)} (unsteered ${o.baselineScore?.toFixed(2)}) KL ${o.kl?.toFixed(2)}`,
        )
        .join('; '),
    );
    expect(chef.layer).not.toBeNull();
    expect(chef.kl!).toBeLessThanOrEqual(2);
    const heldout = readBaselineFile(defaultBaselineFile()).questions.heldout.slice(0, 10);
    const qfile = join(root, 'heldout.json');
    writeFileSync(qfile, JSON.stringify(heldout));
    // eval steers at the stored recommendation: the role's choice
    const r = await runCli(join(root, 'whole'), [
      'eval',
      '--model',
      DEMO_MODEL_DIR,
      '--persona',
      'role:chef',
      '--questions',
      qfile,
      '--samples',
      '6',
      '--max-new-tokens',
      '32',
      '--seed',
      '77',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out) as EvalReport;
    expect(rep.steeredAt).toMatchObject({ source: 'recommendation', layer: chef.layer, alpha: chef.alpha });
    const markers = { positive: readRolesFile(ROLES)[0]!.markers, negative: [] };
    const score = (a: number | null) =>
      markerStats(
        rep.samples.filter((s) => s.alpha === a).map((s) => s.text),
        markers,
      ).score;
    console.log(
      `chef words per 100 words on ${heldout.length} held-out questions × 6 seeds: unsteered ${score(null).toFixed(2)}, steered ${score(chef.alpha).toFixed(2)}`,
    );
    expect(rep.samples.filter((s) => s.alpha === null)).toHaveLength(60);
    expect(score(chef.alpha)).toBeGreaterThan(score(null) + 1);
  }, 300_000);

  it('a killed run resumes to the same result', async () => {
    const dir = await fresh('killed');
    const roles = readRolesFile(ROLES);
    const baseline = readBaselineFile(defaultBaselineFile());
    const go = async (signal?: AbortSignal, onProgress?: (p: { role: string; stage: string }) => void) => {
      const lib = Library.open({ dataDir: dir });
      const engine = new Engine({ inProcess: true });
      try {
        return await runRoles(
          lib,
          dir,
          {
            load: (d) => engine.load(d, { provider: 'cpu' }),
            residualNorms: (a) => engine.residualNorms(a),
            generate: (q, o) => engine.generate(q, o),
            capture: (a, o) => engine.capture(a, o),
            score: (a, o) => engine.score(a, o),
            distribution: (a, o) => engine.distribution(a, o),
          },
          { model: DEMO_MODEL_DIR, roles, baseline, settings, signal, onProgress },
        );
      } finally {
        lib.close();
        await engine.close();
      }
    };
    const ac = new AbortController();
    let sweeps = 0;
    await expect(
      go(ac.signal, (p) => {
        // killed in the doctor role's second candidate sweep, after its first finished
        if (p.role === 'doctor' && p.stage === 'score' && ++sweeps > 4) ac.abort(new Error('killed'));
      }),
    ).rejects.toThrow('killed');
    const resumed = await go();
    expect(resumed.map((o) => o.reused)).toEqual([true, false, false]);
    const strip = (xs: RoleOutcome[]) => xs.map(({ personaId: _p, vectorId: _v, reused: _r, ...rest }) => rest);
    expect(strip(resumed)).toEqual(strip(whole));
    expect(contents(dir)).toEqual(contents(join(root, 'whole')));
  }, 300_000);

  it('two shards, exported and merged with library import, equal one unsharded run', async () => {
    const merged = await fresh('merged');
    for (const i of [0, 1]) {
      const dir = await fresh(`shard${i}`);
      const r = await runCli(dir, ['roles', 'run', '--model', DEMO_MODEL_DIR, '--roles', ROLES, ...small, '--shard', `${i}/2`]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`shard ${i}/2: ${i === 0 ? 2 : 1} of 3 roles`);
      expect((await runCli(dir, ['library', 'export', join(root, `shard${i}.zip`)])).code).toBe(0);
      const m = await runCli(merged, ['library', 'import', join(root, `shard${i}.zip`)]);
      expect(m.code, m.err).toBe(0);
    }
    expect(contents(merged)).toEqual(contents(join(root, 'whole')));
    const lib = Library.open({ dataDir: merged });
    try {
      expect(lib.models.list()).toHaveLength(1);
      expect(
        lib.personas
          .list({})
          .map((p) => p.name)
          .sort(),
      ).toEqual(['role:chef', 'role:doctor', 'role:mathematician']);
    } finally {
      lib.close();
    }
  }, 300_000);
});
