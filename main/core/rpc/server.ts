// The callee side of a contract: validates each call's args against its schema, runs the handler
// with an AbortSignal and a typed `emit`, and answers with one 'result' or 'error'. Transport-free:
// the owner feeds `receive` and supplies `send`.
import { clientMessageSchema, firstIssue, type ServerMessage } from './messages.ts';
import type { Contract, Handlers, HandlerContext, OpName } from './contract.ts';

export interface ServerOptions<C extends Contract> {
  /** Names the callee in error lines, e.g. 'engine' → "engine request args.rows: …". */
  name: string;
  send(message: ServerMessage): void;
  /**
   * Runs a call's work. Default: at once. The engine worker serialises load/unload against all
   * other work here. Whatever `run` throws has already been answered as an 'error'.
   */
  schedule?(op: OpName<C>, run: () => Promise<void>): void;
}

export interface RpcServer {
  /** Feeds one message from the caller (anything: it is validated here). */
  receive(raw: unknown): void;
}

export function createServer<C extends Contract>(contract: C, handlers: Handlers<C>, opts: ServerOptions<C>): RpcServer {
  const { name, send } = opts;
  const schedule = opts.schedule ?? ((_op, run) => void run());
  /** One per call from its arrival, so a call still waiting to be scheduled can be cancelled too. */
  const controllers = new Map<number, AbortController>();
  const fail = (id: number, errName: string, message: string) => send({ type: 'error', id, name: errName, message });

  return {
    receive(raw) {
      const envelope = clientMessageSchema.safeParse(raw);
      if (!envelope.success) {
        const id = typeof (raw as { id?: unknown } | null)?.id === 'number' ? (raw as { id: number }).id : -1;
        fail(id, 'ProtocolError', firstIssue(`${name} request`, envelope.error, ' '));
        return;
      }
      const msg = envelope.data;
      // Cancellation never waits behind the call it cancels.
      if (msg.type === 'cancel') {
        controllers.get(msg.id)?.abort();
        return;
      }
      if (!Object.hasOwn(contract, msg.op)) {
        fail(msg.id, 'ProtocolError', `${name} request op: unknown operation '${msg.op}'`);
        return;
      }
      const op = msg.op as OpName<C>;
      const spec = contract[op]!;
      const args = spec.args.safeParse(msg.args);
      if (!args.success) {
        fail(msg.id, 'ProtocolError', firstIssue(`${name} request args`, args.error));
        return;
      }
      const controller = new AbortController();
      controllers.set(msg.id, controller);
      const ctx: HandlerContext<C, typeof op> = {
        id: msg.id,
        signal: controller.signal,
        emit: (event, value) => send({ type: 'event', id: msg.id, event, value }),
      };
      schedule(op, async () => {
        // Let messages already delivered (a cancel sent right behind its call) land first.
        await new Promise<void>((resolve) => setImmediate(resolve));
        try {
          const handler = handlers[op] as (a: unknown, c: typeof ctx) => unknown;
          send({ type: 'result', id: msg.id, value: await handler(args.data, ctx) });
        } catch (e) {
          // A StudioError travels as its stable code, so the other side rebuilds the same error.
          const err = e as Error & { code?: unknown };
          fail(
            msg.id,
            typeof err?.code === 'string' && err.name === 'StudioError' ? err.code : (err?.name ?? 'Error'),
            String(err?.message ?? err).split('\n')[0]!,
          );
        } finally {
          controllers.delete(msg.id);
        }
      });
    },
  };
}
