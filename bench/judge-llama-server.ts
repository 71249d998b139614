// The endpoint judge against a real llama-server (built from the llama.cpp source node-llama-cpp
// carries: bench/build-llama-cpp.sh). Starts the server on a GGUF model on 127.0.0.1, asks the
// judge's trait and coherence prompts, and prints what came back: the scoring method (logprobs over
// the score tokens, a written number, or none), the score-token mass and the time per request.
// `--record FILE` keeps the server's raw answers and what the judge made of them (the judge tests
// replay them); answers already in FILE from other models are kept.
//
//   npx tsx bench/judge-llama-server.ts [--server PATH] [--gguf PATH|demo] [--record FILE]
//
// Default model: the demo model (assets/demo-model), exported to an F32 GGUF in .bench/ by our
// exporter. It is a chat model, but far too small to grade: this checks the mechanics — request,
// logprobs, parsing, the "no score" path — not judging. stories260K's GGUF
// (../shared/models/stories260K/stories260K.gguf) is a story model that never writes a score.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { endpointJudge, judgePrompt, type Fetch } from '../main/core/evaluation/judge.ts';
import { exportQwen3Gguf } from './engine/gguf-export.ts';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: process.env.LLAMA_SERVER ?? '/work/llama.cpp/build/bin/llama-server' },
    gguf: { type: 'string', default: 'demo' },
    record: { type: 'string' },
  },
});
if (!fs.existsSync(values.server!)) {
  console.log(`skipped: --server ${values.server} does not exist (build llama.cpp with bench/build-llama-cpp.sh)`);
  process.exit(0);
}
const repo = path.resolve(import.meta.dirname, '..');
const demoDir = path.join(repo, 'assets', 'demo-model');
const gguf =
  values.gguf === 'demo'
    ? exportQwen3Gguf({
        checkpointDir: demoDir,
        out: path.join(repo, '.bench', 'demo-model.F32.gguf'),
        type: 'F32',
        tokenizerJson: path.join(demoDir, 'tokenizer.json'),
      }).path
    : path.resolve(values.gguf!);
if (!fs.existsSync(gguf)) {
  console.log(`skipped: --gguf ${gguf} does not exist`);
  process.exit(0);
}

const port = await new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(p));
  });
});
// ChatML: the demo model's own template, and what llama-server would use for stories260K (which has none).
const server = spawn(
  values.server!,
  ['-m', gguf, '--host', '127.0.0.1', '--port', String(port), '-c', '1024', '-t', '2', '--chat-template', 'chatml'],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
let log = '';
server.stderr.on('data', (d: Buffer) => (log += d.toString()));
const url = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 200 || server.exitCode !== null) throw new Error(`llama-server did not start:\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const recorded: { request: { model: string }; status: number; response: unknown; judged?: unknown }[] = [];
  const recording: Fetch = async (input, init) => {
    const res = await fetch(input, init);
    const body = await res.text();
    recorded.push({ request: JSON.parse(String(init?.body)), status: res.status, response: JSON.parse(body) });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  const judge = endpointJudge({ url, model: path.basename(gguf) }, { fetch: recording, key: '' });
  const cases = [
    { trait: 'cheerful', question: 'How was your day?', response: 'It was a wonderful, sunny day and I loved every minute!' },
    { trait: 'cheerful', question: 'How was your day?', response: 'Grey and long. Nothing went right.' },
  ];
  console.log(`llama-server ${url} on ${gguf}`);
  console.log('aspect     trait     method    score  mass   ms');
  for (const c of cases)
    for (const aspect of ['trait', 'coherence'] as const) {
      const t0 = performance.now();
      const r = await judge.ask(judgePrompt(aspect, c.trait, c.question, c.response));
      recorded.at(-1)!.judged = r;
      console.log(
        `${aspect.padEnd(10)} ${c.trait.padEnd(9)} ${r.method.padEnd(9)} ${String(r.score ?? '-').padStart(5)}  ${r.mass === null ? '  -  ' : r.mass.toFixed(3)}  ${(performance.now() - t0).toFixed(0)}`,
      );
    }
  if (values.record) {
    const model = path.basename(gguf);
    const earlier = fs.existsSync(values.record)
      ? (JSON.parse(fs.readFileSync(values.record, 'utf8')) as typeof recorded).filter((r) => r.request.model !== model)
      : [];
    fs.writeFileSync(values.record, `${JSON.stringify([...earlier, ...recorded], null, 1)}\n`);
    console.log(`recorded ${recorded.length} answers in ${values.record}`);
  }
} finally {
  server.kill('SIGTERM');
}
