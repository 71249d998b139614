// eval.export through the app service: a stored evaluation's report written again from the library,
// without re-running the model — HTML and JSON read back (the JSON is the report eval.run answered),
// a PDF printed where a Chromium is installed (skipped with the reason otherwise), the fallback HTML
// beside the PDF when none is, and the refusals: an unknown evaluation, a sweep, a bad extension, a missing folder,
// a file already there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appContract, type AppArgs, type AppContract, type AppResult } from '../../preload/contract.ts';
import { createAppService, type AppService } from './app-service.ts';
import { DEMO_MODEL_DIR, PROMPT_SETS_DIR } from './test-support/demo-model.ts';
import { CHROMIUM_ENV, findChromium } from './evaluation/report-pdf.ts';
import { esc } from './evaluation/report-html.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ps-eval-export-'));
const out = mkdtempSync(join(tmpdir(), 'ps-eval-export-out-'));
let service: AppService;
let run: AppResult<'eval.run'>;

type Op = keyof AppContract & string;

/** One op through the service as the server runs it: args and result parsed by the contract. */
async function call<K extends Op>(op: K, args: AppArgs<K>): Promise<AppResult<K>> {
  const spec = appContract[op] as { args: { parse(x: unknown): unknown }; result: { parse(x: unknown): unknown } };
  const handler = service.handlers[op] as (a: unknown, ctx: unknown) => Promise<unknown>;
  const result = await handler(spec.args.parse(args), { id: 1, signal: new AbortController().signal, emit: () => {} });
  return spec.result.parse(result) as AppResult<K>;
}

