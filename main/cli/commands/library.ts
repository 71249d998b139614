// persona-studio personas … / library … : thin commands over main/core/library.
import { parseArgs } from 'node:util';
import { Library } from '../../core/library/index.ts';
import { oneLine, VECTOR_FORMATS, type VectorFormat } from '../../core/formats/index.ts';
import { UsageError } from '../errors.ts';
import type { CliContext } from '../context.ts';

export const PERSONAS_HELP = `persona-studio personas <command>
  list [--search S] [--tag T] [--model M] [--trash] [--json]
  import <file> --model M [--format studio|gguf|persona-vectors|toolkit|safetensors] [--name N] [--layer-shift K] [--dry-run]
  export <persona> --format F [--out PATH | --dir DIR] [--layer B]
  rename <persona> <new name> | delete <persona> | restore <persona> | empty-trash
  (M: a model in the library, by id, name, path or content hash; models join the library when compiled)`;

export const LIBRARY_HELP = `persona-studio library <command>
  backup [DEST] | restore <backup.sqlite|archive.zip> | export <archive.zip> | import <archive.zip> [--replace] | check | models`;

const FORMATS = VECTOR_FORMATS;

function format(v: string | undefined): VectorFormat | undefined {
  if (v === undefined) return undefined;
  if (!(FORMATS as readonly string[]).includes(v)) throw new UsageError(`--format ${v}: expected one of ${FORMATS.join(', ')}`);
  return v as VectorFormat;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${flag} ${v}: expected an integer`);
  return Number(v);
}

function withLibrary<T>(ctx: CliContext, work: (lib: Library) => T): T {
  const lib = Library.open({ dataDir: ctx.dataDir });
  try {
    const r = work(lib);
    if (r instanceof Promise) return r.finally(() => lib.close()) as T;
    lib.close();
    return r;
  } catch (e) {
    lib.close();
    throw e;
  }
}

export async function personasCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true, strict: true,
    options: {
      search: { type: 'string' }, tag: { type: 'string' }, model: { type: 'string' }, trash: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false }, format: { type: 'string' }, name: { type: 'string' }, 'layer-shift': { type: 'string' },
      'dry-run': { type: 'boolean', default: false }, out: { type: 'string' }, dir: { type: 'string' }, layer: { type: 'string' },
    },
  });
  const one = (what: string) => {
    if (positionals.length !== 1) throw new UsageError(`personas ${sub}: expected one ${what}`);
    return positionals[0]!;
  };
  return withLibrary(ctx, (lib) => {
    const persona = (ref: string) => {
      const byId = lib.personas.get(ref);
      if (byId) return byId;
      const named = lib.personas.list({ search: ref, deleted: 'include' }).filter((p) => p.name === ref);
      if (named.length === 1) return named[0]!;
      throw new UsageError(named.length ? `${named.length} personas are named ${JSON.stringify(ref)}; give the id` : `no persona ${JSON.stringify(ref)}`);
    };
    switch (sub) {
      case 'list': {
        const model = values.model ? lib.models.resolve(values.model).id : undefined;
        const list = lib.personas.list({ search: values.search, tag: values.tag, modelId: model, deleted: values.trash ? 'only' : 'exclude' });
        if (values.json) ctx.stdout(JSON.stringify(list, null, 2) + '\n');
        else for (const p of list) ctx.stdout(`${p.id}  ${oneLine(JSON.stringify(p.name))}${p.tags.length ? `  [${oneLine(p.tags.join(', '))}]` : ''}\n`);
        return 0;
      }
      case 'import': {
        const file = one('file');
        if (!values.model) throw new UsageError('personas import: --model is required (the model the vectors are for)');
        const opts = { format: format(values.format), layerShift: int('layer-shift', values['layer-shift']) };
        if (values['dry-run']) {
          ctx.stdout(JSON.stringify(lib.previewImport(file, { ...opts, model: values.model }), null, 2) + '\n');
          return 0;
        }
        const r = lib.importPersona(file, { ...opts, model: values.model, name: values.name });
        for (const w of r.warnings) ctx.stderr(`warning: ${oneLine(w)}\n`);
        // Names come from the file: escaped, so they cannot forge lines, colours or a terminal title.
        ctx.stdout(`imported ${oneLine(r.persona.name)} (${r.persona.id}) from ${r.format}\n`);
        return 0;
      }
      case 'export': {
        const p = persona(one('persona'));
        const f = format(values.format);
        if (!f) throw new UsageError('personas export: --format is required');
        const r = lib.exportPersona(p.id, { format: f, path: values.out, dir: values.dir ?? (values.out ? undefined : process.cwd()), layer: int('layer', values.layer) });
        for (const w of r.warnings) ctx.stderr(`warning: ${oneLine(w)}\n`);
        ctx.stdout(`${r.files.join('\n')}\n`);
        return 0;
      }
      case 'rename': {
        if (positionals.length !== 2) throw new UsageError('personas rename: expected <persona> <new name>');
        const p = lib.personas.rename(persona(positionals[0]!).id, positionals[1]!);
        ctx.stdout(`renamed to ${oneLine(p.name)}\n`);
        return 0;
      }
      case 'delete':
        lib.personas.delete(persona(one('persona')).id);
        ctx.stdout('moved to the trash (personas restore undoes it)\n');
        return 0;
      case 'restore':
        lib.personas.restore(persona(one('persona')).id);
        ctx.stdout('restored\n');
        return 0;
      case 'empty-trash':
        ctx.stdout(JSON.stringify(lib.emptyTrash()) + '\n');
        return 0;
      default:
        throw new UsageError(`personas ${sub ?? ''}: unknown command\n${PERSONAS_HELP}`);
    }
  });
}

export async function libraryCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { replace: { type: 'boolean', default: false } } });
  return withLibrary(ctx, async (lib) => {
    switch (sub) {
      case 'backup': ctx.stdout(`${await lib.backup(positionals[0])}\n`); return 0;
      case 'restore':
        if (!positionals[0]) throw new UsageError('library restore: expected a backup or archive file');
        ctx.stdout(`restored; the previous library was saved to ${await lib.restore(positionals[0])}\n`);
        return 0;
      case 'export':
        if (!positionals[0]) throw new UsageError('library export: expected an archive path');
        await lib.exportArchive(positionals[0]);
        ctx.stdout(`${positionals[0]}\n`);
        return 0;
      case 'import': {
        if (!positionals[0]) throw new UsageError('library import: expected an archive path');
        const r = await lib.importArchive(positionals[0], { mode: values.replace ? 'replace' : 'merge' });
        for (const w of r.warnings) ctx.stderr(`warning: ${oneLine(w)}\n`);
        ctx.stdout(JSON.stringify({ added: r.added, safetyBackup: r.safetyBackup }) + '\n');
        return 0;
      }
      case 'check': {
        // Exit 0 only when healthy: schema, integrity_check and foreign keys (lib.check() is [] then).
        const problems = lib.check();
        ctx.stdout(problems.length ? `${problems.map(oneLine).join('\n')}\n` : 'ok\n');
        return problems.length ? 1 : 0;
      }
      case 'models':
        for (const m of lib.models.list()) ctx.stdout(`${m.id}  ${oneLine(m.name)}  ${oneLine(m.architecture)} ${m.numLayers}x${m.hiddenSize}  ${oneLine(m.source)}\n`);
        return 0;
      default:
        throw new UsageError(`library ${sub ?? ''}: unknown command\n${LIBRARY_HELP}`);
    }
  });
}
