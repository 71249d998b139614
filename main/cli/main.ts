// The persona-studio command: thin argument handling over the core services. Flags are checked
// first (args.ts, specs.ts: no heavy imports); a command's module, and with it the library,
// onnxruntime or the compiler, loads only when that command runs.
import { existsSync } from 'node:fs';
import { resolveDataDir } from '../core/data-dir.ts';
import { StudioError } from '../core/errors.ts';
import { reportError } from './errors.ts';
import { parseArgs, showValue, type FlagSpecs } from './args.ts';
import {
  HELP,
  GENERATE_FLAGS,
  COMPARE_FLAGS,
  COMPILE_FLAGS,
  DOWNLOAD_FLAGS,
  CATALOG_FLAGS,
  PERSONAS_FLAGS,
  LIBRARY_FLAGS,
  SWEEP_FLAGS,
  EVAL_FLAGS,
  ROLES_FLAGS,
  SERVE_FLAGS,
} from './specs.ts';
import type { CliContext } from './context.ts';

const PERSONAS_SUBS = ['list', 'import', 'export', 'rename', 'delete', 'restore', 'empty-trash', 'show', 'train', 'create'];
const LIBRARY_SUBS = ['backup', 'restore', 'export', 'import', 'check', 'models'];

/** Pulls the global --data-dir flag out of argv (it may appear anywhere before `--`). */
function takeDataDir(argv: string[]): { dataDir?: string; rest: string[] } {
  const rest: string[] = [];
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--data-dir') {
      if (i + 1 >= argv.length) throw new StudioError('usage', '--data-dir: needs a value');
      dataDir = argv[++i];
    } else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else rest.push(a);
  }
  if (dataDir !== undefined && dataDir.trim() === '') throw new StudioError('usage', '--data-dir: expected a folder');
  if (dataDir !== undefined && existsSync(dataDir) && !existsSync(`${dataDir}/.`))
    throw new StudioError('usage', `--data-dir ${showValue(dataDir)}: not a folder`);
  return { dataDir, rest };
}

function sub(cmd: string, args: string[], known: string[]): [string, string[]] {
  const [s, ...rest] = args;
  if (s === undefined) throw new StudioError('usage', `${cmd}: expected a command (${known.join(', ')})`);
  if (!known.includes(s)) throw new StudioError('usage', `${cmd} ${showValue(s)}: unknown command (expected one of ${known.join(', ')})`);
  return [s, rest];
}

const parse = <T extends FlagSpecs>(args: string[], specs: T, command: string) => parseArgs(args, specs, command);

export async function main(argv: string[], io: Partial<CliContext> = {}): Promise<number> {
  const stdout = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
  try {
    const { dataDir, rest } = takeDataDir(argv);
    const [cmd, ...args] = rest;
    if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      stdout(`${HELP}\n`);
      return cmd === undefined ? 2 : 0;
    }
    const ctx = (): CliContext => ({ dataDir: resolveDataDir({ dataDir }), stdout, stderr, stdin: io.stdin });
    switch (cmd) {
      case 'models': {
        const [s, rest2] = sub('models', args, ['compile', 'download', 'catalog']);
        if (s === 'download')
          return await (await import('./commands/models.ts')).downloadCommand(parse(rest2, DOWNLOAD_FLAGS, 'models download'), ctx());
        if (s === 'catalog')
          return await (await import('./commands/models.ts')).catalogCommand(parse(rest2, CATALOG_FLAGS, 'models catalog'), ctx());
        const parsed = parse(rest2, COMPILE_FLAGS, 'models compile');
        return await (await import('./commands/models.ts')).compileCommand(parsed, ctx());
      }
      case 'generate': {
        const parsed = parse(args, GENERATE_FLAGS, 'generate');
        if (parsed.positionals.length)
          throw new StudioError(
            'usage',
            `generate: unexpected argument ${showValue(parsed.positionals[0]!)} (the prompt goes in --prompt)`,
          );
        return await (await import('./commands/generate.ts')).generateCommand(parsed.flags, ctx());
      }
      case 'chat': {
        const parsed = parse(args, GENERATE_FLAGS, 'chat');
        if (parsed.positionals.length) throw new StudioError('usage', `chat: unexpected argument ${showValue(parsed.positionals[0]!)}`);
        return await (await import('./commands/chat.ts')).chatCommand(parsed.flags, ctx());
      }
      case 'compare': {
        const parsed = parse(args, COMPARE_FLAGS, 'compare');
        if (parsed.positionals.length)
          throw new StudioError('usage', `compare: unexpected argument ${showValue(parsed.positionals[0]!)} (the prompt goes in --prompt)`);
        return await (await import('./commands/generate.ts')).compareCommand(parsed.flags, ctx());
      }
      case 'personas': {
        const [s, rest2] = sub('personas', args, PERSONAS_SUBS);
        const parsed = parse(rest2, PERSONAS_FLAGS, `personas ${s}`);
        if (s === 'train' || s === 'show' || s === 'create')
          return await (await import('./commands/personas-train.ts')).personasTrainOrShow(s, parsed, ctx());
        return await (await import('./commands/library.ts')).personasCommand(s, parsed, ctx());
      }
      case 'sweep': {
        const parsed = parse(args, SWEEP_FLAGS, 'sweep');
        if (parsed.positionals.length) throw new StudioError('usage', `sweep: unexpected argument ${showValue(parsed.positionals[0]!)}`);
        return await (await import('./commands/sweep.ts')).sweepCommand(parsed.flags, ctx());
      }
      case 'eval': {
        const parsed = parse(args, EVAL_FLAGS, 'eval');
        if (parsed.positionals.length) throw new StudioError('usage', `eval: unexpected argument ${showValue(parsed.positionals[0]!)}`);
        return await (await import('./commands/eval.ts')).evalCommand(parsed.flags, ctx());
      }
      case 'roles': {
        const [, rest2] = sub('roles', args, ['run']);
        const parsed = parse(rest2, ROLES_FLAGS, 'roles run');
        if (parsed.positionals.length)
          throw new StudioError('usage', `roles run: unexpected argument ${showValue(parsed.positionals[0]!)}`);
        return await (await import('./commands/roles.ts')).rolesRunCommand(parsed.flags, ctx());
      }
      case 'library': {
        const [s, rest2] = sub('library', args, LIBRARY_SUBS);
        const parsed = parse(rest2, LIBRARY_FLAGS, `library ${s}`);
        return await (await import('./commands/library.ts')).libraryCommand(s, parsed, ctx());
      }
      case 'serve': {
        const parsed = parse(args, SERVE_FLAGS, 'serve');
        if (parsed.positionals.length) throw new StudioError('usage', `serve: unexpected argument ${showValue(parsed.positionals[0]!)}`);
        return await (await import('./commands/serve.ts')).serveCommand(parsed.flags, ctx());
      }
      default:
        throw new StudioError('usage', `unknown command ${showValue(cmd)} (try persona-studio help)`);
    }
  } catch (e) {
    return reportError(e, stderr);
  }
}
