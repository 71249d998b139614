// Steering specs → graph inputs: α scaling, additive personas, phases, ablation directions, errors.
import { describe, it, expect } from 'vitest';
import { parseRowSteering, steerInputs, ablateInputs } from './steering.ts';
import { StudioError } from '../errors.ts';

const ctx = { numLayers: 3, hidden: 4, residualNorms: Float32Array.from([2, 10, 50]) };
const v = Float32Array.from([3, 0, 4, 0]); // |v| = 5

describe('steering inputs', () => {
  it("'norm' scales by α × the layer's residual norm × the unit vector; 'raw' adds α·v", () => {
    const rows = parseRowSteering(
      [{ terms: [{ vectors: new Map([[1, v]]), alpha: 0.1 }] }, { terms: [{ vectors: new Map([[1, v]]), alpha: 0.1, scale: 'raw' }] }],
      ctx,
    );
    const s = steerInputs(rows, ctx, 'prompt');
    expect(s[0]).toBeUndefined();
    expect(s[2]).toBeUndefined();
    // row 0: 0.1 × 10 × (0.6, 0, 0.8, 0); row 1: 0.1 × (3, 0, 4, 0)
    expect(Array.from(s[1]!)).toEqual([0.6, 0, 0.8, 0, 0.3, 0, 0.4, 0].map((x) => Math.fround(x)));
  });

  it('adds several personas and applies generated-only terms only while decoding', () => {
    const w = Float32Array.from([0, 1, 0, 0]);
    const rows = parseRowSteering(
      [
        {
          terms: [
            { vectors: new Map([[0, v]]), alpha: 1, scale: 'raw' },
            {
              vectors: new Map([
                [0, w],
                [2, w],
              ]),
              alpha: -2,
              scale: 'raw',
              positions: 'generated',
              layers: [0],
            },
          ],
        },
      ],
      ctx,
    );
    expect(Array.from(steerInputs(rows, ctx, 'prompt')[0]!)).toEqual([3, 0, 4, 0]);
    const decode = steerInputs(rows, ctx, 'generated');
    expect(Array.from(decode[0]!)).toEqual([3, -2, 4, 0]);
    expect(decode[2]).toBeUndefined(); // layers: [0] limits the second term
  });

  it('ablation: unit directions per row; one direction covers every layer', () => {
    const rows = parseRowSteering([{ ablate: [{ vectors: new Map([[0, v]]) }] }, {}], ctx);
    const a = ablateInputs(rows, ctx);
    for (const b of [0, 1, 2]) expect(Array.from(a[b]!)).toEqual([0.6, 0, 0.8, 0, 0, 0, 0, 0].map((x) => Math.fround(x)));
  });

  it('refuses vectors that do not fit the model, naming row, layer and sizes', () => {
    expect(() => parseRowSteering([{ terms: [{ vectors: new Map([[5, v]]), alpha: 1, scale: 'raw' }] }], ctx)).toThrow(
      'steering row 0: layer 5 does not exist (model has 3 layers)',
    );
    expect(() => parseRowSteering([{ terms: [{ vectors: new Map([[1, new Float32Array(7)]]), alpha: 1, scale: 'raw' }] }], ctx)).toThrow(
      'layer 1 vector has 7 values, model hidden size is 4',
    );
    expect(() => parseRowSteering([{ terms: [{ vectors: new Map([[1, v]]), alpha: 1 }] }], { ...ctx, residualNorms: null })).toThrow(
      /needs the model's residual norms/,
    );
    expect(() => parseRowSteering([{ terms: [{ vectors: new Map([[1, v]]), alpha: 1, scale: 'raw', layers: [1, 4] }] }], ctx)).toThrow(
      'steering row 0: layer 4 does not exist (model has 3 layers)',
    );
  });

  it('refuses ablation layers the model does not have, in one line naming row and layer', () => {
    const error = (ablate: { vectors: Map<number, Float32Array>; layers?: number[] }): string => {
      try {
        parseRowSteering([{}, { ablate: [ablate] }], ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(StudioError);
        expect((e as StudioError).code).toBe('steering');
        return (e as Error).message;
      }
      throw new Error('expected a steering StudioError');
    };
    // the review's case, [7, -1] on a 3-layer model, was accepted and did nothing
    expect(error({ vectors: new Map([[0, v]]), layers: [7, -1] })).toBe(
      'steering row 1: ablate.0.layers.1: Too small: expected number to be >=0',
    );
    expect(error({ vectors: new Map([[0, v]]), layers: [7] })).toBe('ablation row 1: layer 7 does not exist (model has 3 layers)');
    expect(error({ vectors: new Map([[3, v]]) })).toBe('ablation row 1: layer 3 does not exist (model has 3 layers)');
    expect(
      error({
        vectors: new Map([
          [0, v],
          [1, v],
        ]),
        layers: [2],
      }),
    ).toBe('ablation row 1: layer 2 requested but no direction is given for it');
    expect(error({ vectors: new Map([[0, new Float32Array(3)]]) })).toBe(
      'ablation row 1: layer 0 vector has 3 values, model hidden size is 4',
    );
    // valid: one direction at the layers asked for, and only there
    const a = ablateInputs(parseRowSteering([{ ablate: [{ vectors: new Map([[0, v]]), layers: [2] }] }], ctx), ctx);
    expect(a[0]).toBeUndefined();
    expect(Array.from(a[2]!)).toEqual([0.6, 0, 0.8, 0].map((x) => Math.fround(x)));
  });
});
