// Type-level tests, checked by `tsc` (npm run typecheck), never run: a contract makes a missing
// handler, an extra one, a wrong result, an undeclared event or wrong args fail to compile.
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import { defineContract, type Handlers, type ClientApi } from './contract.ts';
import { float32Array } from './schemas.ts';

export const contract = defineContract({
  add: { args: z.object({ a: z.number(), b: z.number().default(1) }), result: z.number() },
  norms: { args: z.object({ n: z.number().int() }), result: float32Array(), events: { progress: z.object({ done: z.number() }) } },
});
type C = typeof contract;

export const complete: Handlers<C> = {
  add: ({ a, b }) => {
    expectTypeOf(b).toEqualTypeOf<number>(); // defaults applied before the handler runs
    return a + b;
  },
  norms: async ({ n }, { emit, signal }) => {
    expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
    emit('progress', { done: 1 });
    // @ts-expect-error an event the operation does not declare
    emit('token', { done: 1 });
    // @ts-expect-error a payload of the wrong shape
    emit('progress', { done: 'one' });
    return new Float32Array(n);
  },
};

// @ts-expect-error a missing handler
export const missing: Handlers<C> = { add: ({ a }) => a };

export const extra: Handlers<C> = {
  add: ({ a }) => a,
  norms: () => new Float32Array(1),
  // @ts-expect-error a handler for an operation the contract does not declare
  remove: () => null,
};

export const wrongResult: Handlers<C> = {
  // @ts-expect-error a result that is not the declared number
  add: () => 'three',
  // @ts-expect-error a plain array where the contract says Float32Array
  norms: async () => [1, 2, 3],
};

export async function caller(api: ClientApi<C>): Promise<void> {
  expectTypeOf(await api.add({ a: 1 })).toEqualTypeOf<number>();
  expectTypeOf(
    await api.norms({ n: 3 }, { on: { progress: (p) => expectTypeOf(p).toEqualTypeOf<{ done: number }>() } }),
  ).toEqualTypeOf<Float32Array>();
  // @ts-expect-error args of the wrong type
  await api.add({ a: '1' });
  // @ts-expect-error a required arg left out
  await api.add({});
  // @ts-expect-error a listener for an event the operation does not declare
  await api.norms({ n: 3 }, { on: { token: () => {} } });
  // @ts-expect-error an operation the contract does not declare
  await api.remove({});
}
