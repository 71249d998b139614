// The judge's score against hand-built distributions; the endpoint client against a local server
// answering as llama-server does (recorded shapes), including the failures people hit.
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedJudge, endpointJudge, localJudge, scoreFromLogprobs, scoreFromText, type Judge } from './judge.ts';
import { loadDemoModel, type DemoModel } from '../test-support/demo-model.ts';
import { nextTokenDistribution } from '../engine/scoring.ts';

const ln = Math.log;
const root = mkdtempSync(join(tmpdir(), 'ps-judge-'));

describe('score from the judge distribution', () => {
  it('is the probability-weighted mean over whole-number tokens 0–100, renormalised', () => {
    const s = scoreFromLogprobs([
      { token: '80', logprob: ln(0.5) },
      { token: '90', logprob: ln(0.3) },
      { token: ' 70', logprob: ln(0.1) },
      { token: 'abc', logprob: ln(0.05) },
      { token: '101', logprob: ln(0.03) },
      { token: '7.5', logprob: ln(0.02) },
    ]);
    expect(s.mass).toBeCloseTo(0.9, 12);
    expect(s.score).toBeCloseTo((0.5 * 80 + 0.3 * 90 + 0.1 * 70) / 0.9, 12);
  });
  it('is null when the score tokens hold under a quarter of the probability', () => {
    expect(
      scoreFromLogprobs([
        { token: '50', logprob: ln(0.2) },
        { token: 'The', logprob: ln(0.8) },
      ]),
    ).toEqual({ score: null, mass: expect.closeTo(0.2, 12) });
    expect(scoreFromLogprobs([]).score).toBeNull();
  });
  it('parses a written number when there are no logprobs', () => {
    expect(scoreFromText('Score: 85/100')).toBe(85);
    expect(scoreFromText('I would say 101')).toBeNull();
    expect(scoreFromText('no idea')).toBeNull();
  });
});

// A local OpenAI-compatible server: each test sets how it answers.
let answer: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void = () => {};
const seen: { auth: string | undefined; body: Record<string, unknown> }[] = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    seen.push({ auth: req.headers.authorization, body: body ? (JSON.parse(body) as Record<string, unknown>) : {} });
    answer(req, res, body);
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});
const json = (res: http.ServerResponse, status: number, obj: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(obj));
};
/** The shape llama-server returns for logprobs: true, top_logprobs: 20. */
const withLogprobs = (top: [string, number][]) => ({
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: top[0]![0] },
      logprobs: {
        content: [{ token: top[0]![0], logprob: ln(top[0]![1]), top_logprobs: top.map(([token, p]) => ({ token, logprob: ln(p) })) }],
      },
    },
  ],
});

describe('endpoint judge', () => {
  it('asks with logprobs, sends the key as a bearer token, and weights the score tokens', async () => {
    answer = (_q, res) =>
      json(
        res,
        200,
        withLogprobs([
          ['70', 0.6],
          ['80', 0.4],
        ]),
      );
    const j = endpointJudge({ url, model: 'demo' }, { key: 'sk-test' });
    const r = await j.ask('grade this');
    expect(r).toEqual({ score: expect.closeTo(74, 9), method: 'logprobs', mass: expect.closeTo(1, 9) });
    const last = seen.at(-1)!;
    expect(last.auth).toBe('Bearer sk-test');
    expect(last.body).toMatchObject({ model: 'demo', logprobs: true, top_logprobs: 20, temperature: 0 });
  });

  it('reads the written number when the endpoint gives no logprobs', async () => {
    answer = (_q, res) => json(res, 200, { choices: [{ message: { content: '42' } }] });
    expect(await endpointJudge({ url: `${url}/v1` }, { key: '' }).ask('x')).toEqual({ score: 42, method: 'text', mass: null });
  });

  it('retries a 429 after Retry-After, then answers', async () => {
    let n = 0;
    answer = (_q, res) =>
      n++ === 0 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '0.05' }) : json(res, 200, withLogprobs([['90', 1]]));
    expect((await endpointJudge({ url, retries: 2 }, { key: '' }).ask('x')).score).toBe(90);
    expect(n).toBe(2);
  });

  it.each([
    ['a 401', (res: http.ServerResponse) => json(res, 401, {}), /401 unauthorised: set the API key in PERSONA_STUDIO_JUDGE_KEY/, 'usage'],
    [
      'a 429 past the retries',
      (res: http.ServerResponse) => json(res, 429, {}, { 'retry-after': '0.01' }),
      /rate limited \(429\) after 2 attempts/,
      'resource',
    ],
    ['not JSON', (res: http.ServerResponse) => res.end('<html>'), /the answer is not JSON/, 'format'],
    ['no answer in time', (_res: http.ServerResponse) => {}, /no answer within 0.3 s \(timeout\)/, 'resource'],
  ])('%s is one line with a code', async (_name, how, message, code) => {
    answer = (_q, res) => how(res);
    const p = endpointJudge({ url, retries: 1, timeout: 0.3 }, { key: '' }).ask('x');
    await expect(p).rejects.toThrow(message);
    await expect(p).rejects.toMatchObject({ code });
  });

  it('an unreachable endpoint is one line', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(endpointJudge({ url: `http://127.0.0.1:${port}` }, { key: '' }).ask('x')).rejects.toThrow(/unreachable \(ECONNREFUSED\)/);
  });
});

