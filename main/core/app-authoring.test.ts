// The authoring screens' operations (the `ui-a` block of preload/contract.ts) through the real app
// service: a temp data dir, the demo model compiled and trained on for real. Each call goes through
// the contract's schemas both ways, as over the WebSocket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appContract, type AppArgs, type AppContract, type AppResult } from '../../preload/contract.ts';
import { createAppService, type AppService } from './app-service.ts';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR } from './test-support/demo-model.ts';
import { Library } from './library/index.ts';
import { trainSettingsSchema } from './authoring/train-persona.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ps-authoring-'));
let service: AppService;

type Op = keyof AppContract & string;
/** One call as the server makes it: args parsed by the contract, the result checked by it. */
async function call<K extends Op>(
  op: K,
  args: AppArgs<K>,
  onEvent?: (event: string, value: unknown) => void,
  signal = new AbortController().signal,
): Promise<AppResult<K>> {
  const spec = appContract[op];
  const handler = service.handlers[op] as (a: unknown, ctx: unknown) => unknown;
  const value = await handler(spec.args.parse(args), {
    id: 1,
    signal,
    emit: (event: string, v: unknown) => onEvent?.(event, v),
  });
  return spec.result.parse(value) as AppResult<K>;
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: Error) => e.message,
  );

beforeAll(() => {
  service = createAppService({ dataDir, threads: 1 });
});
afterAll(async () => {
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('app.memory', () => {
  it("gives the studio process's resident size (the engine's worker included) and the machine's memory", async () => {
    const m = await call('app.memory', {});
    expect(m.processBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(m.machineTotalBytes).toBeGreaterThan(m.processBytes);
    expect(m.machineFreeBytes).toBeLessThanOrEqual(m.machineTotalBytes);
  });
});

describe('files: the server-side picker', () => {
  it('names the places to start from, the shipped demo model among them', async () => {
    const p = await call('files.places', {});
    expect(p.dataDir).toBe(dataDir);
    expect(p.demoModel).toBe(DEMO_MODEL_DIR);
    expect(p.promptSets).toBe(PROMPT_SETS_DIR);
  });

  it('lists one folder, folders first, with sizes and the parent', async () => {
    const dir = join(dataDir, 'pick');
    mkdirSync(join(dir, 'zeta'), { recursive: true });
    writeFileSync(join(dir, 'alpha.txt'), 'hello\n');
    const r = await call('files.list', { dir });
    expect(r.parent).toBe(dataDir);
    expect(r.entries.map((e) => [e.name, e.kind, e.size])).toEqual([
      ['zeta', 'dir', null],
      ['alpha.txt', 'file', 6],
    ]);
    expect(r.truncated).toBe(false);
  });

  it('refuses a relative path, a missing folder and a file, each in one line naming it', async () => {
    expect(await failure(call('files.list', { dir: 'relative/x' }))).toBe('dir "relative/x": give an absolute path');
    expect(await failure(call('files.list', { dir: join(dataDir, 'nope') }))).toBe(`dir ${join(dataDir, 'nope')}: no such folder`);
    writeFileSync(join(dataDir, 'f.txt'), 'x');
    expect(await failure(call('files.list', { dir: join(dataDir, 'f.txt') }))).toBe(
      `dir ${join(dataDir, 'f.txt')}: is a file, not a folder`,
    );
  });
});

describe('prompt sets and prompt lists', () => {
  it('lists the shipped prompt sets and reads one', async () => {
    const shipped = await call('promptSets.shipped', {});
    expect(shipped.map((s) => s.name)).toContain('formal-vs-casual');
    const one = shipped.find((s) => s.name === 'pirate-vs-plain')!;
    const doc = await call('promptSets.readFile', { file: one.file });
    expect(doc.positive.length).toBe(one.positive);
    expect(doc.kind).toBe(one.kind);
  });

  it('reads prompt lists (.txt, .jsonl) and refuses a prompt-set file as a list', async () => {
    writeFileSync(join(dataDir, 'p.txt'), 'one\n\ntwo\n');
    writeFileSync(join(dataDir, 'p.jsonl'), '{"instruction":"Add","input":"2+2"}\n"plain"\n');
    expect((await call('prompts.readList', { file: join(dataDir, 'p.txt') })).prompts).toEqual(['one', 'two']);
    expect((await call('prompts.readList', { file: join(dataDir, 'p.jsonl') })).prompts).toEqual(['Add\n\n2+2', 'plain']);
    expect(await failure(call('prompts.readList', { file: join(PROMPT_SETS_DIR, 'pirate-vs-plain.json') }))).toContain(
      'is a prompt-set file',
    );
  });

  it('saves a prompt set as a version (the same prompts reuse it), and names a bad field in one line', async () => {
    const set = { name: 'tiny', kind: 'prompts' as const, positive: ['Be happy.'], negative: ['Be sad.'] };
    const a = await call('promptSets.save', { set });
    expect(a).toMatchObject({ version: 1, added: true });
    expect((await call('promptSets.save', { set })).added).toBe(false);
    const b = await call('promptSets.save', { set: { ...set, positive: ['Be happy.', 'Be glad.'] } });
    expect(b).toMatchObject({ version: 2, added: true });
    const shown = await call('promptSets.show', { promptSet: 'tiny' });
    expect(shown.version.items.positive).toEqual(['Be happy.', 'Be glad.']);
    expect(await failure(call('promptSets.save', { set: { ...set, positive: ['  '] } }))).toContain('positive[0]');
    expect((await call('promptSets.document', { promptSet: 'tiny', version: 1 })).positive).toEqual(['Be happy.']);
  });

  it('a shipped set saved to the library comes back whole as a document (held-out split included)', async () => {
    const file = await call('promptSets.readFile', { file: join(PROMPT_SETS_DIR, 'formal-vs-casual.json') });
    expect(file.heldout.questions.length).toBeGreaterThan(0);
    const saved = await call('promptSets.save', { set: file });
    expect(await call('promptSets.document', { promptSet: saved.promptSet.id })).toEqual(file);
    expect(await failure(call('promptSets.document', { promptSet: 'nope' }))).toBe(
      'promptSet "nope": no library prompt set has that name or id',
    );
  });

  it("training defaults are the core's, with their docs", async () => {
    const d = await call('personas.trainDefaults', {});
    expect(d.defaults).toEqual(trainSettingsSchema.parse({}));
    expect(d.docs.maxPairs).toContain('pairs');
  });
});

describe('with the demo model', () => {
  let modelId: string;
  const progress: string[] = [];
  beforeAll(async () => {
    // Cancelled mid-build (the UI's Cancel): refused in one line, nothing recorded.
    const ac = new AbortController();
    const cancelled = await failure(
      call(
        'models.compile',
        { checkpointDir: DEMO_MODEL_DIR, precision: 'fp16' },
        (_, v) => (v as { stage: string }).stage === 'build' && ac.abort(),
        ac.signal,
      ),
    );
    expect(cancelled).toBe('compile cancelled');
    expect(await call('models.list', {})).toEqual([]);

    const r = await call('models.compile', { checkpointDir: DEMO_MODEL_DIR }, (e, v) =>
      progress.push(`${e} ${(v as { stage: string }).stage}`),
    );
    modelId = r.modelId;
  });
  const train = (name: string, set: string) =>
    call('personas.train', {
      model: modelId,
      name,
      promptSet: join(PROMPT_SETS_DIR, `${set}.json`),
      settings: { maxPairs: 4, maxNewTokens: 6, batchSize: 4 },
    });

  it('reports the disk its compiled variant takes', async () => {
    expect(progress).toContain('progress build');
    const d = await call('models.disk', {});
    expect(d.variants).toHaveLength(1);
    expect(d.variants[0]!.bytes).toBeGreaterThan(100_000);
    expect(d.totalBytes).toBe(d.variants[0]!.bytes);
  });

  it('combines a·P1 + b·P2 per layer with lineage, equal to the naive sum; duplicates; tags', async () => {
    const p1 = await train('cheery', 'cheerful-vs-gloomy');
    const p2 = await train('formal', 'formal-vs-casual');
    const c = await call('personas.combine', {
      name: 'cheery-formal',
      terms: [
        { persona: 'cheery', coef: 0.5 },
        { persona: 'formal', coef: -2 },
      ],
    });
    expect(c.lineage).toEqual({
      op: 'combine',
      terms: [
        { vectorId: p1.vectorId, personaId: p1.persona.id, personaName: 'cheery', coef: 0.5 },
        { vectorId: p2.vectorId, personaId: p2.persona.id, personaName: 'formal', coef: -2 },
      ],
    });
    const lineage = await call('personas.lineage', { persona: 'cheery-formal' });
    expect(lineage).toEqual([{ vectorId: c.vectorId, libraryModelId: modelId, method: 'arithmetic', lineage: c.lineage }]);
    expect((await call('personas.lineage', { persona: 'cheery' }))[0]!.lineage).toBeNull();

    const lib = Library.open({ dataDir });
    try {
      const [v1, v2, vc] = [p1.vectorId, p2.vectorId, c.vectorId].map((id) => lib.vectors.require(id));
      expect(vc!.layers.map((l) => l.layer)).toEqual(v1!.layers.map((l) => l.layer));
      for (const l of vc!.layers) {
        const a = v1!.layers.find((x) => x.layer === l.layer)!.vector;
        const b = v2!.layers.find((x) => x.layer === l.layer)!.vector;
        let maxErr = 0;
        for (let j = 0; j < a.length; j++) maxErr = Math.max(maxErr, Math.abs(l.vector[j]! - (0.5 * a[j]! - 2 * b[j]!)));
        expect(maxErr).toBeLessThan(1e-5);
      }
    } finally {
      lib.close();
    }

    const copy = await call('personas.duplicate', { persona: 'cheery' });
    expect(copy.name).toBe('cheery (copy)');
    expect((await call('personas.show', { persona: copy.id })).vectors).toHaveLength(1);
    await call('personas.update', { persona: 'cheery', tags: ['mood', 'demo'] });
    expect(await call('personas.tags', {})).toEqual([
      { tag: 'demo', count: 1 },
      { tag: 'mood', count: 1 },
    ]);
    expect(await failure(call('personas.combine', { name: 'x', terms: [{ persona: 'nobody', coef: 1 }] }))).toContain('nobody');
  });

  it('drafts a prompt set from a description and says which path wrote it, saving nothing', async () => {
    const before = (await call('promptSets.list', {})).length;
    const stages = new Set<string>();
    const r = await call('promptSets.fromDescription', { model: modelId, name: 'sailor', description: 'a sailor', numPrompts: 4 }, (_, v) =>
      stages.add((v as { stage: string }).stage),
    );
    expect(['model', 'template']).toContain(r.source);
    expect(r.why).toMatch(r.source === 'model' ? /loaded model wrote it/ : /template was used/);
    if (r.source === 'template') expect(r.refusals).toHaveLength(3);
    expect(r.set.positive.length).toBeGreaterThan(1);
    expect(r.set.positive.join(' ')).toContain('sailor');
    expect(stages.has('generate')).toBe(true);
    expect((await call('promptSets.list', {})).length).toBe(before);
  });

  it('removing: a used model is refused; its last variant goes with a warning (it recompiles from the source)', async () => {
    expect(await failure(call('models.remove', { model: modelId }))).toMatch(/still has \d+ persona vectors/);
    const { variants } = await call('models.disk', {});
    const r = await call('models.removeVariant', { variant: variants[0]!.variantId });
    expect(r.removedBytes).toBe(variants[0]!.bytes);
    expect(r.warning).toBe(`4 personas use demo-model: it compiles again from ${DEMO_MODEL_DIR} when next used`);
    expect(existsSync(variants[0]!.path)).toBe(false);
    expect((await call('models.disk', {})).totalBytes).toBe(0);
    expect(await failure(call('models.removeVariant', { variant: variants[0]!.variantId }))).toContain('no compiled variant');
  });
});
