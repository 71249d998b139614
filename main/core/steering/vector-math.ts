// Arithmetic on vector sets of one model, per layer, accumulated in float64: a·v1 + b·v2 + …, and
// v1 with its component along v2 removed. Only layers present in every operand are produced.
import { layerVector, type LayerVector, type PersonaVectorSet } from '../library/schema.ts';

function commonLayers(sets: PersonaVectorSet[]): number[] {
  const [first, ...rest] = sets;
  const layers = first!.layers.map((l) => l.layer).filter((b) => rest.every((s) => s.layers.some((l) => l.layer === b)));
  if (layers.length === 0) throw new Error('the vectors share no layer');
  return layers;
}

function sameShape(sets: PersonaVectorSet[]): void {
  const a = sets[0]!;
  for (const s of sets) {
    if (s.hiddenSize !== a.hiddenSize || s.numLayers !== a.numLayers) {
      throw new Error(
        `cannot combine vectors of hidden size ${a.hiddenSize} × ${a.numLayers} layers with ${s.hiddenSize} × ${s.numLayers}`,
      );
    }
  }
}

const byLayer = (s: PersonaVectorSet, b: number): Float32Array => s.layers.find((l) => l.layer === b)!.vector;

/** Σ coefs[i]·sets[i] on the layers they share. */
export function combineLayers(sets: PersonaVectorSet[], coefs: number[]): LayerVector[] {
  if (sets.length === 0 || sets.length !== coefs.length) throw new Error('combine needs one coefficient per vector');
  if (!coefs.every(Number.isFinite)) throw new Error('combine coefficients must be finite numbers');
  sameShape(sets);
  const h = sets[0]!.hiddenSize;
  return commonLayers(sets).map((b) => {
    const acc = new Float64Array(h);
    sets.forEach((s, i) => {
      const v = byLayer(s, b);
      for (let j = 0; j < h; j++) acc[j]! += coefs[i]! * v[j]!;
    });
    return layerVector(b, Float32Array.from(acc));
  });
}

/** base − (base·against / against·against)·against per shared layer; a zero `against` leaves base. */
export function orthogonalizeLayers(base: PersonaVectorSet, against: PersonaVectorSet): LayerVector[] {
  sameShape([base, against]);
  const h = base.hiddenSize;
  return commonLayers([base, against]).map((b) => {
    const v = byLayer(base, b);
    const u = byLayer(against, b);
    let dot = 0;
    let uu = 0;
    for (let j = 0; j < h; j++) {
      dot += v[j]! * u[j]!;
      uu += u[j]! * u[j]!;
    }
    const k = uu === 0 ? 0 : dot / uu;
    const out = new Float32Array(h);
    for (let j = 0; j < h; j++) out[j] = v[j]! - k * u[j]!;
    return layerVector(b, out);
  });
}

/** Derived values, computed on demand rather than stored. */
export function unitVector(l: LayerVector): Float32Array {
  const out = new Float32Array(l.vector.length);
  if (l.norm === 0) return out;
  for (let i = 0; i < out.length; i++) out[i] = l.vector[i]! / l.norm;
  return out;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : d / Math.sqrt(na * nb);
}
