// persona-studio chat: a REPL over one loaded model, with personas switched, re-weighted and
// re-layered between turns, streamed replies, and a trait meter from projection monitoring.
import readline from 'node:readline';
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { resolveModel } from '../../core/model-ref.ts';
import { StudioError, errorCode } from '../../core/errors.ts';
import { oneLine } from '../../core/formats/index.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import type { ChatMessage } from '../../../native-models/tokenizer/chat-template.ts';
import { buildSteering, monitorOf, parsePersonaArg } from '../../core/steering/persona-steering.ts';
import { parseLayers } from '../../core/steering/layers.ts';
import { ensureNorms } from '../../core/steering/calibration.ts';
import type { Flags } from '../args.ts';
import type { GENERATE_FLAGS } from '../specs.ts';
import { samplingOf } from './generate.ts';
import { progressPrinter, downloadPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

export const CHAT_COMMANDS_HELP = `/alpha A           α for every persona (norm scale unless --alpha-mode raw)
/persona P[=α]     add a persona (library name or id, or a vector file); /persona none removes all
/layers L          all, b, a-b or a comma list; /layers default goes back to the default layer
/reset             forget the conversation
/help              this list       /quit (or end of input)  leave`;

/** A one-line meter: the mean projection of the reply's tokens on the first persona's direction. */
function meter(projections: number[]): string {
  if (projections.length === 0) return '';
  const mean = projections.reduce((a, b) => a + b, 0) / projections.length;
  const cells = Math.max(-10, Math.min(10, Math.round(mean)));
  const bar =
    cells >= 0
      ? `${' '.repeat(10)}|${'#'.repeat(cells)}${' '.repeat(10 - cells)}`
      : `${' '.repeat(10 + cells)}${'#'.repeat(-cells)}|${' '.repeat(10)}`;
  return `[trait ${mean >= 0 ? '+' : ''}${mean.toFixed(2)} [${bar}] over ${projections.length} tokens]`;
}

export async function chatCommand(flags: Flags<typeof GENERATE_FLAGS>, ctx: CliContext): Promise<number> {
  if (!flags.model) throw new StudioError('usage', 'chat: --model is required (a folder, or a library model by id, name or content hash)');
  const sampling = samplingOf(flags);
  const state = { personas: [...(flags.persona ?? [])], alpha: flags.alpha, layers: flags.layers, history: [] as ChatMessage[] };
  const engine = new Engine();
  const lib = Library.open({ dataDir: ctx.dataDir });
  try {
    const resolved = await resolveModel(lib, ctx.dataDir, flags.model, {
      compile: true,
      label: '--model',
      precision: flags.precision,
      provider: flags.provider,
      onCompileProgress: progressPrinter('compiling'),
      onDownloadProgress: downloadPrinter('downloading'),
    });
    const model = resolved.record;
    const dir = resolved.dir!;
    const steer = () => {
      if (state.personas.length === 0) return null;
      if (!model)
        throw new StudioError(
          'not-found',
          `--model ${flags.model}: steering needs the model in the library (compile its checkpoint with persona-studio models compile)`,
        );
      return buildSteering(lib, model, {
        personas: state.personas,
        alpha: state.alpha,
        layers: state.layers,
        alphaMode: flags['alpha-mode'],
        ablate: flags.ablate,
      });
    };
    steer(); // bad personas or layers fail before the model loads
    const status = await engine.load(dir, { provider: flags.provider ?? 'auto', threads: flags.threads ?? 0 });
    if (!status.hasTokenizer) throw new StudioError('model-load', `${dir}: chat needs a tokenizer`);
    const tokenizer = TextTokenizer.load(dir);
    let norms: Float32Array | null = null;
    const residualNorms = async () =>
      (norms ??= await ensureNorms(dir, status.architecture.numLayers as number, tokenizer, (sequences) =>
        engine.residualNorms({ sequences }),
      ));
    ctx.stderr(`chat with ${oneLine(model?.name ?? dir)} on ${status.providerReason}; /help lists the commands\n`);

    const input = ctx.stdin ?? process.stdin;
    const rl = readline.createInterface({ input, terminal: false });
    let turn = 0;
    for await (const raw of rl) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith('/')) {
        const [cmd, ...rest] = line.split(/\s+/);
        const arg = rest.join(' ');
        try {
          switch (cmd) {
            case '/quit':
            case '/exit':
              return 0;
            case '/help':
              ctx.stdout(`${CHAT_COMMANDS_HELP}\n`);
              break;
            case '/reset':
              state.history = [];
              ctx.stdout('(conversation cleared)\n');
              break;
            case '/alpha': {
              const a = Number(arg);
              if (!arg || !Number.isFinite(a) || Math.abs(a) > 1000)
                throw new StudioError('usage', `/alpha ${JSON.stringify(arg)}: expected a number from -1000 to 1000`);
              const prev = state.alpha;
              state.alpha = a;
              // persona-specific α (P=α) wins over /alpha; drop them so the slider moves everything
              const before = state.personas;
              state.personas = state.personas.map((p) => parsePersonaArg(p).ref);
              try {
                steer();
              } catch (e) {
                state.alpha = prev;
                state.personas = before;
                throw e;
              }
              ctx.stdout(`(α ${a})\n`);
              break;
            }
            case '/persona': {
              if (!arg) throw new StudioError('usage', '/persona: expected a persona (or none)');
              if (arg === 'none') {
                state.personas = [];
                ctx.stdout('(no persona)\n');
                break;
              }
              state.personas.push(arg);
              try {
                steer();
              } catch (e) {
                state.personas.pop();
                throw e;
              }
              ctx.stdout(`(personas: ${state.personas.map(oneLine).join(', ')})\n`);
              break;
            }
            case '/layers': {
              if (!arg) throw new StudioError('usage', '/layers: expected all, b, a-b, a comma list or default');
              if (arg !== 'default') parseLayers(arg, status.architecture.numLayers as number, '/layers');
              state.layers = arg === 'default' ? undefined : arg;
              steer();
              ctx.stdout(`(layers ${arg})\n`);
              break;
            }
            default:
              throw new StudioError('usage', `${oneLine(cmd!)}: unknown command (/help lists them)`);
          }
        } catch (e) {
          // A bad command costs one line, never the session.
          ctx.stderr(`persona-studio: ${(e as Error).message} (${errorCode(e)})\n`);
        }
        continue;
      }
      const s = steer();
      const messages: ChatMessage[] = [
        ...(flags.system ? [{ role: 'system' as const, content: flags.system }] : []),
        ...state.history,
        { role: 'user', content: line },
      ];
      const monitor = monitorOf(s?.steering);
      const r = await engine.generate(
        {
          rows: [
            {
              prompt: { messages, enableThinking: flags.thinking ?? false },
              sampling: { ...sampling, seed: sampling.seed === undefined ? undefined : sampling.seed + turn },
              steering: s?.steering,
              monitor,
            },
          ],
          maxNewTokens: flags['max-new-tokens'] ?? 256,
          residualNorms: s && (flags['alpha-mode'] ?? 'norm') === 'norm' ? await residualNorms() : null,
        },
        { onToken: (e) => ctx.stdout(e.text) },
      );
      const row = r.rows[0]!;
      ctx.stdout('\n');
      if (s) ctx.stderr(`${meter(row.projections)} ${s.summary.map(oneLine).join('; ')}\n`);
      state.history.push({ role: 'user', content: line }, { role: 'assistant', content: row.text });
      turn++;
    }
    return 0;
  } finally {
    lib.close();
    await engine.close();
  }
}
