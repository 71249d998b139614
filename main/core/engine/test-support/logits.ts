// Logits for sampler and log-probability tests and benches.
import { Rng } from '../rng.ts';

export const f32 = (xs: number[]) => Float32Array.from(xs);

export function softmax(l: ArrayLike<number>, T = 1): number[] {
  const xs = Array.from(l, (v) => v / T);
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Roughly normal logits (sum of uniforms) with a few peaks, like a real LM head. */
export function randomLogits(n: number, seed: number, scale = 3): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.next() + rng.next() + rng.next() - 1.5) * 2 * scale;
  for (let j = 0; j < 5; j++) out[Math.floor(rng.next() * n)] = 8 * scale - j * scale;
  return out;
}
