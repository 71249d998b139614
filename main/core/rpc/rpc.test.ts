// A contract end to end over both transports the studio uses: structured clone (worker_threads,
// Electron IPC) and JSON text (browser mode's WebSocket, through the codec).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract, type Handlers } from './contract.ts';
import { createClient } from './client.ts';
import { createServer } from './server.ts';
import { fromJson, toJson } from './codec.ts';
import { float32Array } from './schemas.ts';

const contract = defineContract({
  add: { args: z.object({ a: z.number(), b: z.number().default(1) }), result: z.number() },
  scale: {
    args: z.object({ vectors: z.map(z.number().int(), float32Array()), k: z.number() }),
    result: z.map(z.number().int(), float32Array()),
    events: { progress: z.object({ done: z.number().int(), total: z.number().int() }) },
  },
  /** Runs until cancelled. */
  wait: { args: z.object({}), result: z.literal('cancelled') },
  fail: { args: z.object({}), result: z.null() },
  /** A peer that disagrees with the contract (as a stale worker build would). */
  stale: { args: z.object({}), result: z.object({ n: z.number() }), events: { tick: z.object({ at: z.number() }) } },
});

const handlers: Handlers<typeof contract> = {
  add: ({ a, b }) => a + b,
  scale: async ({ vectors, k }, { emit }) => {
    const out = new Map<number, Float32Array>();
    for (const [layer, v] of vectors) {
      out.set(
        layer,
        v.map((x) => x * k),
      );
      emit('progress', { done: out.size, total: vectors.size });
    }
    return out;
  },
  wait: (_args, { signal }) =>
    new Promise((resolve) => {
      if (signal.aborted) resolve('cancelled');
      else signal.addEventListener('abort', () => resolve('cancelled'));
    }),
  fail: () => {
    throw Object.assign(new Error('no model is loaded\nstack detail'), { name: 'ModelLoadError' });
  },
  stale: (_args, { emit }) => {
    emit('tick', { at: 'late' } as never);
    return { n: 'one' } as never;
  },
};

type Mode = 'clone' | 'json';
const carry = (mode: Mode, m: unknown) => (mode === 'json' ? fromJson(toJson(m)) : structuredClone(m));

function connect(mode: Mode) {
  const sent: unknown[] = [];
  const server = createServer(contract, handlers, { name: 'test', send: (m) => setImmediate(() => client.receive(carry(mode, m))) });
  const client = createClient(contract, {
    name: 'test',
    send: (m) => {
      sent.push(m);
      setImmediate(() => server.receive(carry(mode, m)));
    },
  });
  return { client, server, sent };
}

describe.each(['clone', 'json'] as const)('rpc over %s', (mode) => {
  it('calls typed methods, applies arg defaults in the callee and streams events', async () => {
    const { client } = connect(mode);
    expect(await client.api.add({ a: 2 })).toBe(3);
    const progress: number[] = [];
    const v = new Map([
      [0, Float32Array.of(1, 2)],
      [5, Float32Array.of(-1, NaN)],
    ]);
    const out = await client.api.scale({ vectors: v, k: 2 }, { on: { progress: (p) => progress.push(p.done) } });
    expect(out).toEqual(
      new Map([
        [0, Float32Array.of(2, 4)],
        [5, Float32Array.of(-2, NaN)],
      ]),
    );
    expect(out.get(5)).toBeInstanceOf(Float32Array);
    expect(progress).toEqual([1, 2]);
  });

  it('cancels a running call through its AbortSignal, and one aborted before it was sent', async () => {
    const { client, sent } = connect(mode);
    const ac = new AbortController();
    const running = client.api.wait({}, { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    expect(await running).toBe('cancelled');
    expect(await client.api.wait({}, { signal: AbortSignal.abort() })).toBe('cancelled');
    expect(sent.filter((m) => (m as { type: string }).type === 'cancel')).toHaveLength(2);
  });

  it('rejects bad args in one line naming the field, and passes errors through by name', async () => {
    const { client } = connect(mode);
    await expect(client.api.add({ a: 'x' as never })).rejects.toThrow(/^test request args\.a: .*expected number/);
    await expect(client.call('nope' as 'add', { a: 1 })).rejects.toThrow("test request op: unknown operation 'nope'");
    const err = await client.api.fail({}).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'ModelLoadError', message: 'no model is loaded' });
  });

  it('refuses a result or event that breaks the contract', async () => {
    const { client } = connect(mode);
    await expect(client.api.stale({})).rejects.toThrow(/^test result stale\.n: .*expected number/);
    await expect(client.api.stale({}, { on: { tick: () => {} } })).rejects.toThrow(/^test event stale\.tick\.at: .*expected number/);
  });

  it('rejects every pending and later call once the transport is closed', async () => {
    const { client } = connect(mode);
    const pending = client.api.wait({});
    client.close(new Error('worker exited'));
    await expect(pending).rejects.toThrow('worker exited');
    await expect(client.api.add({ a: 1 })).rejects.toThrow('worker exited');
  });
});

describe('rpc server input', () => {
  it('answers a malformed envelope with a ProtocolError naming the field', async () => {
    const answers: unknown[] = [];
    const server = createServer(contract, handlers, { name: 'test', send: (m) => answers.push(m) });
    server.receive({ type: 'call', id: 7, op: 'add' });
    server.receive('garbage');
    server.receive({ type: 'call', id: 8.5, op: 'add', args: {} });
    expect(answers).toEqual([
      { type: 'error', id: 7, name: 'ProtocolError', message: expect.stringMatching(/^test request args: /) },
      { type: 'error', id: -1, name: 'ProtocolError', message: expect.stringMatching(/^test request/) },
      { type: 'error', id: 8.5, name: 'ProtocolError', message: expect.stringMatching(/^test request id: /) },
    ]);
  });
});

describe('abort listeners', () => {
  it('a settled call leaves no listener on its signal (one signal may span thousands of calls)', async () => {
    const contract = defineContract({ ping: { args: z.object({}), result: z.number() } });
    const client: ReturnType<typeof createClient<typeof contract>> = createClient(contract, {
      name: 't',
      send: (m) => {
        const msg = m as { type: string; id: number };
        if (msg.type === 'call') queueMicrotask(() => client.receive({ type: 'result', id: msg.id, value: 1 }));
      },
    });
    const ac = new AbortController();
    let added = 0;
    let removed = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const rem = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...a: Parameters<typeof add>) => {
      added++;
      add(...a);
    }) as typeof add;
    ac.signal.removeEventListener = ((...a: Parameters<typeof rem>) => {
      removed++;
      rem(...a);
    }) as typeof rem;
    for (let i = 0; i < 20; i++) expect(await client.call('ping', {}, { signal: ac.signal })).toBe(1);
    expect(added).toBe(20);
    expect(removed).toBe(20);
  });
});
