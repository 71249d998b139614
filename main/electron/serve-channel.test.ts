// The desktop app's transport without Electron: the real app service (library in a temp data dir,
// the Engine in its worker) served over a real MessagePort pair (Node's MessageChannel has the DOM's
// structured clone and close semantics), called through the renderer's own client (connectChannel),
// and the page side of the bridge handshake (connectBridge) with a window stand-in.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createAppService, type AppService } from '../core/app-service.ts';
import { serveChannel, type ServedChannel } from './serve-channel.ts';
import {
  connectBridge,
  connectChannel,
  findBridge,
  portChannel,
  type BridgeWindow,
  type Channel,
  type StudioClient,
} from '../../preload/contract-client.ts';
import { BRIDGE_KEY, PORT_MESSAGE } from '../../preload/contract-bridge.ts';
import { DEMO_MODEL_DIR } from '../core/test-support/demo-model.ts';

/** Main's end of a Node MessagePort, as main/electron/ipc.ts adapts Electron's MessagePortMain. */
function mainEnd(port: MessagePort): Channel {
  return {
    send: (m) => port.postMessage(m),
    onMessage: (listener) => port.on('message', listener),
    onClose: (listener) => port.on('close', listener),
    close: () => port.close(),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'ps-channel-'));
let service: AppService;
const finishes: string[] = [];
const logLines: string[] = [];
const served: ServedChannel[] = [];

/** A fresh port pair: main serves one end, the returned client holds the other. */
function open(): { client: StudioClient; server: ServedChannel } {
  const { port1, port2 } = new MessageChannel();
  const handlers = {
    ...service.handlers,
    // generate as served, its results recorded: a call whose page went away has no other witness.
    generate: async (...a: Parameters<typeof service.handlers.generate>) => {
      const r = await service.handlers.generate(...a);
      finishes.push(r.finish);
      return r;
    },
  };
  const server = serveChannel(mainEnd(port1), handlers, (l) => logLines.push(l));
  served.push(server);
  return { client: connectChannel(portChannel(port2 as unknown as Parameters<typeof portChannel>[0]), 'the app'), server };
}

beforeAll(() => {
  service = createAppService({ dataDir, threads: 1 });
});
afterAll(async () => {
  for (const s of served) s.close();
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the app contract over a MessagePort', () => {
  let client: StudioClient;
  let modelId: string;
  beforeAll(() => {
    client = open().client;
  });
  afterAll(() => client?.close());

  it('answers calls, and refuses bad arguments naming the field', async () => {
    expect(await client.api['models.list']({})).toEqual([]);
    await expect(client.api['personas.rename']({ persona: 'x', name: '   ' })).rejects.toThrow(/^studio request args\.name: /);
    await expect(client.api['personas.show']({ persona: 'nobody' })).rejects.toMatchObject({ name: 'not-found' });
  });

  it('streams compile progress, then generate tokens that add up to the reply', async () => {
    const progress: string[] = [];
    const r = await client.api['models.compile']({ checkpointDir: DEMO_MODEL_DIR }, { on: { progress: (p) => progress.push(p.stage) } });
    modelId = r.modelId;
    expect(progress).toContain('build');
    const pieces: string[] = [];
    const g = await client.api.generate(
      { model: modelId, prompt: 'Tell me about the sea.', maxNewTokens: 12, sampling: { seed: 3 } },
      { on: { token: (t) => pieces.push(t.text) } },
    );
    expect(g.tokens).toBeGreaterThan(0);
    expect(pieces.join('')).toBe(g.text);
  });

  it('cancels a generate when asked, and when the page closes its port', async () => {
    const ac = new AbortController();
    const r = await client.api.generate(
      { model: modelId, prompt: 'Tell me a long story.', maxNewTokens: 1000, sampling: { greedy: true } },
      { signal: ac.signal, on: { token: () => ac.abort() } },
    );
    expect(r.finish).toBe('cancelled');

    const other = open();
    let started!: () => void;
    const firstToken = new Promise<void>((resolve) => (started = resolve));
    const call = other.client.api.generate(
      { model: modelId, prompt: 'Tell me a long story.', maxNewTokens: 1000 },
      { on: { token: () => started() } },
    );
    await firstToken;
    expect(other.server.inFlight()).toBe(1);
    other.client.close();
    await expect(call).rejects.toThrow('the connection to the app closed');
    // Main saw the port close and cancelled the call: the handler answered long before 1000 tokens.
    await vi.waitFor(() => expect(other.server.inFlight()).toBe(0), { timeout: 60_000, interval: 50 });
    expect(finishes.at(-1)).toBe('cancelled');
  });

  it('answers a result structured clone cannot carry with an error instead of hanging', async () => {
    const { port1, port2 } = new MessageChannel();
    const server = serveChannel(mainEnd(port1), { ...service.handlers, 'models.list': async () => [{ bad: () => 0 }] as never }, (l) =>
      logLines.push(l),
    );
    served.push(server);
    const c = connectChannel(portChannel(port2 as unknown as Parameters<typeof portChannel>[0]));
    await expect(c.api['models.list']({})).rejects.toMatchObject({ name: 'ProtocolError' });
    expect(logLines.at(-1)).toMatch(/^studio: could not send result of call 1: /);
    c.close();
  });
});

describe('the page side of the bridge', () => {
  /** A window stand-in: an EventTarget with an origin, as the page's window is to connectBridge. */
  function fakeWindow(origin: string): BridgeWindow & EventTarget {
    return Object.assign(new EventTarget(), { location: { origin } }) as BridgeWindow & EventTarget;
  }

  it('finds the bridge only where the preload exposed one', () => {
    expect(findBridge({})).toBeNull();
    expect(findBridge({ [BRIDGE_KEY]: { connect: 1 } })).toBeNull();
    const bridge = { connect: () => {} };
    expect(findBridge({ [BRIDGE_KEY]: bridge })).toBe(bridge);
  });

  it("takes the port from the preload's message to its own origin, ignoring others", async () => {
    const win = fakeWindow('app://studio');
    const { port1, port2 } = new MessageChannel();
    const stray = new MessageChannel();
    const server = serveChannel(mainEnd(port1), service.handlers, (l) => logLines.push(l));
    served.push(server);
    const bridge = {
      connect: () => {
        // What another frame or origin might post first: each is ignored.
        win.dispatchEvent(
          new MessageEvent('message', { data: PORT_MESSAGE, origin: 'https://evil.example', ports: [stray.port1] as never }),
        );
        win.dispatchEvent(new MessageEvent('message', { data: 'other', origin: 'app://studio', ports: [stray.port2] as never }));
        win.dispatchEvent(new MessageEvent('message', { data: PORT_MESSAGE, origin: 'app://studio', ports: [port2] as never }));
      },
    };
    const c = await connectBridge(bridge, win);
    expect(await c.api['promptSets.list']({})).toEqual([]);
    c.close();
    stray.port1.close();
  });

  it('gives up with one line when main never answers (it refused the sender)', async () => {
    const silent = { connect: () => {} };
    await expect(connectBridge(silent, fakeWindow('app://studio'), 20)).rejects.toThrow(
      'studio: the app did not open a channel within 0.02 s (its log says why)',
    );
  });
});
