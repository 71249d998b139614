// The engine's messages survive both transports: structured clone (the worker thread, Electron)
// and JSON over a WebSocket (browser mode, through the codec), and still satisfy the contract.
import { describe, expect, it } from 'vitest';
import { fromJson, toJson } from '../rpc/codec.ts';
import { engineContract } from './protocol.ts';

const v = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed));

const samples = {
  generate: {
    args: {
      rows: [
        {
          prompt: { ids: [1, 2, 3] },
          sampling: { temperature: 0.7, seed: 4 },
          steering: {
            terms: [
              {
                vectors: new Map([
                  [1, v(8, 1)],
                  [2, v(8, 2)],
                ]),
                alpha: -1.5,
              },
            ],
          },
        },
        { prompt: { messages: [{ role: 'user', content: 'hi' }] }, monitor: { layer: 1, vector: v(8, 3) }, stopStrings: ['\n'] },
      ],
      maxNewTokens: 4,
      residualNorms: Float32Array.of(1, 2, 3),
    },
    result: {
      rows: [{ text: 'Once', promptTokens: [1, 2, 3], tokens: [9], finish: 'length', projections: [0.25], seed: 4 }],
      prefillMs: 1,
      decodeMs: 2,
      steps: 1,
    },
    event: ['token', { row: 0, token: 9, index: 0, ms: 0.5, text: 'Once', projection: -0.125 }],
  },
  capture: {
    args: {
      pairs: [{ prompt: [1, 2], response: [3] }],
      reduction: 'response-mean',
      steering: { ablate: [{ vectors: new Map([[0, v(8, 4)]]) }] },
    },
    result: {
      reduction: 'response-mean',
      layers: [0, 2],
      hidden: 8,
      count: 1,
      rows: new Map([
        [0, v(8, 5)],
        [2, v(8, 6)],
      ]),
      sums: new Map([
        [0, Float64Array.from(v(8, 5))],
        [2, Float64Array.from(v(8, 6))],
      ]),
      sumSquares: new Map([
        [0, new Float64Array(8)],
        [2, new Float64Array(8)],
      ]),
      tokens: Int32Array.of(1),
    },
    event: ['progress', { done: 1, total: 1 }],
  },
  score: {
    args: {
      rows: [
        { prompt: [1], continuation: [2] },
        { prompt: [1], continuation: [3] },
      ],
      steering: [undefined, { terms: [] }],
    },
    result: [{ tokenLogprobs: Float32Array.of(-Infinity), sum: -Infinity, mean: -Infinity, perplexity: Infinity }],
    event: ['progress', { done: 2, total: 2 }],
  },
} as const;

describe('engine contract messages', () => {
  for (const [op, sample] of Object.entries(samples)) {
    const spec = engineContract[op as keyof typeof samples];
    it(`${op}: args, result and events round-trip through JSON and structured clone and satisfy the contract`, () => {
      for (const carry of [structuredClone, (x: unknown) => fromJson(toJson(x))]) {
        const args = carry(sample.args);
        expect(args).toEqual(sample.args);
        expect(spec.args.safeParse(args).success).toBe(true);
        const result = carry(sample.result);
        expect(result).toEqual(sample.result);
        expect(spec.result.parse(result)).toEqual(sample.result);
        const [name, payload] = sample.event;
        const events = spec.events as Record<string, { parse(x: unknown): unknown }>;
        expect(events[name]!.parse(carry(payload))).toEqual(payload);
      }
    });
  }

  it('refuses a result of the wrong shape (a plain array where a Float32Array belongs)', () => {
    const bad = { ...samples.score.result[0], tokenLogprobs: [-1] };
    expect(engineContract.score.result.safeParse([bad]).error?.issues[0]).toMatchObject({
      path: [0, 'tokenLogprobs'],
      message: 'expected a Float32Array',
    });
  });
});
