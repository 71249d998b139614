// From what a user names to the engine's steering: `--persona P[=α]` (a library persona by id or
// name, or a vector file in any format the library imports), `--alpha`, `--layers`, `--alpha-mode`
// and `--ablate` — the same in generate, compare and chat, and in the app.
import fs from 'node:fs';
import type { Library } from '../library/index.ts';
import type { ModelRecord } from '../library/schema.ts';
import { importVectors } from '../formats/index.ts';
import { fitToModel } from '../formats/fit.ts';
import { StudioError } from '../errors.ts';
import type { RowSteering } from '../engine/steering.ts';
import { defaultLayer, parseLayers } from './layers.ts';
import { storedRecommendation, type StoredRecommendation } from '../evaluation/sweep-store.ts';

/** α in the `norm` scale when none is given: α × the layer's typical residual norm × the unit vector. */
export const DEFAULT_ALPHA = 1;

export interface PersonaArg {
  ref: string;
  alpha: number | null;
}

/** `P` or `P=α` (the last `=` splits only when what follows is a number, so names may hold `=`). */
export function parsePersonaArg(s: string, label = '--persona'): PersonaArg {
  const i = s.lastIndexOf('=');
  if (i > 0) {
    const tail = s.slice(i + 1).trim();
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(tail)) {
      const alpha = Number(tail);
      if (!(Math.abs(alpha) <= 1000)) throw new StudioError('usage', `${label} ${JSON.stringify(s)}: α ${tail} is outside -1000..1000`);
      return { ref: s.slice(0, i), alpha };
    }
  }
  if (!s.trim()) throw new StudioError('usage', `${label}: expected a persona name, id or vector file`);
  return { ref: s, alpha: null };
}

export interface LoadedPersona {
  name: string;
  vectors: Map<number, Float32Array>;
  source: 'library' | 'file';
  /** The newest sweep's recommended (layer, α) for these vectors (library personas only). */
  recommendation: StoredRecommendation | null;
}

/** A persona's vectors for `model`: from the library (id or exact name), else from a vector file. */
export function loadPersona(lib: Library, model: ModelRecord, ref: string, label = '--persona'): LoadedPersona {
  const named = lib.personas.named(ref);
  if (named.length > 1)
    throw new StudioError('usage', `${label} ${JSON.stringify(ref)}: ${named.length} personas have that name; give the id`);
  if (named.length === 1) {
    const p = named[0]!;
    const rec = lib.vectors.latest(p.id, model.id);
    if (!rec)
      throw new StudioError(
        'not-found',
        `${label} ${JSON.stringify(ref)}: the persona has no vectors for model ${JSON.stringify(model.name)}`,
      );
    const set = lib.vectors.get(rec.id)!;
    return {
      name: p.name,
      vectors: new Map(set.layers.map((l) => [l.layer, l.vector])),
      source: 'library',
      recommendation: storedRecommendation(lib, p.id, rec.id),
    };
  }
  if (fs.existsSync(ref)) {
    const imported = importVectors(ref, { target: model });
    const { set } = fitToModel(imported, model, 'cli');
    return {
      name: imported.persona.name,
      vectors: new Map(set.layers.map((l) => [l.layer, l.vector])),
      source: 'file',
      recommendation: null,
    };
  }
  throw new StudioError('not-found', `${label} ${JSON.stringify(ref)}: no persona has that id or name, and no such file`);
}

export interface SteeringFlags {
  personas: string[];
  alpha?: number;
  layers?: string;
  alphaMode?: 'norm' | 'raw';
  ablate?: string[];
}

/**
 * One row's steering. Layers: `--layers`, else for `norm` the persona's swept recommendation (the
 * newest `sweep` of its vectors), else the default layer; raw (a control vector applied as
 * llama.cpp applies it): every layer the file has. α: the persona's own `=α`, `--alpha`, in norm
 * mode the recommendation's, else DEFAULT_ALPHA (sweeps measure α in the norm scale only).
 */
export function buildSteering(
  lib: Library,
  model: ModelRecord,
  f: SteeringFlags,
  alphaOverride?: number,
): { steering: RowSteering; summary: string[] } {
  const mode = f.alphaMode ?? 'norm';
  const layers = f.layers !== undefined ? parseLayers(f.layers, model.numLayers) : null;
  const summary: string[] = [];
  const terms = f.personas.map((arg) => {
    const { ref, alpha } = parsePersonaArg(arg);
    const p = loadPersona(lib, model, ref);
    const rec = mode === 'norm' ? p.recommendation : null;
    const a = alphaOverride ?? alpha ?? f.alpha ?? rec?.alpha ?? DEFAULT_ALPHA;
    const at = layers ?? (mode === 'norm' ? [rec?.layer ?? defaultLayer(model.numLayers)] : [...p.vectors.keys()]);
    const missing = at.filter((b) => !p.vectors.has(b));
    if (missing.length === at.length)
      throw new StudioError('steering', `--persona ${JSON.stringify(ref)}: has no vector at layer ${at.join(', ')}`);
    const sweptAlpha = rec !== null && alphaOverride === undefined && alpha === null && f.alpha === undefined;
    const fromSweep =
      rec && (sweptAlpha || layers === null)
        ? ` (${[sweptAlpha && 'α', layers === null && 'layer'].filter(Boolean).join(' and ')} from its sweep)`
        : '';
    summary.push(
      `${p.name} α ${a} (${mode}) at layer${at.length > 1 ? 's' : ''} ${at.filter((b) => p.vectors.has(b)).join(',')}${fromSweep}`,
    );
    return { vectors: p.vectors, alpha: a, layers: at.filter((b) => p.vectors.has(b)), scale: mode };
  });
  const ablate = (f.ablate ?? []).map((ref) => ({
    vectors: loadPersona(lib, model, ref, '--ablate').vectors,
    ...(layers ? { layers } : {}),
  }));
  return { steering: { terms, ablate }, summary };
}

/**
 * The trait meter's direction for a row's steering: the first persona's vector at its first steered
 * layer (the engine streams each generated token's projection on it). One rule for chat and the app.
 */
export function monitorOf(steering: RowSteering | undefined): { layer: number; vector: Float32Array } | undefined {
  const first = steering?.terms?.[0];
  const layer = first?.layers?.[0];
  const vector = layer === undefined ? undefined : first?.vectors.get(layer);
  return layer !== undefined && vector ? { layer, vector } : undefined;
}
