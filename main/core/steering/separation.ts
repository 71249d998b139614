// How well a direction separates the two sides on held-out activations: project every pooled row
// on the unit direction and compare the two sets of projections.

export interface SeparationStats {
  /** P(projection of a positive row > projection of a negative row), ties counting ½ (Mann–Whitney). */
  auc: number;
  /** (mean₊ − mean₋) / pooled standard deviation of the projections. */
  cohenD: number;
  /** mean₊ − mean₋ of the projections, in activation units. */
  projectionGap: number;
}

export function project(rows: Float32Array, hidden: number, direction: Float32Array): Float64Array {
  if (direction.length !== hidden) throw new Error(`direction has ${direction.length} values, activations ${hidden}`);
  let len = 0;
  for (const x of direction) len += x * x;
  len = Math.sqrt(len);
  if (!(len > 0)) throw new Error('cannot project on a zero direction');
  const n = rows.length / hidden;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < hidden; k++) s += rows[i * hidden + k]! * direction[k]!;
    out[i] = s / len;
  }
  return out;
}

/** AUC by ranking (O(n log n)), with average ranks for ties. */
export function auc(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  const all = [...Array.from(pos, (v) => ({ v, p: 1 })), ...Array.from(neg, (v) => ({ v, p: 0 }))].sort((a, b) => a.v - b.v);
  let rankSumPos = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.v === all[i]!.v) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1..j
    for (let k = i; k < j; k++) if (all[k]!.p) rankSumPos += avgRank;
    i = j;
  }
  const np = pos.length;
  const nn = neg.length;
  return (rankSumPos - (np * (np + 1)) / 2) / (np * nn);
}

export function separation(positive: Float32Array, negative: Float32Array, hidden: number, direction: Float32Array): SeparationStats {
  const p = project(positive, hidden, direction);
  const n = project(negative, hidden, direction);
  if (p.length === 0 || n.length === 0) throw new Error(`separation needs both sides (positive ${p.length}, negative ${n.length} rows)`);
  const m = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
  const mp = m(p);
  const mn = m(n);
  const ss = (x: Float64Array, mu: number) => x.reduce((a, b) => a + (b - mu) ** 2, 0);
  const dof = p.length + n.length - 2;
  const sd = dof > 0 ? Math.sqrt((ss(p, mp) + ss(n, mn)) / dof) : 0;
  const gap = mp - mn;
  // Zero spread within both sides leaves d undefined: it is capped at ±1e6 (perfect separation) so it stays finite.
  const d = sd > 0 ? gap / sd : gap === 0 ? 0 : Math.sign(gap) * 1e6;
  return { auc: auc(p, n), cohenD: Math.max(-1e6, Math.min(1e6, d)), projectionGap: gap };
}
