// The caller side of a contract: one typed method per operation, results and events checked
// against the contract's schemas before they reach the caller (a check by structure: typed arrays
// are matched by class, never walked, so a 100 MB capture costs the same to check as a small one).
// Transport-free: the owner supplies `send` and feeds `receive`.
import { firstIssue, serverMessageSchema, type ClientMessage } from './messages.ts';
import type { CallOptions, ClientApi, Contract, OpName, ArgsInput, ResultOutput } from './contract.ts';

export interface ClientOptions {
  /** Names the callee in error lines, e.g. 'engine' → "engine result capture.rows: …". */
  name: string;
  send(message: ClientMessage): void;
  /** Builds the error a call rejects with from the callee's error name and message. */
  makeError?(name: string, message: string): Error;
}

export interface RpcClient<C extends Contract> {
  readonly api: ClientApi<C>;
  call<K extends OpName<C>>(op: K, args: ArgsInput<C, K>, opts?: CallOptions<C, K>): Promise<ResultOutput<C, K>>;
  /** Feeds one message from the callee. */
  receive(raw: unknown): void;
  /** The transport is gone: rejects every pending call and every later one with `err`. */
  close(err: Error): void;
}

interface Pending {
  op: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  on: Record<string, ((payload: unknown) => void) | undefined>;
}

export function createClient<C extends Contract>(contract: C, opts: ClientOptions): RpcClient<C> {
  const { name, send } = opts;
  const makeError = opts.makeError ?? ((errName: string, message: string) => Object.assign(new Error(message), { name: errName }));
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed: Error | null = null;

  function call<K extends OpName<C>>(op: K, args: ArgsInput<C, K>, callOpts: CallOptions<C, K> = {}): Promise<ResultOutput<C, K>> {
    if (closed) return Promise.reject(closed);
    const id = nextId++;
    return new Promise<ResultOutput<C, K>>((resolve, reject) => {
      const { signal } = callOpts;
      const cancel = () => {
        if (pending.has(id)) send({ type: 'cancel', id });
      };
      // The listener goes when the call settles: one signal may span thousands of calls (a training run).
      const settle = () => signal?.removeEventListener('abort', cancel);
      pending.set(id, {
        op,
        resolve: (v) => {
          settle();
          (resolve as (v: unknown) => void)(v);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
        on: (callOpts.on ?? {}) as Pending['on'],
      });
      send({ type: 'call', id, op, args });
      if (signal) {
        if (signal.aborted) queueMicrotask(cancel);
        else signal.addEventListener('abort', cancel, { once: true });
      }
    });
  }

  const api = Object.fromEntries(
    Object.keys(contract).map((op) => [op, (args: unknown, o?: object) => call(op as OpName<C>, args as never, o)]),
  ) as ClientApi<C>;

  return {
    api,
    call,
    receive(raw) {
      const parsed = serverMessageSchema.safeParse(raw);
      if (!parsed.success) return; // not one of ours: nothing pending can be matched to it
      const msg = parsed.data;
      const p = pending.get(msg.id);
      if (!p) return;
      const spec = contract[p.op]!;
      if (msg.type === 'event') {
        const listener = p.on[msg.event];
        if (!listener) return;
        const schema = spec.events?.[msg.event];
        const value = schema?.safeParse(msg.value);
        if (!value?.success) {
          const why = value
            ? firstIssue(`${name} event ${p.op}.${msg.event}`, value.error)
            : `${name} event ${p.op}.${msg.event}: not declared by the contract`;
          pending.delete(msg.id);
          send({ type: 'cancel', id: msg.id }); // its result can no longer be delivered: stop the work
          p.reject(makeError('ProtocolError', why));
          return;
        }
        listener(value.data);
        return;
      }
      pending.delete(msg.id);
      if (msg.type === 'error') {
        p.reject(makeError(msg.name, msg.message));
        return;
      }
      const value = spec.result.safeParse(msg.value);
      if (value.success) p.resolve(value.data);
      else p.reject(makeError('ProtocolError', firstIssue(`${name} result ${p.op}`, value.error)));
    },
    close(err) {
      closed ??= err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    },
  };
}
