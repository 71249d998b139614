// Schemas for what zod has no type for: typed arrays, checked by class in O(1) — a contract
// result of millions of floats is never walked element by element.
import { z } from 'zod';

export const float32Array = () => z.custom<Float32Array>((v) => v instanceof Float32Array, { message: 'expected a Float32Array' });
export const float64Array = () => z.custom<Float64Array>((v) => v instanceof Float64Array, { message: 'expected a Float64Array' });
export const int32Array = () => z.custom<Int32Array>((v) => v instanceof Int32Array, { message: 'expected an Int32Array' });

/** Any number, NaN and ±Infinity included (zod's number() refuses them; a log-probability can be -Infinity). */
export const anyNumber = () => z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });
