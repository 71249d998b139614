// Top-k over the vocabulary without sorting it: one threshold scan with periodic quickselect, and
// the argmax, both testing eight logits per branch since almost all of them fall below the bar.

/** Value of the k-th largest (1-based) of a[0..n), reordering a. Hoare quickselect, median of 3. */
function kthLargest(a: Float64Array, n: number, k: number): number {
  const target = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const x = a[lo]!;
    const y = a[(lo + hi) >> 1]!;
    const zz = a[hi]!;
    const pivot = x > y ? (y > zz ? y : x > zz ? zz : x) : x > zz ? x : y > zz ? zz : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

/** Keeps the ids in idx[0..n) whose logit is >= thr, in order; returns the new count. */
function keepAtLeast(l: Float32Array, idx: Int32Array, n: number, thr: number): number {
  let m = 0;
  for (let j = 0; j < n; j++) {
    const id = idx[j]!;
    if (l[id]! >= thr) idx[m++] = id;
  }
  return m;
}

function kthLogit(l: Float32Array, idx: Int32Array, n: number, k: number, vals: Float64Array): number {
  for (let j = 0; j < n; j++) vals[j] = l[idx[j]!]!;
  return kthLargest(vals, n, k);
}

/**
 * Writes into idx the ids whose logit is >= the k-th largest logit (ties kept, NaN skipped) and
 * returns their count. One pass over the vocabulary: ids at or above a running threshold are
 * buffered; when the buffer fills, quickselect raises the threshold and the buffer is compacted.
 * Eight logits are tested per branch, since almost all of them fall below the threshold.
 */
export function selectTopK(l: Float32Array, V: number, k: number, idx: Int32Array, vals: Float64Array): number {
  const slack = Math.max(3 * k, 1024);
  let limit = Math.min(V, k + slack);
  let thr = -Infinity;
  let n = 0;
  const end8 = V & ~7;
  for (let i = 0; i < V; i += 8) {
    const stop = i < end8 ? i + 8 : V;
    if (
      i >= end8 ||
      l[i]! >= thr ||
      l[i + 1]! >= thr ||
      l[i + 2]! >= thr ||
      l[i + 3]! >= thr ||
      l[i + 4]! >= thr ||
      l[i + 5]! >= thr ||
      l[i + 6]! >= thr ||
      l[i + 7]! >= thr
    ) {
      for (let j = i; j < stop; j++) {
        if (l[j]! >= thr) {
          idx[n++] = j;
          if (n === limit) {
            thr = kthLogit(l, idx, n, k, vals);
            n = keepAtLeast(l, idx, n, thr);
            limit = Math.min(V, n + slack);
          }
        }
      }
    }
  }
  if (n > k) n = keepAtLeast(l, idx, n, kthLogit(l, idx, n, k, vals));
  return n;
}

/** Index of the largest logit (lowest index on ties, NaN ignored); -1 when none is > -Infinity. */
export function argmax(l: Float32Array): number {
  let best = -Infinity;
  let at = -1;
  const V = l.length;
  const end8 = V & ~7;
  for (let i = 0; i < V; i += 8) {
    const stop = i < end8 ? i + 8 : V;
    if (
      i >= end8 ||
      l[i]! > best ||
      l[i + 1]! > best ||
      l[i + 2]! > best ||
      l[i + 3]! > best ||
      l[i + 4]! > best ||
      l[i + 5]! > best ||
      l[i + 6]! > best ||
      l[i + 7]! > best
    ) {
      for (let j = i; j < stop; j++) {
        if (l[j]! > best) {
          best = l[j]!;
          at = j;
        }
      }
    }
  }
  return at;
}

/** Largest logit, ignoring NaN (-Infinity when there is none). */
export function maxLogit(l: Float32Array): number {
  const at = argmax(l);
  return at < 0 ? -Infinity : l[at]!;
}
