// persona-studio roles run: role directions selected per (layer, position) (core/authoring/roles.ts).
import { Library } from '../../core/library/index.ts';
import { Engine } from '../../core/engine/engine.ts';
import { StudioError } from '../../core/errors.ts';
import { oneLine } from '../../core/formats/index.ts';
import { parseShard, runRoles } from '../../core/authoring/roles.ts';
import { evaluationEngine } from '../../core/evaluation/evaluate.ts';
import { defaultBaselineFile, readBaselineFile, readRolesFile } from '../../core/authoring/roles-file.ts';
import type { Parsed } from '../args.ts';
import type { ROLES_FLAGS } from '../specs.ts';
import { progressPrinter } from '../progress.ts';
import type { CliContext } from '../context.ts';

type Flags = Parsed<typeof ROLES_FLAGS>['flags'];

const fmt = (x: number | null, d: number) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));

export async function rolesRunCommand(f: Flags, ctx: CliContext): Promise<number> {
  if (!f.model) throw new StudioError('usage', 'roles run: --model is required');
  if (!f.roles) throw new StudioError('usage', 'roles run: --roles F is required (a JSON or JSONL roles file)');
  const shard = f.shard !== undefined ? parseShard(f.shard) : undefined;
  const roles = readRolesFile(f.roles);
  const baseline = readBaselineFile(f.baseline ?? defaultBaselineFile());
  const lib = Library.open({ dataDir: ctx.dataDir });
  const engine = new Engine({ inProcess: true });
  const ac = new AbortController();
  const onSigint = () =>
    ac.abort(new StudioError('cancelled', 'roles run: cancelled (finished work is kept; run the same command to resume)'));
  process.once('SIGINT', onSigint);
  try {
    const bars = new Map<string, (done: number, total: number) => void>();
    const bar = (label: string) => {
      let b = bars.get(label);
      if (!b) bars.set(label, (b = progressPrinter(label)));
      return b;
    };
    const outcomes = await runRoles(
      lib,
      ctx.dataDir,
      evaluationEngine(engine, (dir) => engine.load(dir, { provider: f.provider ?? 'auto', threads: f.threads ?? 0 })),
      {
        model: f.model,
        roles,
        baseline,
        shard,
        layers: f.layers,
        provider: f.provider,
        settings: {
          positions: f.positions,
          alpha: f.alpha,
          maxKl: f['max-kl'],
          maxPairs: f['max-pairs'],
          validationQuestions: f['validation-questions'],
          samples: f.samples,
          maxNewTokens: f['max-new-tokens'],
          seed: f.seed,
        },
        signal: ac.signal,
        onProgress: (p) => bar(`roles: ${p.role}: ${p.stage}`)(p.done, p.total),
        onCompileProgress: progressPrinter('compiling'),
      },
    );
    if (f.json) ctx.stdout(`${JSON.stringify({ shard: shard ?? null, roles: outcomes }, null, 2)}\n`);
    else {
      if (shard) ctx.stdout(`shard ${shard.index}/${shard.count}: ${outcomes.length} of ${roles.length} roles\n`);
      for (const o of outcomes)
        ctx.stdout(
          o.layer === null
            ? `${oneLine(o.role)}: no candidate kept KL under the bound (persona role:${oneLine(o.role)} saved without a recommendation)\n`
            : `${oneLine(o.role)}: layer ${o.layer}, position −${o.position}, α ${o.alpha}: ${o.selectedBy} ${fmt(o.score, 3)} (unsteered ${fmt(o.baselineScore, 3)}), KL ${fmt(o.kl, 3)}${o.reused ? ' (already done)' : ''} → persona role:${oneLine(o.role)}\n`,
        );
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    lib.close();
    await engine.close();
  }
}
