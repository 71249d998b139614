// Role directions (Role-Vectors; refusal_direction's recipe): for every role, candidate directions
// per (layer, post-instruction token position) — the mean residual stream of prompts under the
// role's instructions minus that under the baseline's generic-assistant instructions, the same
// training questions on both sides, at each of the last K prompt tokens (the chat template's tokens
// after the user turn, where the model has read the instruction and the question and is about to
// answer). Each candidate steers replies to validation questions (the sweep's machinery: seeded,
// checkpointed, KL on neutral prompts); the chosen one expresses the role most — its domain
// vocabulary (markers) when the roles file gives it, else the projection gain — among those whose KL
// stays under the bound; the last ~20% of layers are skipped by default (they steer the output
// distribution directly rather than the role). The result is a library persona "role:NAME" with the
// chosen position's direction at every candidate layer, and the choice stored as its recommendation
// (a sweep-kind evaluation), so generate, chat and eval steer with it by default.
//
// Many roles per run; resumable (a role already in the library with this run's key is reused, and
// a role cut short resumes from its sweep checkpoints). `shard {index, count}` runs the roles whose
// position in the roles file is index mod count: each SLURM array task writes its own data dir, and
// `library import` of their archives into one library gives what one unsharded run gives (each
// role's work depends only on the role, the baseline, the model and the settings).
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { layerVector, type Library } from '../library/index.ts';
import { resolveModel } from '../model-ref.ts';
import { StudioError } from '../errors.ts';
import { TextTokenizer } from '../../../native-models/tokenizer/tokenizer.ts';
import { ensureNorms } from '../steering/calibration.ts';
import { parseLayers } from '../steering/layers.ts';
import { neutralPrompts, runSweep, type SweepResult } from '../evaluation/sweep.ts';
import { saveSweep } from '../evaluation/sweep-store.ts';
import { sweepReport } from '../evaluation/sweep-report.ts';
import type { EvaluationEngine } from '../evaluation/evaluate.ts';
import type { RoleSpec, RolesBaseline } from './roles-file.ts';

export const rolesSettingsSchema = z.strictObject({
  /** Candidate layers; default: the first ~80% (the last fifth is skipped). */
  layers: z.array(z.int().nonnegative()).min(1).optional(),
  /** Post-instruction positions: the last K prompt tokens. */
  positions: z.int().min(1).max(16).default(4),
  /** α (norm scale) every candidate is tried with on the validation questions. */
  alpha: z.number().gt(0).max(100).default(1),
  /** Mean KL(unsteered ‖ steered) on neutral prompts a chosen candidate must stay under, nats. */
  maxKl: z.number().min(0).default(2),
  /** Prompts per side (instruction × question) for the directions. */
  maxPairs: z.int().min(2).max(10_000).default(48),
  /** Validation questions each candidate answers. */
  validationQuestions: z.int().min(1).max(1000).default(8),
  samples: z.int().min(1).max(64).default(1),
  maxNewTokens: z.int().min(1).max(4096).default(32),
  seed: z.int().min(0).default(1),
  batchSize: z.int().min(1).max(64).default(64),
});
export type RolesSettings = z.output<typeof rolesSettingsSchema>;

export interface RoleCandidate {
  layer: number;
  /** 1: the last prompt token, 2: the one before, … */
  position: number;
  traitGain: number;
  markerScore: number | null;
  kl: number;
  perplexity: number;
}

export interface RoleOutcome {
  role: string;
  index: number;
  personaId: string;
  vectorId: string;
  /** null when no candidate kept KL under the bound (the persona is still saved, with no recommendation). */
  layer: number | null;
  position: number | null;
  alpha: number;
  selectedBy: 'markers' | 'projection';
  /** The chosen candidate's validation score and the unsteered replies' (markers per 100 words, or 0 for projection). */
  score: number | null;
  baselineScore: number | null;
  kl: number | null;
  reused: boolean;
  candidates: RoleCandidate[];
}

