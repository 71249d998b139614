// persona-studio generate --model <checkpoint-or-compiled-dir> --prompt TEXT [--raw] [--max-new-tokens N] [--greedy] [--json]
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { isCompiledModel, PROVIDERS } from '../../../native-models/compile.ts';
import { compileAndRegister } from '../../core/models.ts';
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { PROVIDER_CHOICES, type ProviderChoice } from '../../core/engine/session-options.ts';
import type { TextGenerateRequest } from '../../core/engine/text-generation.ts';
import { SAMPLING_DEFAULTS } from '../../core/engine/sampling/params.ts';
import { UsageError } from '../errors.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

export const GENERATE_HELP = `persona-studio generate --model DIR [--prompt TEXT] [options]
  DIR is a compiled model or a Hugging Face checkpoint (compiled on first use, then cached).
  --prompt TEXT          the user message (chat template applied) or, with --raw, the literal text
  --system TEXT          a system message (chat mode)
  --raw                  no chat template; with no --prompt, start from BOS
  --max-new-tokens N     default 128
  --greedy               argmax decoding (default: sampling with temperature ${SAMPLING_DEFAULTS.temperature}, top-p ${SAMPLING_DEFAULTS.topP})
  --temperature T --top-p P --top-k K --min-p P --repetition-penalty R --seed N
  --thinking             Qwen3: let the model think (off by default)
  --precision P          when compiling a checkpoint (default fp16 with --provider cuda|dml, else fp32)
  --provider auto|cpu|cuda|dml|coreml   execution provider (default auto: cuda, dml, else cpu; falls
                         back to cpu); a checkpoint is compiled for the provider named here
  --threads N            intra-op threads
  --json                 one JSON object: text, prompt/generated token ids, timings`;

function num(flag: string, v: string | undefined, int = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw new UsageError(`--${flag} ${v}: expected ${int ? 'an integer' : 'a number'}`);
  return n;
}

export async function generateCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args, strict: true,
    options: {
      model: { type: 'string' }, prompt: { type: 'string' }, system: { type: 'string' }, raw: { type: 'boolean', default: false },
      'max-new-tokens': { type: 'string' }, greedy: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
      temperature: { type: 'string' }, 'top-p': { type: 'string' }, 'top-k': { type: 'string' }, 'min-p': { type: 'string' },
      'repetition-penalty': { type: 'string' }, seed: { type: 'string' }, thinking: { type: 'boolean', default: false },
      precision: { type: 'string' }, provider: { type: 'string' }, threads: { type: 'string' },
    },
  });
  if (!values.model) throw new UsageError(`generate: --model is required\n${GENERATE_HELP}`);
  if (!existsSync(values.model)) throw new UsageError(`--model ${values.model}: no such folder`);
  if (values.prompt === undefined && !values.raw) throw new UsageError('generate: --prompt is required (or --raw to start from BOS)');
  if (values.provider !== undefined && !PROVIDER_CHOICES.includes(values.provider as ProviderChoice)) {
    throw new UsageError(`--provider ${values.provider}: expected one of ${PROVIDER_CHOICES.join(', ')}`);
  }
  const maxNew = num('max-new-tokens', values['max-new-tokens'], true) ?? 128;
  if (maxNew < 1) throw new UsageError(`--max-new-tokens ${maxNew}: must be at least 1`);

  let dir = values.model;
  if (!isCompiledModel(dir)) {
    const bar = progressPrinter('compiling');
    const precision = values.precision as 'fp32' | 'fp16' | 'int8' | 'int4' | undefined;
    const provider = PROVIDERS.find((p) => p === values.provider); // 'auto' compiles the portable cpu op set
    const lib = Library.open({ dataDir: ctx.dataDir });
    dir = (await compileAndRegister(lib, ctx.dataDir, {
      checkpointDir: dir, options: { precision, provider },
      onProgress: (p) => { if (p.stage === 'build') bar(p.done, p.total); },
    }).finally(() => lib.close())).dir;
  }
  const engine = new Engine();
  try {
    const t0 = performance.now();
    const status = await engine.load(dir, {
      provider: (values.provider ?? 'auto') as ProviderChoice,
      threads: num('threads', values.threads, true) ?? 0,
    });
    const loadMs = performance.now() - t0;
    let prompt: TextGenerateRequest['rows'][number]['prompt'];
    if (values.raw) prompt = { text: values.prompt ?? '' };
    else {
      prompt = {
        messages: [
          ...(values.system ? [{ role: 'system' as const, content: values.system }] : []),
          { role: 'user' as const, content: values.prompt! },
        ],
        enableThinking: values.thinking,
      };
    }
    const greedy = values.greedy;
    const result = await engine.generate({
      rows: [{
        prompt,
        // Only what the user set: core's samplingSchema supplies the defaults.
        sampling: {
          greedy,
          temperature: num('temperature', values.temperature),
          topP: num('top-p', values['top-p']),
          topK: num('top-k', values['top-k'], true),
          minP: num('min-p', values['min-p']),
          repetitionPenalty: num('repetition-penalty', values['repetition-penalty']),
          seed: num('seed', values.seed, true),
        },
      }],
      maxNewTokens: maxNew,
    }, { onToken: (e) => { if (!values.json) ctx.stdout(e.text); } });
    const row = result.rows[0]!;
    const tokPerS = result.steps ? round((result.steps * 1000) / result.decodeMs) : null;
    if (values.json) {
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