describe('endpoint judge on answers recorded from a real llama-server', () => {
  // bench/judge-llama-server.ts --record: llama.cpp's llama-server (built natively from the source
  // node-llama-cpp carries) asked the judge's own prompts, on two GGUFs — the demo model exported by
  // bench/engine/gguf-export.ts (a chat model, far too small to grade) and stories260K's (a story
  // model). Neither writes a score, so every answer comes out as method 'none' — parsed, not an
  // error; the replay must reach what the live run concluded, from a request identical to the one
  // the server answered.
  const recorded = JSON.parse(readFileSync(join(import.meta.dirname, 'test-support/llama-server-answers.json'), 'utf8')) as {
    request: { model: string; messages: { role: string; content: string }[] } & Record<string, unknown>;
    status: number;
    response: { choices: { logprobs?: { content?: { top_logprobs: unknown[] }[] } }[] };
    judged: unknown;
  }[];
  it('covers both models', () => {
    expect(new Set(recorded.map((r) => r.request.model))).toEqual(new Set(['demo-model.F32.gguf', 'stories260K.gguf']));
  });
  it.each(recorded.map((r, i) => [i, r.request.model, r] as const))(
    'answer %i (%s): parsed, top-20 logprobs read, no score token: method none',
    async (_i, _model, r) => {
      expect(r.status).toBe(200);
      expect(r.response.choices[0]!.logprobs!.content![0]!.top_logprobs).toHaveLength(20);
      answer = (_q, res) => json(res, 200, r.response);
      const got = await endpointJudge({ url, model: r.request.model }, { key: '' }).ask(r.request.messages[0]!.content);
      expect(got).toEqual({ score: null, method: 'none', mass: null });
      expect(got).toEqual(r.judged);
      expect(seen.at(-1)!.body).toEqual(r.request);
    },
  );
});

describe('cached judge', () => {
  it('asks once per (judge, prompt), survives a cut line, and resumes from its file', async () => {
    let asked = 0;
    const fake: Judge = {
      id: 'fake',
      ask: async () => {
        asked++;
        return { score: 50 + asked, method: 'logprobs', mass: 1 };
      },
    };
    const file = join(root, 'cache.jsonl');
    const a = cachedJudge(fake, file);
    const first = await a.score('trait', 'pirate', 'Q?', 'Arr.');
    expect(first).toMatchObject({ score: 51, cached: false });
    expect(await a.score('trait', 'pirate', 'Q?', 'Arr.')).toMatchObject({ score: 51, cached: true });
    expect((await a.score('coherence', 'pirate', 'Q?', 'Arr.')).cached).toBe(false);
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"k": "cut`);
    const b = cachedJudge(fake, file);
    expect(await b.score('trait', 'pirate', 'Q?', 'Arr.')).toMatchObject({ score: 51, cached: true });
    expect(asked).toBe(2);
  });
});

describe('local judge (the loaded model)', () => {
  let m: DemoModel;
  beforeAll(async () => {
    m = await loadDemoModel(join(root, 'models'));
  });
  afterAll(async () => {
    await m?.model.release();
  });
  it('reads its own next-token distribution; the demo model, never taught to grade, gives no score', async () => {
    const j = localJudge('demo', {
      distribution: ({ prompts }) => nextTokenDistribution(m.model, prompts),
      encodeChat: (p) => m.tokenizer.encodeChat([{ role: 'user', content: p }], { addGenerationPrompt: true }),
      tokenText: (t) => m.tokenizer.decode([t]),
    });
    const r = await j.ask('Answer with one number from 0 to 100 and nothing else.');
    // it answers with a sentence, not a number: too little probability on score tokens
    expect(r).toMatchObject({ score: null, method: 'none' });
    expect(r.mass).toBeGreaterThanOrEqual(0);
    expect(r.mass).toBeLessThan(0.25);
  });
});
