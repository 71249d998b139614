// persona-studio generate --model M --prompt TEXT [--raw] [--max-new-tokens N] [--greedy] [--json]
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { resolveModel } from '../../core/model-ref.ts';
import { parseSamplingParams, SAMPLING_DEFAULTS } from '../../core/engine/sampling/params.ts';
import type { TextGenerateRequest } from '../../core/engine/text-generation.ts';
import { StudioError } from '../../core/errors.ts';
import type { Flags } from '../args.ts';
import type { COMPARE_FLAGS, GENERATE_FLAGS } from '../specs.ts';
import type { RowSteering } from '../../core/engine/steering.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { buildSteering } from '../../core/steering/persona-steering.ts';
import { ensureNorms } from '../../core/steering/calibration.ts';
import { oneLine } from '../../core/formats/index.ts';
import { progressPrinter, downloadPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

type GenerateFlags = Flags<typeof GENERATE_FLAGS>;

export function samplingOf(flags: GenerateFlags) {
  const greedy = flags.greedy ?? false;
  const sampling = {
    greedy,
    // core's samplingSchema supplies the defaults (the app reads the same ones)
    temperature: flags.temperature ?? SAMPLING_DEFAULTS.temperature,
    topP: flags['top-p'] ?? SAMPLING_DEFAULTS.topP,
    topK: flags['top-k'] ?? SAMPLING_DEFAULTS.topK,
    minP: flags['min-p'] ?? SAMPLING_DEFAULTS.minP,
    repetitionPenalty: flags['repetition-penalty'] ?? SAMPLING_DEFAULTS.repetitionPenalty,
    seed: flags.seed,
  };
  parseSamplingParams(sampling, 'sampling'); // the engine's own check, before any model loads
  return sampling;
}

function promptOf(flags: GenerateFlags): TextGenerateRequest['rows'][number]['prompt'] {
  if (flags.raw) return { text: flags.prompt ?? '' };
  return {
    messages: [
      ...(flags.system ? [{ role: 'system' as const, content: flags.system }] : []),
      { role: 'user' as const, content: flags.prompt! },
    ],
    enableThinking: flags.thinking ?? false,
  };
}

interface Loaded {
  engine: Engine;
  status: Awaited<ReturnType<Engine['load']>>;
  loadMs: number;
  steer: (alpha?: number) => RowSteering | undefined;
  residualNorms: Float32Array | null;
  summary: string[];
}

/**
 * Resolves the model (compiling a checkpoint on first use), loads it, and prepares the steering the
 * flags ask for, with the model's residual norms (measured once and kept beside the compiled model).
 */
async function load(flags: GenerateFlags, ctx: CliContext, engine: Engine): Promise<Loaded> {
  const lib = Library.open({ dataDir: ctx.dataDir });
  try {
    const bar = progressPrinter('compiling');
    const resolved = await resolveModel(lib, ctx.dataDir, flags.model!, {
      compile: true,
      label: '--model',
      precision: flags.precision,
      provider: flags.provider,
      onCompileProgress: bar,
      onDownloadProgress: downloadPrinter('downloading'),
    });
    const dir = resolved.dir!;
    const wantsSteering = (flags.persona?.length ?? 0) > 0 || (flags.ablate?.length ?? 0) > 0;
    if (wantsSteering && !resolved.record)
      throw new StudioError(
        'not-found',
        `--model ${flags.model}: steering needs the model in the library (compile its checkpoint with persona-studio models compile)`,
      );
    const model = resolved.record;
    // Check the personas before the model loads: a bad name fails at once.
    const sf = {
      personas: flags.persona ?? [],
      alpha: flags.alpha,
      layers: flags.layers,
      alphaMode: flags['alpha-mode'],
      ablate: flags.ablate,
    };
    const first = wantsSteering ? buildSteering(lib, model!, sf) : null;
    const t0 = performance.now();
    const status = await engine.load(dir, { provider: flags.provider ?? 'auto', threads: flags.threads ?? 0 });
    const loadMs = performance.now() - t0;
    let residualNorms: Float32Array | null = null;
    if (wantsSteering && (flags['alpha-mode'] ?? 'norm') === 'norm') {
      const tok = TextTokenizer.load(dir);
      residualNorms = await ensureNorms(dir, model!.numLayers, tok, (sequences) => engine.residualNorms({ sequences }));
    }
    return {
      engine,
      status,
      loadMs,
      residualNorms,
      summary: first?.summary ?? [],
      // compare's columns: the same terms with every persona's α replaced
      steer: (alpha) =>
        !first
          ? undefined
          : alpha === undefined
            ? first.steering
            : { ...first.steering, terms: (first.steering.terms ?? []).map((t) => ({ ...t, alpha })) },
    };
  } finally {
    lib.close();
  }
}

function requirePrompt(flags: GenerateFlags, cmd: string): void {
  if (!flags.model)
    throw new StudioError('usage', `${cmd}: --model is required (a folder, or a library model by id, name or content hash)`);
  if (flags.prompt === undefined && !flags.raw) throw new StudioError('usage', `${cmd}: --prompt is required (or --raw to start from BOS)`);
}

export async function generateCommand(flags: GenerateFlags, ctx: CliContext): Promise<number> {
  requirePrompt(flags, 'generate');
  const sampling = samplingOf(flags);
  // The worker boots (and loads onnxruntime) while this thread resolves the model.
  const engine = new Engine({ inProcess: true }); // single-shot: no worker start (see EngineOptions)
  try {
    const l = await load(flags, ctx, engine);
    for (const line of l.summary) ctx.stderr(`steering: ${oneLine(line)}\n`);
    const result = await engine.generate(
      {
        rows: [{ prompt: promptOf(flags), sampling, steering: l.steer() }],
        maxNewTokens: flags['max-new-tokens'] ?? 128,
        residualNorms: l.residualNorms,
      },
      {
        onToken: (e) => {
          if (!flags.json) ctx.stdout(e.text);
        },
      },
    );
    const row = result.rows[0]!;
    const tokPerS = result.steps ? round((result.steps * 1000) / result.decodeMs) : null;
    if (flags.json) {
      ctx.stdout(
        JSON.stringify({
          text: row.text,
          promptTokens: row.promptTokens,
          generatedTokens: row.tokens,
          finish: row.finish,
          seed: row.seed,
          steering: l.summary,
          provider: l.status.provider,
          providerReason: l.status.providerReason,
          timings: {
            loadMs: round(l.loadMs),
            prefillMs: round(result.prefillMs),
            decodeMs: round(result.decodeMs),
            decodeTokensPerSecond: tokPerS,
          },
        }) + '\n',
      );
    } else {
      ctx.stdout('\n');
      ctx.stderr(
        `[${row.tokens.length} tokens, ${row.finish}; prefill ${round(result.prefillMs)} ms, ${tokPerS ?? '-'} tok/s on ${l.status.providerReason}]\n`,
      );
    }
    return 0;
  } finally {
    await engine.close();
  }
}

/** One batched run, one row per α, every row with the same seed: the side-by-side comparison. */
export async function compareCommand(flags: Flags<typeof COMPARE_FLAGS>, ctx: CliContext): Promise<number> {
  requirePrompt(flags, 'compare');
  if (!flags.persona?.length) throw new StudioError('usage', 'compare: --persona is required');
  const alphas = flags.alphas ?? [];
  if (alphas.length < 2 || alphas.length > 16)
    throw new StudioError('usage', `compare: --alphas needs 2 to 16 values (got ${alphas.length})`);
  const sampling = { ...samplingOf(flags), seed: flags.seed ?? 1 };
  const engine = new Engine({ inProcess: true }); // single-shot: no worker start (see EngineOptions)
  try {
    const l = await load(flags, ctx, engine);
    const rows = alphas.map((a) => ({ prompt: promptOf(flags), sampling, steering: l.steer(a) }));
    const result = await engine.generate({ rows, maxNewTokens: flags['max-new-tokens'] ?? 128, residualNorms: l.residualNorms });
    if (flags.json) {
      ctx.stdout(
        JSON.stringify({
          seed: sampling.seed,
          steering: l.summary,
          columns: alphas.map((a, i) => ({ alpha: a, text: result.rows[i]!.text, finish: result.rows[i]!.finish })),
        }) + '\n',
      );
    } else {
      alphas.forEach((a, i) => ctx.stdout(`--- α ${a}\n${result.rows[i]!.text}\n`));
      ctx.stderr(`[${alphas.length} columns, seed ${sampling.seed}, one batched run: ${round(result.prefillMs + result.decodeMs)} ms]\n`);
    }
    return 0;
  } finally {
    await engine.close();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
