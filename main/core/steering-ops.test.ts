// The app's steering ops (preload/contract.ts, "ui-b: steering ops") through the app service, on the
// demo model with a persona trained in a temporary library: multi-turn chat with its trait meter,
// and a live α change mid-reply (chat.steer), checked by identity against a fresh reply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appContract, type AppArgs, type AppContract, type AppResult } from '../../preload/contract.ts';
import { createAppService, type AppService } from './app-service.ts';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR } from './test-support/demo-model.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ps-steering-ops-'));
let service: AppService;
let modelId: string;

type Op = keyof AppContract & string;
type Listener = (payload: never) => void;

/** One op through the service as the server runs it: args parsed by the contract, events and result checked against it. */
async function call<K extends Op>(op: K, args: AppArgs<K>, on: Record<string, Listener> = {}, signal?: AbortSignal): Promise<AppResult<K>> {
  const spec = appContract[op] as {
    args: { parse(x: unknown): unknown };
    result: { parse(x: unknown): unknown };
    events?: Record<string, { parse(x: unknown): unknown }>;
  };
  const handler = service.handlers[op] as (a: unknown, ctx: unknown) => Promise<unknown>;
  const result = await handler(spec.args.parse(args), {
    id: 1,
    signal: signal ?? new AbortController().signal,
    emit: (event: string, payload: unknown) => {
      const schema = spec.events?.[event];
      if (!schema) throw new Error(`${op}: event ${event} is not declared`);
      (on[event] as ((p: unknown) => void) | undefined)?.(schema.parse(payload));
    },
  });
  return spec.result.parse(result) as AppResult<K>;
}

