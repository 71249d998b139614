// The one error vocabulary: codes for anything thrown, and the zod helper's one-line messages.
import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { StudioError, errorCode, zodIssueLine, fromZod, ERROR_CODES } from './errors.ts';

describe('errorCode', () => {
  it('keeps a StudioError’s code and maps system errors; anything else is internal', () => {
    expect(errorCode(new StudioError('steering', 'x'))).toBe('steering');
    expect(errorCode(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe('not-found');
    expect(errorCode(Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toBe('resource');
    expect(errorCode(new RangeError('Array buffer allocation failed'))).toBe('resource');
    expect(errorCode(new TypeError('x is not a function'))).toBe('internal');
    expect(errorCode('a string')).toBe('internal');
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});

describe('zodIssueLine', () => {
  const schema = z.object({ rows: z.array(z.object({ topP: z.number().max(1) })) });
  const error = schema.safeParse({ rows: [{ topP: 2 }] }).error!;

  it('names the field path of the first issue, on one line', () => {
    expect(zodIssueLine(error, 'request')).toMatch(/^request\.rows\.0\.topP: Too big/);
    expect(zodIssueLine(error, 'config.json', ': field ')).toMatch(/^config\.json: field rows\.0\.topP: /);
    expect(zodIssueLine(error, 'msgs', '', 'indexed')).toMatch(/^msgs\[rows\]\[0\]\[topP\]: /);
  });

  it('leaves the path out for a root issue', () => {
    expect(zodIssueLine(z.number().safeParse('x').error!, 'value')).toMatch(/^value: Invalid input/);
  });

  it('fromZod carries the code', () => {
    const e = fromZod('config', error, 'c');
    expect(e).toBeInstanceOf(StudioError);
    expect(e.code).toBe('config');
    expect(e.message.split('\n')).toHaveLength(1);
  });
});