export interface RolesProgress {
  role: string;
  stage: 'capture' | 'generate' | 'score';
  done: number;
  total: number;
  etaMs: number | null;
}

export interface RolesRequest {
  model: string;
  roles: RoleSpec[];
  baseline: RolesBaseline;
  settings: z.input<typeof rolesSettingsSchema>;
  shard?: { index: number; count: number };
  /** Candidate layers as the CLI's --layers grammar (all, b, a-b, a list), checked against the model; overrides settings.layers. */
  layers?: string;
  provider?: string;
  signal?: AbortSignal;
  onProgress?: (p: RolesProgress) => void;
  onCompileProgress?: (done: number, total: number) => void;
}

export const rolePersonaName = (role: string) => `role:${role}`;

/** The layers tried by default: all but the last fifth. */
export function defaultRoleLayers(numLayers: number): number[] {
  return [...Array(Math.max(1, Math.floor(numLayers * 0.8))).keys()];
}

/** "i/n" → {index, count}; one line naming the flag otherwise. */
export function parseShard(s: string, label = '--shard'): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count))
    throw new StudioError('usage', `${label} ${JSON.stringify(s)}: expected i/n with 0 <= i < n (e.g. 0/4; SLURM: $SLURM_ARRAY_TASK_ID/N)`);
  return { index, count };
}

/** The role's prompts (instruction × question, cycling both) as chat token ids. */
function promptsFor(tok: TextTokenizer, instructions: string[], questions: string[], n: number): number[][] {
  const out: number[][] = [];
  const total = Math.min(n, instructions.length * questions.length);
  for (let k = 0; k < total; k++) {
    const instr = instructions[k % instructions.length]!;
    // Walk the questions so that every (instruction, question) pair comes up before any repeats.
    const q = questions[(k + Math.floor(k / questions.length)) % questions.length]!;
    out.push(
      tok.encodeChat(
        [
          { role: 'system', content: instr },
          { role: 'user', content: q },
        ],
        { addGenerationPrompt: true },
      ),
    );
  }
  return out;
}

