// One declaration per operation — args schema, result schema, streamed event schemas — from which
// both sides of a call are typed: the caller's methods (client.ts) and the callee's exhaustive
// handler map (server.ts). Used for host ↔ engine worker; the app's preload contract
// (renderer ↔ main) and browser mode's WebSocket follow the same pattern. Modelled on
// lmstudio-js's backend interfaces: schemas in both directions, declared once.
//
// Schemas should validate, not transform: the caller receives what the handler returned, checked
// against `result` (typed arrays are checked by class, never walked element by element).
import type { z } from 'zod';

export interface OpSpec {
  args: z.ZodType;
  result: z.ZodType;
  /** Named events the callee may stream before the result (tokens, progress…). */
  events?: Record<string, z.ZodType>;
}

export type Contract = Record<string, OpSpec>;

/** Declares a contract; the identity at run time, it only keeps the literal types. */
export function defineContract<const C extends Contract>(contract: C): C {
  return contract;
}

export type OpName<C extends Contract> = keyof C & string;
/** What a caller passes (defaults not yet applied). */
export type ArgsInput<C extends Contract, K extends OpName<C>> = z.input<C[K]['args']>;
/** What a handler receives (validated, defaults applied). */
export type ArgsOutput<C extends Contract, K extends OpName<C>> = z.output<C[K]['args']>;
/** What a handler must return. */
export type ResultInput<C extends Contract, K extends OpName<C>> = z.input<C[K]['result']>;
/** What a caller receives. */
export type ResultOutput<C extends Contract, K extends OpName<C>> = z.output<C[K]['result']>;

type EventSchemas<C extends Contract, K extends OpName<C>> =
  C[K]['events'] extends Record<string, z.ZodType> ? C[K]['events'] : Record<never, never>;
export type EventName<C extends Contract, K extends OpName<C>> = keyof EventSchemas<C, K> & string;
export type EventPayload<C extends Contract, K extends OpName<C>, E extends EventName<C, K>> = z.output<EventSchemas<C, K>[E]>;

/** Per-call hooks: one listener per event the operation declares, and cancellation. */
export interface CallOptions<C extends Contract, K extends OpName<C>> {
  signal?: AbortSignal;
  on?: { [E in EventName<C, K>]?: (payload: EventPayload<C, K, E>) => void };
}

export interface HandlerContext<C extends Contract, K extends OpName<C>> {
  /** The caller's request id. */
  id: number;
  /** Aborted when the caller cancels. */
  signal: AbortSignal;
  emit<E extends EventName<C, K>>(event: E, payload: z.input<EventSchemas<C, K>[E]>): void;
}

/** One handler per operation, no more and no fewer: a missing or extra handler fails to compile. */
export type Handlers<C extends Contract> = {
  [K in OpName<C>]: (args: ArgsOutput<C, K>, ctx: HandlerContext<C, K>) => Promise<ResultInput<C, K>> | ResultInput<C, K>;
};

/** The caller's view: one typed method per operation. */
export type ClientApi<C extends Contract> = {
  [K in OpName<C>]: (args: ArgsInput<C, K>, opts?: CallOptions<C, K>) => Promise<ResultOutput<C, K>>;
};
