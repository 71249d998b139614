// persona-studio generate --model M --prompt TEXT [--raw] [--max-new-tokens N] [--greedy] [--json]
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { resolveModel } from '../../core/model-ref.ts';
import { parseSamplingParams } from '../../core/engine/sampling.ts';
import type { TextGenerateRequest } from '../../core/engine/text-generation.ts';
import { StudioError } from '../../core/errors.ts';
import type { Flags } from '../args.ts';
import type { GENERATE_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

export async function generateCommand(flags: Flags<typeof GENERATE_FLAGS>, ctx: CliContext): Promise<number> {
  if (!flags.model) throw new StudioError('usage', 'generate: --model is required (a folder, or a library model by id, name or content hash)');
  if (flags.prompt === undefined && !flags.raw) throw new StudioError('usage', 'generate: --prompt is required (or --raw to start from BOS)');
  const greedy = flags.greedy ?? false;
  const sampling = {
    greedy,
    temperature: flags.temperature ?? (greedy ? 0 : 0.7),
    topP: flags['top-p'] ?? (greedy ? 1 : 0.9),
    topK: flags['top-k'] ?? 0,
    minP: flags['min-p'] ?? 0,
    repetitionPenalty: flags['repetition-penalty'] ?? 1,
    seed: flags.seed,
  };
  parseSamplingParams(sampling, 'sampling'); // the engine's own check, before any model loads

  // The worker boots (and loads onnxruntime) while this thread resolves the model.
  const engine = new Engine();
  try {
    const lib = Library.open({ dataDir: ctx.dataDir });
    let dir: string;
    try {
      const bar = progressPrinter('compiling');
      dir = (await resolveModel(lib, ctx.dataDir, flags.model, {
        compile: true, label: '--model', precision: flags.precision, provider: flags.provider, onCompileProgress: bar,
      })).dir!;
    } finally {
      lib.close();
    }
    const t0 = performance.now();
    const status = await engine.load(dir, { provider: flags.provider ?? 'auto', threads: flags.threads ?? 0 });
    const loadMs = performance.now() - t0;
    let prompt: TextGenerateRequest['rows'][number]['prompt'];
    if (flags.raw) prompt = { text: flags.prompt ?? '' };
    else {
      prompt = {
        messages: [
          ...(flags.system ? [{ role: 'system' as const, content: flags.system }] : []),
          { role: 'user' as const, content: flags.prompt! },
        ],
        enableThinking: flags.thinking ?? false,
      };
    }
    const result = await engine.generate({ rows: [{ prompt, sampling }], maxNewTokens: flags['max-new-tokens'] ?? 128 },
      { onToken: (e) => { if (!flags.json) ctx.stdout(e.text); } });
    const row = result.rows[0]!;
    const tokPerS = result.steps ? round((result.steps * 1000) / result.decodeMs) : null;
    if (flags.json) {
      ctx.stdout(JSON.stringify({
        text: row.text, promptTokens: row.promptTokens, generatedTokens: row.tokens, finish: row.finish, seed: row.seed,
        provider: status.provider, providerReason: status.providerReason,
        timings: { loadMs: round(loadMs), prefillMs: round(result.prefillMs), decodeMs: round(result.decodeMs), decodeTokensPerSecond: tokPerS },
      }) + '\n');
    } else {
      ctx.stdout('\n');
      ctx.stderr(`[${row.tokens.length} tokens, ${row.finish}; prefill ${round(result.prefillMs)} ms, ${tokPerS ?? '-'} tok/s on ${status.providerReason}]\n`);
    }
    return 0;
  } finally {
    await engine.close();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
