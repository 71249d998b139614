// The KV cache's feeds: an empty cache hands the graph no slots (however much it has reserved), so a
// prefill attends to its own tokens only; once filled, the whole capacity is read in place with the
// unfilled slots masked.
import { describe, it, expect } from 'vitest';
import { KvCache, KV_CHUNK } from './kv-cache.ts';

const shape = { numLayers: 2, numKvHeads: 2, headDim: 4, dtype: 'float32' as const };

describe('KvCache feeds', () => {
  it('an empty cache feeds 0 slots and a mask of the new tokens only, whatever it reserved', () => {
    const c = new KvCache(shape, 3);
    c.reserve(20);
    expect(c.capacity).toBe(KV_CHUNK);
    expect(c.fedSlots).toBe(0);
    const f = c.feeds();
    expect(f.keys[0]!.dims).toEqual([3, 2, 4, 0]);
    expect(f.values[1]!.dims).toEqual([3, 2, 0, 4]);
    const newMask = BigInt64Array.from([0n, 1n, 1n, 1n, 1n, 1n]); // 3 rows × 2 new tokens, row 0 left-padded
    expect([...c.maskFor(newMask, 2)]).toEqual([...newMask]);
  });

  it('after a run it feeds the whole capacity, the filled slots masked in and the rest out', () => {
    const c = new KvCache(shape, 1);
    c.reserve(3);
    const kv = (n: number) => Array.from({ length: 2 }, () => Float32Array.from({ length: 2 * n * 4 }, (_, i) => i + 1));
    c.append(kv(2), kv(2), BigInt64Array.from([1n, 1n]), 2);
    expect(c.fedSlots).toBe(KV_CHUNK);
    expect(c.feeds().keys[0]!.dims).toEqual([1, 2, 4, KV_CHUNK]);
    const m = c.maskFor(BigInt64Array.from([1n]), 1);
    expect(m.length).toBe(KV_CHUNK + 1);
    expect([...m.subarray(0, 3)]).toEqual([1n, 1n, 0n]);
    expect(m[KV_CHUNK]).toBe(1n);
    c.truncate(0);
    expect(c.fedSlots).toBe(0);
  });
});
