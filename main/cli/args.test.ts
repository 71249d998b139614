// The one argument parser: negative numbers, = forms, repeats, and errors that name the flag and range;
// the CLI's flag ranges and choice lists agree with the core's schemas they stand in for.
import { describe, it, expect } from 'vitest';
import { parseArgs } from './args.ts';
import { GENERATE_FLAGS, PROVIDER_FLAG, COMPILE_PROVIDER_FLAG, PRECISION_FLAG, FORMAT_FLAG } from './specs.ts';
import { samplingSchema } from '../core/engine/sampling/params.ts';
import { PROVIDER_CHOICES } from '../core/engine/session-options.ts';
import { PROVIDERS, PRECISIONS } from '../../native-models/compile.ts';
import { VECTOR_FORMATS } from '../core/formats/index.ts';

const SPECS = {
  alpha: { kind: 'number' },
  alphas: { kind: 'numbers' },
  k: { kind: 'number', int: true, min: 0, max: 10 },
  name: { kind: 'string' },
  on: { kind: 'switch' },
  mode: { kind: 'choice', choices: ['a', 'b'] },
} as const;
const parse = (...args: string[]) => parseArgs(args, SPECS, 'test');

describe('parseArgs', () => {
  it('takes negative numbers as values, in both forms', () => {
    expect(parse('--alpha', '-1.5').flags.alpha).toBe(-1.5);
    expect(parse('--alpha=-1.5').flags.alpha).toBe(-1.5);
    expect(parse('--alphas', '-2,-1,0,1,2').flags.alphas).toEqual([-2, -1, 0, 1, 2]);
  });

  it('accumulates list flags and lets the last scalar win', () => {
    expect(parse('--alphas', '-2,-1', '--alphas=3').flags.alphas).toEqual([-2, -1, 3]);
    expect(parse('--k', '1', '--k', '2').flags.k).toBe(2);
  });

  it('keeps positionals, including negative numbers and everything after --', () => {
    expect(parse('x', '-3', '--', '--alpha', '-').positionals).toEqual(['x', '-3', '--alpha', '-']);
  });

  it('takes switches bare or as =true/=false, and a string value that starts with a dash', () => {
    expect(parse('--on').flags.on).toBe(true);
    expect(parse('--on=false').flags.on).toBe(false);
    expect(parse('--name', '--weird').flags.name).toBe('--weird');
  });

  it('refuses bad values in one line naming the flag and what it accepts', () => {
    expect(() => parse('--k', '11')).toThrow('--k 11: expected an integer from 0 to 10');
    expect(() => parse('--k', '1.5')).toThrow('--k 1.5: expected an integer from 0 to 10');
    expect(() => parse('--alpha', 'NaN')).toThrow('--alpha NaN: expected a number');
    expect(() => parse('--alpha', '')).toThrow('--alpha "": expected a number');
    expect(() => parse('--alpha', '0x10')).toThrow(/--alpha 0x10: expected a number/);
    expect(() => parse('--alphas', '1,,2')).toThrow(/--alphas 1,,2: expected a comma-separated list/);
    expect(() => parse('--mode', 'c')).toThrow('--mode c: expected one of a, b');
    expect(() => parse('--alpha')).toThrow('--alpha: needs a value');
    expect(() => parse('--nope')).toThrow('test: unknown flag --nope');
    expect(() => parse('-x')).toThrow('test: unknown flag -x');
    expect(() => parse('--on=yes')).toThrow(/--on=yes: a switch takes no value/);
    expect(() => parse('--mode', 'a\nb')).toThrow('--mode "a\\nb": expected one of a, b');
  });
});

describe('the CLI specs agree with the core', () => {
  it('sampling flag ranges accept and refuse what samplingSchema does at their edges', () => {
    const pairs = [
      ['temperature', 'temperature'],
      ['top-p', 'topP'],
      ['top-k', 'topK'],
      ['min-p', 'minP'],
      ['repetition-penalty', 'repetitionPenalty'],
      ['seed', 'seed'],
    ] as const;
    for (const [flag, field] of pairs) {
      for (const v of [-1, -0.5, 0, 0.5, 1, 1.5, 2, 7]) {
        let cli = true;
        try {
          parseArgs([`--${flag}`, String(v)], GENERATE_FLAGS, 'generate');
        } catch {
          cli = false;
        }
        const core = samplingSchema.shape[field].safeParse(v).success;
        expect(`${flag} ${v}: ${cli}`).toBe(`${flag} ${v}: ${core}`);
      }
    }
  });

  it('choice lists are the core’s', () => {
    expect([...PROVIDER_FLAG]).toEqual([...PROVIDER_CHOICES]);
    expect([...COMPILE_PROVIDER_FLAG]).toEqual([...PROVIDERS]);
    expect([...PRECISION_FLAG]).toEqual([...PRECISIONS]);
    expect([...FORMAT_FLAG]).toEqual([...VECTOR_FORMATS]);
  });
});
