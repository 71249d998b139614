// Scratch buffers of the sampler and topLogprobs, shared: next() is synchronous and never
// re-entered, so every sampler of a thread can use the same buffers; they grow to the largest
// vocabulary seen.
import { HIST_SIZE } from './weights.ts';

export class Scratch {
  readonly idx: Int32Array; // candidate token ids
  readonly w: Float64Array; // candidate weights p_i / p_max
  readonly vals: Float64Array; // quickselect workspace
  readonly stamp: Uint32Array; // "seen in this call" marks, compared with epoch
  readonly counts: Uint32Array; // output-token counts (reset after each call)
  readonly patchIds: Int32Array; // logits overwritten by penalties, restored before returning
  readonly patchVals: Float32Array;
  readonly sub: Int32Array; // top-p boundary bin: ids (weights in vals)
  readonly hist = new Float64Array(4 * HIST_SIZE); // top-p: weight per bin, in four lanes
  epoch = 0;
  constructor(readonly size: number) {
    this.idx = new Int32Array(size);
    this.w = new Float64Array(size);
    this.vals = new Float64Array(size);
    this.stamp = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.patchIds = new Int32Array(size);
    this.patchVals = new Float32Array(size);
    this.sub = new Int32Array(size);
  }
  nextEpoch(): number {
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }
}
let shared: Scratch | undefined;
export function scratch(size: number): Scratch {
  if (!shared || shared.size < size) shared = new Scratch(size);
  return shared;
}
