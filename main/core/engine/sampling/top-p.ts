// Top-p (nucleus) boundary without sorting: a three-way quickselect that tracks the mass above
// its pivot.

/**
 * Nucleus threshold: the weight τ such that the tokens with w >= τ are the smallest (most likely
 * first) set whose weights sum to >= target; ties at τ are all kept. Reorders idx/w in tandem with a
 * three-way partition that tracks the mass above the pivot, so the expected cost is linear in n.
 */
export function nucleusThreshold(idx: Int32Array, w: Float64Array, n: number, target: number): number {
  let lo = 0;
  let hi = n;
  let acc = 0; // mass of the tokens already known to be in the nucleus
  while (hi - lo > 24) {
    const x = w[lo]!;
    const y = w[(lo + hi) >> 1]!;
    const zz = w[hi - 1]!;
    const pivot = x > y ? (y > zz ? y : x > zz ? zz : x) : x > zz ? x : y > zz ? zz : y;
    // [lo, lt) > pivot, [lt, i) == pivot, (gt, hi) < pivot
    let lt = lo;
    let i = lo;
    let gt = hi - 1;
    let massGt = 0;
    while (i <= gt) {
      const v = w[i]!;
      if (v > pivot) {
        massGt += v;
        swap(idx, w, i, lt);
        lt++;
        i++;
      } else if (v < pivot) {
        swap(idx, w, i, gt);
        gt--;
      } else {
        i++;
      }
    }
    if (acc + massGt >= target) {
      hi = lt;
      continue;
    }
    const massEq = (gt + 1 - lt) * pivot;
    if (acc + massGt + massEq >= target) return pivot;
    acc += massGt + massEq;
    lo = gt + 1;
  }
  // Small remainder: insertion sort descending, then walk.
  for (let i = lo + 1; i < hi; i++) {
    const wi = w[i]!;
    const ii = idx[i]!;
    let j = i - 1;
    while (j >= lo && w[j]! < wi) {
      w[j + 1] = w[j]!;
      idx[j + 1] = idx[j]!;
      j--;
    }
    w[j + 1] = wi;
    idx[j + 1] = ii;
  }
  for (let i = lo; i < hi; i++) {
    acc += w[i]!;
    if (acc >= target) return w[i]!;
  }
  return hi > lo ? w[hi - 1]! : w[lo]!; // rounding left the target unreached: keep all of these
}

function swap(idx: Int32Array, w: Float64Array, a: number, b: number): void {
  const ti = idx[a]!;
  idx[a] = idx[b]!;
  idx[b] = ti;
  const tw = w[a]!;
  w[a] = w[b]!;
  w[b] = tw;
}