export async function runRoles(lib: Library, dataDir: string, engine: EvaluationEngine, req: RolesRequest): Promise<RoleOutcome[]> {
  const s = rolesSettingsSchema.parse(req.settings);
  const names = new Set<string>();
  for (const r of req.roles) {
    if (names.has(r.name)) throw new StudioError('usage', `roles: role ${JSON.stringify(r.name)} appears twice`);
    names.add(r.name);
  }
  const resolved = await resolveModel(lib, dataDir, req.model, {
    compile: true,
    label: '--model',
    provider: req.provider,
    signal: req.signal,
    onCompileProgress: req.onCompileProgress,
  });
  const model = resolved.record;
  if (!model) throw new StudioError('not-found', `--model ${req.model}: roles need the model in the library (compile it first)`);
  const layers = req.layers !== undefined ? parseLayers(req.layers, model.numLayers) : (s.layers ?? defaultRoleLayers(model.numLayers));
  const bad = layers.find((b) => b >= model.numLayers);
  if (bad !== undefined) throw new StudioError('usage', `--layers: layer ${bad} is outside this model's layers 0-${model.numLayers - 1}`);
  const status = await engine.load(resolved.dir!);
  if (!status.hasTokenizer) throw new StudioError('model-load', `--model ${req.model}: roles need the model's tokenizer`);
  const tok = TextTokenizer.load(resolved.dir!);
  if (!tok.hasChatTemplate) throw new StudioError('model-load', `--model ${req.model}: roles need a chat model (a chat template)`);
  const norms = await ensureNorms(resolved.dir!, model.numLayers, tok, (sequences) => engine.residualNorms({ sequences }));
  const neutral = neutralPrompts(tok);
  const b = req.baseline;
  const validation = b.questions.validation.slice(0, s.validationQuestions);
  const baselinePrompts = promptsFor(tok, b.instructions, b.questions.train, s.maxPairs);

  const out: RoleOutcome[] = [];
  for (const [index, role] of req.roles.entries()) {
    if (req.shard && index % req.shard.count !== req.shard.index) continue;
    if (req.signal?.aborted) throw req.signal.reason ?? new StudioError('cancelled', 'roles: cancelled');
    // Everything about this role's result, and nothing about the run's other roles or shards.
    const key = createHash('sha256')
      .update(JSON.stringify({ m: model.id, h: model.contentHash, role, b, s: { ...s, layers }, v: 1 }))
      .digest('hex')
      .slice(0, 16);
    const name = rolePersonaName(role.name);
    const selectedBy = role.markers.length ? 'markers' : 'projection';
    const existing = lib.personas
      .named(name)
      .map((p) => ({ p, v: lib.vectors.latest(p.id, model.id) }))
      .find(({ v }) => v?.provenance.settings.rolesKey === key);
    if (existing) {
      const sel = existing.v!.provenance.settings.selection as Omit<RoleOutcome, 'reused' | 'personaId' | 'vectorId'>;
      out.push({ ...sel, personaId: existing.p.id, vectorId: existing.v!.id, reused: true });
      continue;
    }
    const progress = (stage: RolesProgress['stage'], done: number, total: number, etaMs: number | null = null) =>
      req.onProgress?.({ role: role.name, stage, done, total, etaMs });

    // Candidate directions: mean over role prompts − mean over baseline prompts, per (position, layer).
    const rolePrompts = promptsFor(tok, role.instructions, b.questions.train, s.maxPairs);
    const directions = new Map<number, Map<number, Float32Array>>();
    for (let pos = 1; pos <= s.positions; pos++) {
      // By causality the state at position −pos is the last state of the prompt cut after it.
      const mean = async (prompts: number[][]) => {
        const cap = await engine.capture(
          {
            pairs: prompts.map((p) => ({ prompt: p.slice(0, p.length - (pos - 1)), response: [] })),
            reduction: 'last-prompt',
            layers,
            keepRows: false,
          },
          { signal: req.signal },
        );
        return new Map(layers.map((l) => [l, Float64Array.from(cap.sums.get(l)!, (x) => x / cap.count)]));
      };
      const [rm, bm] = [await mean(rolePrompts), await mean(baselinePrompts)];
      directions.set(pos, new Map(layers.map((l) => [l, Float32Array.from(rm.get(l)!, (x, j) => x - bm.get(l)![j]!)])));
      progress('capture', pos, s.positions);
    }

    // Selection on the validation questions, one sweep (all candidate layers) per position.
    const jobDir = path.join(dataDir, 'jobs', `roles-${key}`);
    const results = new Map<number, SweepResult>();
    const candidates: RoleCandidate[] = [];
    for (let pos = 1; pos <= s.positions; pos++) {
      const r = await runSweep(
        engine,
        {
          vectors: directions.get(pos)!,
          questions: validation,
          neutralPrompts: neutral,
          markers: role.markers.length ? { positive: role.markers, negative: [] } : null,
          residualNorms: norms,
          chat: true,
        },
        {
          layers,
          alphas: [s.alpha],
          samples: s.samples,
          maxNewTokens: s.maxNewTokens,
          seed: s.seed + index * 100_003,
          batchSize: s.batchSize,
          rule: { maxPerplexityIncrease: 100, maxKl: s.maxKl },
        },
        { checkpointDir: path.join(jobDir, `p${pos}`), signal: req.signal, onProgress: (p) => progress(p.stage, p.done, p.total, p.etaMs) },
      );
      results.set(pos, r);
      for (const c of r.cells)
        candidates.push({
          layer: c.layer,
          position: pos,
          traitGain: c.traitGain,
          markerScore: c.markerScore,
          kl: c.kl,
          perplexity: c.perplexity,
        });
    }
    const value = (c: RoleCandidate) => (selectedBy === 'markers' ? (c.markerScore ?? -Infinity) : c.traitGain);
    const ok = candidates.filter((c) => c.kl <= s.maxKl && Number.isFinite(c.traitGain));
    ok.sort((x, y) => value(y) - value(x) || y.traitGain - x.traitGain || x.layer - y.layer || x.position - y.position);
    const best = ok[0] ?? null;
    const pos = best?.position ?? 1;
    const chosen = results.get(pos)!;
    const baselineScore = selectedBy === 'markers' ? chosen.baseline.markerScore : 0;
    const selection: Omit<RoleOutcome, 'reused' | 'personaId' | 'vectorId'> = {
      role: role.name,
      index,
      layer: best?.layer ?? null,
      position: best?.position ?? null,
      alpha: s.alpha,
      selectedBy,
      score: best ? value(best) : null,
      baselineScore,
      kl: best?.kl ?? null,
      candidates,
    };

    const rule =
      `the largest ${selectedBy === 'markers' ? 'role marker score (domain words per 100 words)' : 'trait gain (projection rise over the unsteered replies, as a share of the residual norm)'} ` +
      `on ${validation.length} validation questions at α ${s.alpha}, over (layer, position) candidates with KL on neutral prompts under ${s.maxKl} nats; ` +
      `layers ${layers[0]}-${layers[layers.length - 1]}, the last ${s.positions} prompt positions`;
    const { persona, vector } = lib.createPersonaWithVectors(
      { name, description: `the ${role.name} role (${role.instructions[0]})`, tags: [`role:${role.name}`], notes: '' },
      model.id,
      {
        modelId: model.name,
        modelHash: model.contentHash ?? null,
        hiddenSize: model.hiddenSize,
        numLayers: model.numLayers,
        layers: layers.map((l) => layerVector(l, directions.get(pos)!.get(l)!)),
        method: 'mean-diff',
        reduction: 'last-prompt',
        counts: { positive: rolePrompts.length, negative: baselinePrompts.length },
        provenance: {
          promptSetHash: null,
          settings: {
            ...s,
            layers,
            rolesKey: key,
            role: role.name,
            position: pos,
            selection: JSON.parse(JSON.stringify(selection)) as unknown,
          },
          seed: s.seed,
          appVersion: lib.appVersion,
          createdAt: new Date().toISOString(),
        },
      },
    );
    // The choice as the persona's recommendation (a sweep-kind evaluation of the chosen position).
    const rec = best
      ? {
          layer: best.layer,
          alpha: s.alpha,
          rule,
          reason: `layer ${best.layer}, position −${best.position}: ${selectedBy} ${value(best).toFixed(3)} (unsteered ${baselineScore?.toFixed(3) ?? '—'}), KL ${best.kl.toFixed(3)}; ${ok.length} of ${candidates.length} candidates under the KL bound`,
          traitGain: best.traitGain,
          perplexity: best.perplexity,
          kl: best.kl,
        }
      : {
          layer: null,
          alpha: null,
          rule,
          reason: `none of the ${candidates.length} candidates kept KL under ${s.maxKl}`,
          traitGain: null,
          perplexity: null,
          kl: null,
        };
    saveSweep(
      lib,
      sweepReport(
        { ...chosen, recommendation: rec },
        {
          model: { name: model.name, id: model.id, contentHash: model.contentHash ?? null },
          persona: { name, id: persona.id, vectorId: vector.id },
          questionsFrom: 'the roles baseline (validation questions)',
          appVersion: lib.appVersion,
          createdAt: new Date().toISOString(),
          wallMs: 0,
        },
      ),
      { personaId: persona.id, vectorId: vector.id, modelId: model.id },
    );
    out.push({ ...selection, personaId: persona.id, vectorId: vector.id, reused: false });
  }
  return out;
}
