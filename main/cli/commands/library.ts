// persona-studio personas … / library … : thin commands over main/core/library.
import { Library } from '../../core/library/index.ts';
import { resolveModel } from '../../core/model-ref.ts';
import { StudioError } from '../../core/errors.ts';
import { expectPositionals, type Parsed } from '../args.ts';
import type { LIBRARY_FLAGS, PERSONAS_FLAGS } from '../specs.ts';
import { oneLine } from '../../core/formats/index.ts';
import type { CliContext } from '../context.ts';

const usage = (m: string) => new StudioError('usage', m);

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

export async function personasCommand(
  sub: string,
  { flags: values, positionals }: Parsed<typeof PERSONAS_FLAGS>,
  ctx: CliContext,
): Promise<number> {
  const one = (what: string) => expectPositionals(positionals, 1, `personas ${sub}`, `one ${what}`)[0]!;
  return withLibrary(ctx, async (lib) => {
    /** The library model --model names (the one rule of main/core/model-ref.ts), as its id. */
    const modelId = async (ref: string) => {
      const { record } = await resolveModel(lib, ctx.dataDir, ref, { compile: false, label: '--model' });
      if (!record)
        throw new StudioError(
          'not-found',
          `--model ${ref}: this compiled model is not in the library (compile its checkpoint with persona-studio models compile)`,
        );
      return record.id;
    };
    const persona = (ref: string) => lib.personas.resolve(ref, { deleted: 'include' });
    switch (sub) {
      case 'list': {
        const model = values.model ? await modelId(values.model) : undefined;
        const list = lib.personas.list({
          search: values.search,
          tag: values.tag,
          modelId: model,
          deleted: values.trash ? 'only' : 'exclude',
        });
        if (values.json) ctx.stdout(JSON.stringify(list, null, 2) + '\n');
        else
          for (const p of list)
            ctx.stdout(`${p.id}  ${oneLine(JSON.stringify(p.name))}${p.tags.length ? `  [${oneLine(p.tags.join(', '))}]` : ''}\n`);
        return 0;
      }
      case 'import': {
        const file = one('file');
        if (!values.model) throw usage('personas import: --model is required (the model the vectors are for)');
        const model = await modelId(values.model);
        const opts = { format: values.format, layerShift: values['layer-shift'] };
        if (values['dry-run']) {
          ctx.stdout(JSON.stringify(lib.previewImport(file, { ...opts, model }), null, 2) + '\n');
          return 0;
        }
        const r = lib.importPersona(file, { ...opts, model, name: values.name });
        for (const w of r.warnings) ctx.stderr(`warning: ${oneLine(w)}\n`);
        // Names come from the file: escaped, so they cannot forge lines, colours or a terminal title.
        ctx.stdout(`imported ${oneLine(r.persona.name)} (${r.persona.id}) from ${r.format}\n`);
        return 0;
      }
      case 'export': {
        const p = persona(one('persona'));
        const f = values.format;
        if (!f) throw usage('personas export: --format is required');
        if (values.out && values.dir) throw usage('personas export: give --out or --dir, not both');
        const r = lib.exportPersona(p.id, {
          format: f,
          path: values.out,
          dir: values.dir ?? (values.out ? undefined : process.cwd()),
          layer: values.layer,
        });
        for (const w of r.warnings) ctx.stderr(`warning: ${oneLine(w)}\n`);
        ctx.stdout(`${r.files.join('\n')}\n`);
        return 0;
      }
      case 'rename': {
        expectPositionals(positionals, 2, 'personas rename', '<persona> <new name>');
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
        throw usage(`personas ${sub}: unknown command (list, import, export, rename, delete, restore, empty-trash)`);
    }
  });
}

export async function libraryCommand(
  sub: string,
  { flags: values, positionals }: Parsed<typeof LIBRARY_FLAGS>,
  ctx: CliContext,
): Promise<number> {
  return withLibrary(ctx, async (lib) => {
    switch (sub) {
      case 'backup':
        ctx.stdout(`${await lib.backup(positionals[0])}\n`);
        return 0;
      case 'restore':
        if (!positionals[0]) throw usage('library restore: expected a backup or archive file');
        ctx.stdout(`restored; the previous library was saved to ${await lib.restore(positionals[0])}\n`);
        return 0;
      case 'export':
        if (!positionals[0]) throw usage('library export: expected an archive path');
        await lib.exportArchive(positionals[0]);
        ctx.stdout(`${positionals[0]}\n`);
        return 0;
      case 'import': {
        if (!positionals[0]) throw usage('library import: expected an archive path');
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
        for (const m of lib.models.list())
          ctx.stdout(`${m.id}  ${oneLine(m.name)}  ${oneLine(m.architecture)} ${m.numLayers}x${m.hiddenSize}  ${oneLine(m.source)}\n`);
        return 0;
      default:
        throw usage(`library ${sub}: unknown command (backup, restore, export, import, check, models)`);
    }
  });
}
