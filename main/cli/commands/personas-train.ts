// persona-studio personas train | show: make a persona from prompts, and look at one.
import path from 'node:path';
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { StudioError } from '../../core/errors.ts';
import { oneLine } from '../../core/formats/index.ts';
import { parsePromptSetFile, type PromptSetFile } from '../../core/authoring/prompt-set-file.ts';
import { readPromptList, splitHeldOut } from '../../core/authoring/prompt-lists.ts';
import { resolvePromptSet, trainIntoLibrary } from '../../core/authoring/train-into-library.ts';
import { promptSetToItems } from '../../core/authoring/prompt-set-library.ts';
import { checkDescription, promptSetFromDescription } from '../../core/authoring/from-description.ts';
import { resolveModel } from '../../core/model-ref.ts';
import { expectPositionals, type Parsed } from '../args.ts';
import type { PERSONAS_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

type P = Parsed<typeof PERSONAS_FLAGS>;

/**
 * The prompt set --prompt-set names (a prompt-set file, or a library prompt set by name or id), or
 * one built from --positive/--negative[/--questions] files.
 */
function promptSet(f: P['flags'], name: string, lib: Library): PromptSetFile {
  if (f['prompt-set']) {
    if (f.positive || f.negative || f.questions)
      throw new StudioError('usage', 'personas train: give --prompt-set or --positive/--negative files, not both');
    return resolvePromptSet(lib, f['prompt-set'], '--prompt-set');
  }
  if (!f.positive || !f.negative) throw new StudioError('usage', 'personas train: needs --prompt-set F, or --positive F and --negative F');
  const frac = f.heldout ?? 0.2;
  const pos = splitHeldOut(readPromptList(f.positive), frac);
  const neg = splitHeldOut(readPromptList(f.negative), frac);
  const qs = f.questions ? splitHeldOut(readPromptList(f.questions), frac) : null;
  return parsePromptSetFile(
    {
      format: 'persona-studio/prompt-set',
      version: 1,
      name,
      kind: qs ? 'system-prompts' : 'prompts',
      positive: pos.train.length ? pos.train : pos.heldout,
      negative: neg.train.length ? neg.train : neg.heldout,
      questions: qs?.train ?? [],
      heldout: { positive: pos.heldout, negative: neg.heldout, questions: qs?.heldout ?? [] },
      source: [f.positive, f.negative, f.questions]
        .filter(Boolean)
        .map((x) => path.resolve(x!))
        .join(' | '),
    },
    f.positive,
  );
}

export async function personasTrainOrShow(
  sub: 'train' | 'show' | 'create',
  { flags: f, positionals }: P,
  ctx: CliContext,
): Promise<number> {
  if (sub === 'show') return show(expectPositionals(positionals, 1, 'personas show', 'one persona')[0]!, f, ctx);
  if (sub === 'create') return create(f, ctx);
  expectPositionals(positionals, 0, 'personas train', 'no positional arguments (files go in --positive/--negative/--prompt-set)');
  if (!f.model) throw new StudioError('usage', 'personas train: --model is required');
  if (!f.name) throw new StudioError('usage', 'personas train: --name is required');
  const settings = {
    method: f.method,
    reduction: f.reduction,
    maxPairs: f['max-pairs'],
    samples: f.samples,
    maxNewTokens: f['max-new-tokens'],
    seed: f.seed,
  };

  const lib = Library.open({ dataDir: ctx.dataDir });
  let set: PromptSetFile;
  try {
    set = promptSet(f, f.name, lib);
  } catch (e) {
    lib.close();
    throw e;
  }
  const engine = new Engine({ inProcess: true }); // single-shot: no worker start (see EngineOptions)
  const ac = new AbortController();
  const onSigint = () =>
    ac.abort(new StudioError('cancelled', 'personas train: cancelled (finished batches are kept; run the same command to resume)'));
  process.once('SIGINT', onSigint);
  try {
    const bars = { generate: progressPrinter('generating'), capture: progressPrinter('capturing') };
    const {
      persona,
      vector,
      trained: t,
    } = await trainIntoLibrary(
      lib,
      ctx.dataDir,
      {
        load: (dir) => engine.load(dir, { threads: f.threads ?? 0 }),
        generate: (r, o) => engine.generate(r, o),
        capture: (a, o) => engine.capture(a, o),
      },
      {
        model: f.model,
        label: '--model',
        name: f.name,
        set,
        settings,
        signal: ac.signal,
        onProgress: (p) => bars[p.stage](p.done, p.total),
        onCompileProgress: progressPrinter('compiling'),
      },
    );
    if (t.resumedBatches) ctx.stderr(`resumed: ${t.resumedBatches} generation batches were already done\n`);
    if (f.json)
      ctx.stdout(
        `${JSON.stringify({ persona, vectorId: vector.id, counts: t.counts, separationOn: t.separationOn, layers: t.layers.map((l) => ({ layer: l.layer, ...l.separation })) })}\n`,
      );
    else {
      ctx.stdout(
        `trained ${oneLine(persona.name)} (${persona.id}): ${t.counts.positive}+${t.counts.negative} responses, ${t.layers.length} layers, ${t.method}\n`,
      );
      for (const l of t.layers)
        ctx.stdout(
          `  layer ${String(l.layer).padStart(2)}  AUC ${l.separation.auc!.toFixed(3)}  d ${l.separation.cohenD!.toFixed(2)}  (${t.separationOn})\n`,
        );
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    lib.close();
    await engine.close();
  }
}

function show(ref: string, f: P['flags'], ctx: CliContext): number {
  const lib = Library.open({ dataDir: ctx.dataDir });
  try {
    const p = lib.personas.resolve(ref, { deleted: 'include' });
    const vectors = lib.vectors.list({ personaId: p.id });
    if (f.json) {
      ctx.stdout(`${JSON.stringify({ persona: p, vectors }, null, 2)}\n`);
      return 0;
    }
    ctx.stdout(`${oneLine(p.name)} (${p.id})${p.description ? `: ${oneLine(p.description)}` : ''}\n`);
    for (const v of vectors) {
      ctx.stdout(
        `vector ${v.id} for ${oneLine(v.modelId)}: ${v.method ?? 'imported'}, ${v.reduction ?? '-'}, ${v.counts ? `${v.counts.positive}+${v.counts.negative} samples` : ''}, seed ${v.provenance.seed ?? '-'}, app ${oneLine(v.provenance.appVersion)}, ${v.createdAt}\n`,
      );
      for (const l of v.layers) {
        const sep = l.separation
          ? Object.entries(l.separation)
              .map(([k, x]) => `${k} ${Number(x).toFixed(3)}`)
              .join('  ')
          : '';
        ctx.stdout(`  layer ${String(l.layer).padStart(2)}  norm ${l.norm.toFixed(3)}  ${sep}\n`);
      }
    }
    return 0;
  } finally {
    lib.close();
  }
}

/** personas create: a prompt set from a description (the model's, else our template), saved and printed; --yes trains it. */
async function create(f: P['flags'], ctx: CliContext): Promise<number> {
  if (!f.model) throw new StudioError('usage', 'personas create: --model is required');
  if (!f.name) throw new StudioError('usage', 'personas create: --name is required');
  if (!f.description) throw new StudioError('usage', 'personas create: --description is required');
  const description = checkDescription(f.description);
  const engine = new Engine({ inProcess: true });
  const lib = Library.open({ dataDir: ctx.dataDir });
  let setName: string;
  try {
    const resolved = await resolveModel(lib, ctx.dataDir, f.model, {
      compile: true,
      label: '--model',
      onCompileProgress: progressPrinter('compiling'),
    });
    const status = await engine.load(resolved.dir!, { threads: f.threads ?? 0 });
    if (!status.hasTokenizer) throw new StudioError('model-load', `${resolved.dir}: writing prompts needs a model with a tokenizer`);
    // room for the answer: up to 1024 tokens, within the model's context after the meta-prompt
    const maxNewTokens = Math.max(64, Math.min(1024, (status.architecture.maxPositions as number) - 400));
    const r = await promptSetFromDescription(
      async (prompt, seed) =>
        (
          await engine.generate({
            rows: [{ prompt: { messages: [{ role: 'user', content: prompt }] }, sampling: { temperature: 0.7, topP: 0.9, seed } }],
            maxNewTokens,
          })
        ).rows[0]!.text,
      { name: f.name, description, numPrompts: f['num-prompts'] },
    );
    for (const why of r.refusals) ctx.stderr(`the model's answer was refused: ${oneLine(why)}\n`);
    if (r.source === 'template')
      ctx.stderr(
        `using our template for ${JSON.stringify(description)} (${oneLine(r.set.source ?? '')}): the model did not write a usable prompt set\n`,
      );
    const { items, spec } = promptSetToItems(r.set);
    const saved = lib.promptSets.save(r.set.name, r.set.description, items, spec, `from the description (${r.source})`);
    setName = saved.set.name;
    if (f.json)
      ctx.stdout(
        `${JSON.stringify({ source: r.source, refusals: r.refusals, promptSet: { id: saved.set.id, version: saved.version.version }, set: r.set })}\n`,
      );
    else {
      ctx.stdout(
        `prompt set ${oneLine(saved.set.name)} v${saved.version.version} (${r.source === 'model' ? 'written by the model' : 'from our template'}):\n`,
      );
      for (const [label, xs] of [
        ['positive', r.set.positive],
        ['negative', r.set.negative],
        ['questions', r.set.questions],
      ] as const) {
        ctx.stdout(`  ${label} (${xs.length}):\n${xs.map((x) => `    ${oneLine(x)}`).join('\n')}\n`);
      }
      ctx.stdout(
        `  held out: ${r.set.heldout.positive.length} positive, ${r.set.heldout.negative.length} negative, ${r.set.heldout.questions.length} questions\n`,
      );
      if (!f.yes)
        ctx.stdout(
          `review it, then train: persona-studio personas train --model ${JSON.stringify(f.model)} --name ${JSON.stringify(f.name)} --prompt-set ${JSON.stringify(setName)}\n`,
        );
    }
  } finally {
    lib.close();
    await engine.close();
  }
  if (!f.yes) return 0;
  return personasTrainOrShow(
    'train',
    { flags: { ...f, 'prompt-set': setName, description: undefined, json: f.json }, positionals: [] },
    ctx,
  );
}
