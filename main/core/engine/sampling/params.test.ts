import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SAMPLING_DEFAULTS, parseSamplingParams, samplingSchema } from './params.ts';

describe('samplingSchema', () => {
  it('documents every field and exposes its defaults and ranges as JSON Schema', () => {
    const json = z.toJSONSchema(samplingSchema, { io: 'input' }) as {
      properties: Record<string, { description?: string; default?: unknown; maximum?: number }>;
    };
    for (const [field, p] of Object.entries(json.properties)) expect(p.description, field).toMatch(/\w{3}/);
    expect(json.properties.topP).toMatchObject({ default: 0.9, maximum: 1 });
    expect(SAMPLING_DEFAULTS).toEqual(parseSamplingParams({}));
    expect(Object.isFrozen(SAMPLING_DEFAULTS)).toBe(true);
  });

  it('fills the studio defaults: temperature 0.7, top-p 0.9, every other filter off', () => {
    expect(parseSamplingParams({})).toEqual({
      temperature: 0.7,
      topK: 0,
      topP: 0.9,
      minP: 0,
      repetitionPenalty: 1,
      frequencyPenalty: 0,
      presencePenalty: 0,
      greedy: false,
    });
  });

  it('rejects bad input with one line naming the field', () => {
    expect(() => parseSamplingParams({ topP: 1.5 })).toThrow(/^sampling\.topP: .*<=1/);
    expect(() => parseSamplingParams({ topK: 2.5 })).toThrow(/^sampling\.topK: /);
    expect(() => parseSamplingParams({ temperature: -1 })).toThrow(/^sampling\.temperature: /);
    expect(() => parseSamplingParams({ repetitionPenalty: 0 })).toThrow(/^sampling\.repetitionPenalty: /);
    expect(() => parseSamplingParams({ top_p: 0.9 }, 'chat.sampling')).toThrow(/^chat\.sampling: .*top_p/);
    expect(() => parseSamplingParams({ seed: -3 })).toThrow(/^sampling\.seed: /);
  });
});
