// Browser mode end to end on loopback: the real app service (library in a temp data dir, the Engine
// in its worker) behind the real HTTP/WebSocket server, called through the renderer's client over
// the `ws` package; and the server's refusals (token, Origin, Host, non-loopback host).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { WebSocket } from 'ws';
import { createAppService, type AppService } from '../core/app-service.ts';
import { startStudioServer, type StudioServer } from './server.ts';
import { connectStudio, rpcUrl, type SocketLike, type StudioClient } from '../../preload/contract-client.ts';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR } from '../core/test-support/demo-model.ts';
import { main } from '../cli/main.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ps-serve-'));
let service: AppService;
let server: StudioServer;
const logLines: string[] = [];
let origin: string;
let token: string;
const finishes: string[] = [];

/** A `ws` socket as the renderer's client sees a browser's (a browser sends its page's Origin itself). */
const wsSocket =
  (headers: { origin?: string; host?: string } = {}) =>
  (url: string): SocketLike =>
    new WebSocket(url, { origin: headers.origin ?? origin, headers: headers.host ? { host: headers.host } : {} }) as unknown as SocketLike;

const connect = () => connectStudio(rpcUrl(server.url), wsSocket());

beforeAll(async () => {
  service = createAppService({ dataDir, threads: 1 });
  // generate's handler as served, its results recorded: a call whose socket closed has no other witness.
  const handlers = {
    ...service.handlers,
    generate: async (...a: Parameters<typeof service.handlers.generate>) => {
      const r = await service.handlers.generate(...a);
      finishes.push(r.finish);
      return r;
    },
  };
  server = await startStudioServer({ handlers, port: 0, staticDir: null, log: (l) => logLines.push(l) });
  origin = `http://127.0.0.1:${server.port}`;
  token = new URL(server.url).searchParams.get('token')!;
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('browser mode: every operation through a real WebSocket', () => {
  let client: StudioClient;
  let modelId: string;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(() => client?.close());

  it('compiles the demo model with progress events and lists it', async () => {
    const progress: string[] = [];
    const r = await client.api['models.compile'](
      { checkpointDir: DEMO_MODEL_DIR },
      { on: { progress: (p) => progress.push(`${p.stage} ${p.done}/${p.total}`) } },
    );
    expect(existsSync(join(r.dir, 'manifest.json'))).toBe(true);
    expect(progress).toContain('hash 0/1');
    expect(progress.some((p) => p.startsWith('build '))).toBe(true);
    modelId = r.modelId;
    const models = await client.api['models.list']({});
    expect(models.map((m) => m.id)).toEqual([modelId]);
    expect(models[0]!.variants.map((v) => v.path)).toEqual([r.dir]);
    expect(models[0]!.numLayers).toBe(r.numLayers);
  });

  it('generates with token events that add up to the reply', async () => {
    const pieces: string[] = [];
    const r = await client.api.generate(
      { model: modelId, prompt: 'Tell me about the sea.', maxNewTokens: 12, sampling: { seed: 3 } },
      { on: { token: (t) => pieces.push(t.text) } },
    );
    expect(r.tokens).toBeGreaterThan(0);
    expect(pieces.join('')).toBe(r.text);
    expect(r.seed).toBe(3);
    const status = await client.api['models.status']({});
    expect(status?.hasTokenizer).toBe(true);
  });

  it('trains a tiny persona with progress events, then steers, compares and manages it', async () => {
    const stages = new Set<string>();
    const t = await client.api['personas.train'](
      {
        model: modelId,
        name: 'cheery',
        promptSet: join(PROMPT_SETS_DIR, 'cheerful-vs-gloomy.json'),
        settings: { maxPairs: 4, maxNewTokens: 8, batchSize: 4 },
      },
      { on: { progress: (p) => stages.add(p.stage) } },
    );
    expect([...stages].sort()).toEqual(['capture', 'generate']);
    expect(t.counts).toEqual({ positive: 4, negative: 4 });
    expect(t.layers.length).toBeGreaterThan(0);

    const steered = await client.api.generate({
      model: modelId,
      prompt: 'How was your day?',
      maxNewTokens: 8,
      steering: { personas: [{ persona: 'cheery', alpha: 1 }] },
    });
    expect(steered.steering).toHaveLength(1);
    expect(steered.steering[0]).toContain('cheery α 1 (norm)');

    const rows = new Set<number>();
    const cmp = await client.api.compare(
      { model: modelId, prompt: 'How was your day?', maxNewTokens: 8, alphas: [-1, 0, 1], steering: { personas: [{ persona: 'cheery' }] } },
      { on: { token: (e) => rows.add(e.row) } },
    );
    expect(cmp.columns.map((c) => c.alpha)).toEqual([-1, 0, 1]);
    expect([...rows].sort()).toEqual([0, 1, 2]);

    const list = await client.api['personas.list']({});
    expect(list.map((p) => p.name)).toEqual(['cheery']);
    const shown = await client.api['personas.show']({ persona: 'cheery' });
    expect(shown.vectors[0]!.counts).toEqual({ positive: 4, negative: 4 });
    expect((await client.api['personas.rename']({ persona: t.persona.id, name: 'sunny' })).name).toBe('sunny');
    await client.api['personas.delete']({ persona: 'sunny' });
    expect(await client.api['personas.list']({})).toEqual([]);
    expect((await client.api['personas.list']({ trash: true })).map((p) => p.name)).toEqual(['sunny']);
    await client.api['personas.restore']({ persona: 'sunny' });

    const exported = await client.api['personas.export']({ persona: 'sunny', format: 'studio', dir: dataDir });
    expect(exported.files).toHaveLength(1);
    const imported = await client.api['personas.import']({ file: exported.files[0]!, model: modelId, name: 'sunny again' });
    expect(imported.persona.name).toBe('sunny again');
    expect(imported.format).toBe('studio');

    const sets = await client.api['promptSets.list']({});
    expect(sets.map((s) => s.name)).toContain('cheerful-vs-gloomy');
    const v = await client.api['promptSets.show']({ promptSet: 'cheerful-vs-gloomy' });
    expect(v.version.items.positive.length).toBeGreaterThan(0);
  });

  // ---- eval: evaluation ops ----
  it('evaluates a persona with progress events, writes its report, and cancels', async () => {
    const stages = new Set<string>();
    const report = join(dataDir, 'eval.json');
    const r = await client.api['eval.run'](
      { model: modelId, persona: 'sunny', settings: { maxNewTokens: 8, alphas: [0.5] }, report },
      { on: { progress: (p) => stages.add(p.stage) } },
    );
    expect([...stages].sort()).toEqual(['generate', 'score']);
    expect(r.report.steeredAt).toMatchObject({ source: 'default', alpha: 1 });
    expect(r.report.steered.map((c) => c.alpha)).toEqual([0.5, 1]);
    expect(r.reportFile).toEqual({ path: report, kind: 'json', fallback: null });
    expect(JSON.parse(readFileSync(report, 'utf8')).samples).toHaveLength(r.report.samples.length);
    await expect(
      client.api['eval.run']({ model: modelId, persona: 'sunny', settings: {}, report: join(dataDir, 'x.txt') }),
    ).rejects.toThrow('report');
    const ac = new AbortController();
    const cancelled = client.api['eval.run'](
      { model: modelId, persona: 'sunny', settings: { maxNewTokens: 64, seed: 9 } },
      { signal: ac.signal, on: { progress: () => ac.abort() } },
    );
    await expect(cancelled).rejects.toThrow(/abort|cancel/i);
  });

  it('refuses bad args with one line naming the field', async () => {
    await expect(client.api['personas.rename']({ persona: 'x', name: '' })).rejects.toThrow(/^studio request args\.name: /);
    await expect(client.api['personas.show']({ persona: 'no such' })).rejects.toThrow('persona: no persona "no such"');
  });

  it('cancels a long generate when asked, and when its socket closes', async () => {
    const ac = new AbortController();
    const r = await client.api.generate(
      { model: modelId, prompt: 'Tell me a long story.', maxNewTokens: 1000, sampling: { greedy: true } },
      { signal: ac.signal, on: { token: () => ac.abort() } },
    );
    expect(r.finish).toBe('cancelled');
    expect(r.tokens).toBeLessThan(1000);

    const other = await connect();
    let started!: () => void;
    const firstToken = new Promise<void>((resolve) => (started = resolve));
    const call = other.api.generate(
      { model: modelId, prompt: 'Tell me a long story.', maxNewTokens: 1000 },
      { on: { token: () => started() } },
    );
    await firstToken;
    expect(server.inFlight()).toBe(1);
    other.close();
    await expect(call).rejects.toThrow('connection to the server closed');
    // The server cancelled the call for the closed socket: the handler answered long before 1000 tokens.
    await vi.waitFor(() => expect(server.inFlight()).toBe(0), { timeout: 60_000, interval: 50 });
    expect(finishes.at(-1)).toBe('cancelled');
  });
});

describe('browser mode: refusals', () => {
  const refused = (url: string, headers: { origin?: string; host?: string } = {}) =>
    expect(connectStudio(url, wsSocket(headers))).rejects.toThrow('the server refused the connection');
  const rpc = () => `ws://127.0.0.1:${server.port}/rpc`;

  it('no token, a wrong token, a wrong Origin or a wrong Host: refused, one log line each', async () => {
    const before = logLines.length;
    await refused(rpc());
    await refused(`${rpc()}?token=${'x'.repeat(token.length)}`);
    await refused(`${rpc()}?token=${token}`, { origin: 'http://evil.example' });
    await refused(`${rpc()}?token=${token}`, { host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}` });
    const lines = logLines.slice(before);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^refused WebSocket \/rpc from .*: no token$/);
    expect(lines[1]).toMatch(/: wrong token$/);
    expect(lines[2]).toMatch(/: Origin "http:\/\/evil.example" is not this server's$/);
    expect(lines[3]).toMatch(/: Host header "evil.example:\d+" is not this server$/);
    expect(lines.join('\n')).not.toContain(token);
  });

  it('the right token, Origin and Host: accepted (localhost too)', async () => {
    const c = await connectStudio(
      `ws://localhost:${server.port}/rpc?token=${token}`,
      wsSocket({ origin: `http://localhost:${server.port}` }),
    );
    expect(Array.isArray(await c.api['promptSets.list']({}))).toBe(true);
    c.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string; cookie?: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body, cookie: res.headers['set-cookie']?.[0] }));
        })
        .on('error', reject);
    });

  it('HTTP: / needs the token (URL or cookie) and says the renderer is not built', async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/', { host: `evil.example:${server.port}` })).status).toBe(403);
    const ok = await get(`/?token=${token}`);
    expect(ok.status).toBe(404);
    expect(ok.body).toBe('Persona Studio: the renderer is not built; the contract is served at /rpc (WebSocket).\n');
    expect(ok.cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await get('/', { cookie: ok.cookie!.split(';')[0]! })).status).toBe(404);
  });

  it('listens on loopback only by default; a non-loopback host needs allowNonLoopback', async () => {
    expect(server.host).toBe('127.0.0.1');
    await expect(startStudioServer({ handlers: service.handlers, host: '0.0.0.0', log: () => {} })).rejects.toThrow(
      '--host 0.0.0.0: not a loopback address',
    );
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!external) {
      console.log('skipped the external-interface probe: this machine has no non-loopback IPv4 address');
      return;
    }
    const reached = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: external, port: server.port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    expect(reached).toBe(false);
  });

  it('serve: a bad --port is one line and a non-zero exit', async () => {
    const err: string[] = [];
    const code = await main(['--data-dir', dataDir, 'serve', '--port', '70000'], { stdout: () => {}, stderr: (s) => err.push(s) });
    expect(code).not.toBe(0);
    expect(err.join('')).toMatch(/^[^\n]*--port[^\n]*\n$/);
  });
});