beforeAll(async () => {
  service = createAppService({ dataDir, threads: 1 });
  modelId = (await call('models.compile', { checkpointDir: DEMO_MODEL_DIR })).modelId;
  await call('personas.train', {
    model: modelId,
    name: 'pirate',
    promptSet: join(PROMPT_SETS_DIR, 'pirate-vs-plain.json'),
    settings: { maxPairs: 8, maxNewTokens: 16, batchSize: 8 },
  });
}, 180_000);
afterAll(async () => {
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const question = [{ role: 'user' as const, content: 'Describe islands for me.' }];
const steer = (alpha: number) => ({ personas: [{ persona: 'pirate', alpha }] });

describe('chat', () => {
  it('streams a reply whose tokens add up to it, with a projection per token on the first persona and the seed offset per turn', async () => {
    const pieces: string[] = [];
    const projections: number[] = [];
    const meters: { persona: string; layer: number; scale: number | null }[] = [];
    const messages = [
      ...question,
      { role: 'assistant' as const, content: 'Islands are land in the sea.' },
      { role: 'user' as const, content: 'Tell me more.' },
    ];
    const r = await call(
      'chat',
      { model: modelId, messages, steering: steer(0.5), sampling: { seed: 5 }, maxNewTokens: 16 },
      {
        token: ((t: { text: string; projection?: number }) => {
          pieces.push(t.text);
          if (t.projection !== undefined) projections.push(t.projection);
        }) as Listener,
        meter: ((m: (typeof meters)[number]) => meters.push(m)) as Listener,
      },
    );
    expect(pieces.join('')).toBe(r.text);
    expect(r.seed).toBe(6); // one assistant turn before: the CLI chat's seed + turn
    expect(meters).toHaveLength(1);
    expect(meters[0]!.persona).toBe('pirate');
    expect(meters[0]!.scale).toBeGreaterThan(0);
    expect(r.projections).toEqual(projections);
    expect(r.projections).toHaveLength(r.tokens);
    expect(r.steering[0]).toContain('pirate α 0.5 (norm)');
    expect(r.restyles).toEqual([]);
  }, 60_000);

  it('rejects a conversation that does not end with the user', () => {
    expect(() => appContract.chat.args.parse({ model: 'm', messages: [{ role: 'assistant', content: 'hi' }] })).toThrow(
      'the last message must be the user turn',
    );
  });
});

describe('chat.steer: a live α change mid-reply', () => {
  const N = 40;
  const greedy = { greedy: true };

  it('keeps the streamed prefix and continues exactly as a fresh reply from that prefix under the new α', async () => {
    const before = await call('chat', { model: modelId, messages: question, steering: steer(0), sampling: greedy, maxNewTokens: N });
    expect(before.tokens).toBeGreaterThan(12); // long enough to cut at token 6

    const shown: { index: number; text: string }[] = [];
    let steered: Promise<AppResult<'chat.steer'>> | null = null;
    const live = await call(
      'chat',
      { model: modelId, messages: question, steering: steer(0), sampling: greedy, maxNewTokens: N, stream: 'live-1' },
      {
        token: ((t: { index: number; text: string }) => {
          shown.push(t);
          if (t.index === 5) steered = call('chat.steer', { stream: 'live-1', steering: steer(2) });
        }) as Listener,
      },
    );
    expect(await steered!).toEqual({ applied: true });
    expect(live.restyles).toHaveLength(1);
    const cutAt = live.restyles[0]!.index;
    expect(cutAt).toBeGreaterThanOrEqual(6);
    expect(live.restyles[0]!.steering[0]).toContain('pirate α 2');
    // What was shown before the change is kept, and is what α 0 gave.
    const prefix = shown
      .filter((t) => t.index < cutAt)
      .map((t) => t.text)
      .join('');
    expect(live.text.startsWith(prefix)).toBe(true);
    expect(before.text.startsWith(prefix)).toBe(true);
    expect(shown.map((t) => t.text).join('')).toBe(live.text);
    // The rest is what a fresh reply from that prefix under α 2 gives, token for token.
    const fresh = await call('chat', {
      model: modelId,
      messages: question,
      continueFrom: prefix,
      steering: steer(2),
      sampling: greedy,
      maxNewTokens: N - cutAt,
    });
    expect(live.text).toBe(fresh.text);
    expect(live.tokens).toBe(cutAt + fresh.tokens);
    // …and α 2 changed the reply.
    expect(live.text).not.toBe(before.text);
  }, 120_000);

  it('answers applied: false for no running reply, and refuses a bad persona in one line', async () => {
    expect(await call('chat.steer', { stream: 'nothing-running', steering: steer(1) })).toEqual({ applied: false });
    let bad: Promise<unknown> | null = null;
    const r = await call(
      'chat',
      { model: modelId, messages: question, steering: steer(0), sampling: greedy, maxNewTokens: 12, stream: 'live-2' },
      {
        token: ((t: { index: number }) => {
          if (t.index === 2)
            bad = call('chat.steer', { stream: 'live-2', steering: { personas: [{ persona: 'nobody', alpha: 1 }] } }).then(
              () => null,
              (e: unknown) => e,
            );
        }) as Listener,
      },
    );
    expect(String(await bad!)).toMatch(/persona "nobody": no persona has that id or name/);
    expect(r.restyles).toEqual([]);
  }, 60_000);
});

describe('compare.save / compare.list', () => {
  it('saves a finished comparison in the library and lists it back', async () => {
    const config = {
      model: modelId,
      prompt: 'Describe caves for me.',
      steering: steer(1),
      alphas: [0, 1],
      maxNewTokens: 12,
      sampling: { seed: 4 },
    };
    const cmp = await call('compare', config);
    expect(cmp.columns.map((c) => c.alpha)).toEqual([0, 1]);
    const first = await call('compare.save', { name: 'caves', config, results: cmp });
    const second = await call('compare.save', { name: 'caves again', config, results: cmp });
    const list = await call('compare.list', {});
    expect(list.map((c) => c.id).sort()).toEqual([first.id, second.id].sort());
    const saved = list.find((c) => c.id === first.id)!;
    expect(saved.name).toBe('caves');
    expect(saved.results.columns).toEqual(cmp.columns);
    expect(saved.config.steering.personas).toEqual([{ persona: 'pirate', alpha: 1 }]);
    expect(() => appContract['compare.save'].args.parse({ name: ' ', config, results: cmp })).toThrow();
  }, 60_000);
});

describe('sweep.run / sweep.list / sweep.get / sweep.use', () => {
  const args = {
    model: 'demo-model',
    persona: 'pirate',
    layers: '4-5',
    alphas: [0.5, 1],
    questions: ['Describe islands for me.', 'What makes music special?', 'Describe caves for me.'],
    maxNewTokens: 16,
    rule: { maxPerplexityIncrease: 100, maxKl: 1000 }, // a 16-token tiny sweep: any cell with a gain may be recommended
  };

  it('runs a sweep with progress, resumes after a cancel, stores it, and a chosen cell steers chat', async () => {
    // Cancelled in scoring: the generation batch is checkpointed, so the same call resumes it.
    const ac = new AbortController();
    await expect(
      call('sweep.run', args, { progress: ((p: { stage: string }) => p.stage === 'score' && ac.abort()) as Listener }, ac.signal),
    ).rejects.toThrow();
    const stages = new Set<string>();
    const etas: (number | null | undefined)[] = [];
    const r = await call('sweep.run', args, {
      progress: ((p: { stage: string; etaMs?: number | null }) => {
        stages.add(p.stage);
        etas.push(p.etaMs);
      }) as Listener,
    });
    expect(r.resumedBatches).toBe(1);
    expect([...stages].sort()).toEqual(['generate', 'score']);
    expect(etas.some((e) => typeof e === 'number')).toBe(true);
    const s = r.sweep;
    expect(s.cells.map((c) => [c.layer, c.alpha])).toEqual([
      [4, 0.5],
      [4, 1],
      [5, 0.5],
      [5, 1],
    ]);
    expect(s.samples).toHaveLength(5 * 3); // baseline + 4 cells, 3 questions
    expect(s.samples.filter((x) => x.layer === null)).toHaveLength(3);
    expect(s.questionsFrom).toBe('3 given questions');
    expect(s.recommendation.layer, s.recommendation.reason).not.toBeNull();
    expect(s.inUse).toEqual({ layer: s.recommendation.layer, alpha: s.recommendation.alpha, evaluationId: s.id });

    const list = await call('sweep.list', { persona: 'pirate' });
    expect(list.map((x) => x.id)).toEqual([s.id]);
    expect(await call('sweep.get', { sweep: s.id })).toEqual(s);

    // Choose the cell that was not recommended: steering with no layers given now uses its layer.
    const other = s.cells.find((c) => c.layer !== s.recommendation.layer)!;
    const used = await call('sweep.use', { sweep: s.id, layer: other.layer, alpha: other.alpha });
    expect(used.inUse).toMatchObject({ layer: other.layer, alpha: other.alpha });
    expect((await call('sweep.get', { sweep: s.id })).inUse).toEqual(used.inUse);
    const chat = await call('chat', { model: modelId, messages: question, steering: steer(1), maxNewTokens: 4 });
    expect(chat.steering[0]).toContain(`at layer ${other.layer} (layer from its sweep)`);
    await expect(call('sweep.use', { sweep: s.id, layer: 0, alpha: 1 })).rejects.toThrow('layer 0, α 1: not a cell of sweep');
    await expect(call('sweep.get', { sweep: 'nope' })).rejects.toThrow('sweep "nope": no stored sweep has that id');
  }, 180_000);
});