beforeAll(async () => {
  service = createAppService({ dataDir, threads: 1 });
  const modelId = (await call('models.compile', { checkpointDir: DEMO_MODEL_DIR })).modelId;
  await call('personas.train', {
    model: modelId,
    name: 'pirate',
    promptSet: join(PROMPT_SETS_DIR, 'pirate-vs-plain.json'),
    settings: { maxPairs: 8, maxNewTokens: 16, batchSize: 8 },
  });
  const questions = join(out, 'questions.txt');
  writeFileSync(questions, 'Describe the sea.\nWhat is your favourite food?\n');
  run = await call('eval.run', { model: modelId, persona: 'pirate', questions, settings: { maxNewTokens: 8, alphas: [0.5] } });
}, 300_000);
afterAll(async () => {
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describe('eval.export', () => {
  it('writes the stored report as JSON: the report eval.run answered, read back', async () => {
    const file = join(out, 'report.json');
    expect(await call('eval.export', { evaluation: run.evaluationId, path: file })).toEqual({ path: file, kind: 'json', fallback: null });
    const back = JSON.parse(readFileSync(file, 'utf8')) as AppResult<'eval.run'>['report'];
    expect(back).toEqual(run.report);
    expect(back.samples).toHaveLength(2 * 3); // two questions × (unsteered, α 0.5, α 1)
  });

  it('eval.get gives the stored report back and eval.list lists it, newest first', async () => {
    expect((await call('eval.get', { evaluation: run.evaluationId })).report).toEqual(run.report);
    const listed = await call('eval.list', { persona: 'pirate' });
    expect(listed[0]).toMatchObject({ id: run.evaluationId, layer: run.report.steeredAt.layer, alpha: 1, source: 'default', questions: 2 });
  });

  it('writes the HTML report: where it steered and why, the metrics, α curves and the samples', async () => {
    const file = join(out, 'report.html');
    expect(await call('eval.export', { evaluation: run.evaluationId, path: file })).toMatchObject({ kind: 'html', fallback: null });
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<h1>Evaluation: pirate</h1>');
    expect(html).toContain(`Steered at layer ${run.report.steeredAt.layer}, α 1`);
    expect(html).toContain('no sweep recommendation is stored'); // the defaults, said so
    expect(html).toContain('id="curveTrait"'); // two α: curves
    for (const s of run.report.samples) expect(html).toContain(esc(s.text));
  });

  it('keeps a file already there unless asked to overwrite it', async () => {
    const file = join(out, 'kept.json');
    writeFileSync(file, 'mine');
    await expect(call('eval.export', { evaluation: run.evaluationId, path: file })).rejects.toThrow(
      `path ${JSON.stringify(file)}: a file is already there`,
    );
    expect(readFileSync(file, 'utf8')).toBe('mine');
    await call('eval.export', { evaluation: run.evaluationId, path: file, overwrite: true });
    expect(JSON.parse(readFileSync(file, 'utf8')).format).toBe('persona-studio/eval-report');
  });

  it('refuses an unknown evaluation, a bad file name and a missing folder, in one line naming the argument', async () => {
    await expect(call('eval.export', { evaluation: 'nope', path: join(out, 'x.json') })).rejects.toThrow(
      'evaluation "nope": no stored evaluation has that id',
    );
    await expect(call('eval.export', { evaluation: run.evaluationId, path: join(out, 'x.txt') })).rejects.toThrow(
      /^path ".*x\.txt": expected a \.html, \.json or \.pdf file name$/,
    );
    await expect(call('eval.export', { evaluation: run.evaluationId, path: join(out, 'no', 'x.json') })).rejects.toThrow(
      /^path ".*x\.json": the folder .* does not exist$/,
    );
    expect(existsSync(join(out, 'x.txt'))).toBe(false);
  });

  it('without a Chromium writes the HTML (print stylesheet) beside the asked-for PDF and says why', async () => {
    const saved = { ...process.env };
    process.env.PATH = '';
    for (const k of CHROMIUM_ENV) delete process.env[k];
    try {
      const file = join(out, 'nochrome.pdf');
      const r = await call('eval.export', { evaluation: run.evaluationId, path: file });
      expect(r).toMatchObject({ path: join(out, 'nochrome.html'), kind: 'html' });
      expect(r.fallback).toMatch(/^path .*nochrome\.pdf: no Chromium to print a PDF with/);
      expect(readFileSync(r.path, 'utf8')).toContain('@media print');
      expect(existsSync(file)).toBe(false);
    } finally {
      process.env.PATH = saved.PATH;
      for (const k of CHROMIUM_ENV) if (saved[k] !== undefined) process.env[k] = saved[k];
    }
  });

  it("a face's own PDF printer (Electron's printToPDF) is used instead of Chromium, none needed", async () => {
    const saved = { ...process.env };
    process.env.PATH = '';
    for (const k of CHROMIUM_ENV) delete process.env[k];
    const printed: string[] = [];
    const withPrinter = createAppService({
      dataDir,
      threads: 1,
      printPdf: async (html, file) => {
        printed.push(html);
        writeFileSync(file, '%PDF-1.7 printed by the face');
      },
    });
    try {
      const file = join(out, 'printer.pdf');
      const handler = withPrinter.handlers['eval.export'] as (a: unknown, ctx: unknown) => Promise<unknown>;
      const r = await handler(appContract['eval.export'].args.parse({ evaluation: run.evaluationId, path: file }), {
        id: 1,
        signal: new AbortController().signal,
        emit: () => {},
      });
      expect(r).toEqual({ path: file, kind: 'pdf', fallback: null });
      expect(printed).toHaveLength(1);
      expect(printed[0]).toContain('@media print'); // the same self-contained HTML report
      expect(readFileSync(file, 'utf8')).toBe('%PDF-1.7 printed by the face');
    } finally {
      await withPrinter.close();
      process.env.PATH = saved.PATH;
      for (const k of CHROMIUM_ENV) if (saved[k] !== undefined) process.env[k] = saved[k];
    }
  });

  it("eval.run's endpoint judge is sent the key stored in the settings (no PERSONA_STUDIO_JUDGE_KEY), and the export has its scores", async () => {
    const auths: (string | undefined)[] = [];
    // An OpenAI-compatible server that writes its score (no logprobs): the judge parses it.
    const judge = http.createServer((req, res) => {
      auths.push(req.headers.authorization);
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ message: { content: '42' } }] }));
      });
    });
    await new Promise<void>((r) => judge.listen(0, '127.0.0.1', r));
    const envKey = process.env.PERSONA_STUDIO_JUDGE_KEY;
    delete process.env.PERSONA_STUDIO_JUDGE_KEY;
    try {
      await call('settings.setJudgeKey', { key: 'sk-stored' });
      const url = `http://127.0.0.1:${(judge.address() as AddressInfo).port}`;
      const judged = await call('eval.run', {
        model: (run.report.provenance.model as { id: string }).id,
        persona: 'pirate',
        questions: join(out, 'questions.txt'),
        judge: { kind: 'endpoint', url, model: 'grader' },
        settings: { maxNewTokens: 8, alphas: [0.5] },
      });
      expect(auths.length).toBe(2 * judged.report.samples.length); // trait and coherence per reply
      expect(new Set(auths)).toEqual(new Set(['Bearer sk-stored']));
      expect(judged.report.unsteered.judge).toEqual({ trait: 42, coherence: 42, scored: 2, total: 2 });
      const file = join(out, 'judged.html');
      await call('eval.export', { evaluation: judged.evaluationId, path: file });
      expect(readFileSync(file, 'utf8')).toContain('[judge: trait 42, coherence 42]');
    } finally {
      if (envKey !== undefined) process.env.PERSONA_STUDIO_JUDGE_KEY = envKey;
      judge.closeAllConnections();
      await new Promise((r) => judge.close(r));
    }
  }, 120_000);

  const chromium = findChromium();
  if (!chromium)
    console.log('eval-export: PDF test skipped: no Chromium on this machine (install chromium or set $PERSONA_STUDIO_CHROMIUM)');
  it.skipIf(!chromium)(
    'prints a PDF with a headless Chromium',
    async () => {
      const file = join(out, 'report.pdf');
      expect(await call('eval.export', { evaluation: run.evaluationId, path: file })).toEqual({ path: file, kind: 'pdf', fallback: null });
      const head = readFileSync(file).subarray(0, 5).toString('latin1');
      expect(head).toBe('%PDF-');
    },
    300_000,
  );
});
