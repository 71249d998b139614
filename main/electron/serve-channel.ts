// The app contract served over one message channel (in the app: the main end of a MessagePort pair
// handed to the page). Values travel by structured clone, so no codec; each call's args are
// validated against the contract by the rpc server, and a channel that closes cancels every call it
// still has running (nobody is left to read the result). Pure Node: tested with Node's MessageChannel.
import { createServer } from '../core/rpc/server.ts';
import type { ServerMessage } from '../core/rpc/messages.ts';
import type { Handlers } from '../core/rpc/contract.ts';
import { appContract, type AppContract } from '../../preload/contract.ts';
import type { Channel } from '../../preload/contract-client.ts';

export interface ServedChannel {
  /** Calls received and not yet answered. */
  inFlight(): number;
  /** Cancels what is running and closes the channel. */
  close(): void;
}

export function serveChannel(channel: Channel, handlers: Handlers<AppContract>, log: (line: string) => void): ServedChannel {
  const pending = new Set<number>();
  let closed = false;
  const send = (m: ServerMessage) => {
    if (m.type !== 'event') pending.delete(m.id);
    if (closed) return;
    try {
      channel.send(m);
    } catch (e) {
      // A value structured clone cannot carry (a function, a class with private state): answer the call, never hang it.
      const why = (e as Error).message.split('\n')[0];
      log(`studio: could not send ${m.type} of call ${m.id}: ${why}`);
      if (m.type !== 'event') channel.send({ type: 'error', id: m.id, name: 'ProtocolError', message: `studio result: ${why}` });
    }
  };
  const rpc = createServer(appContract, handlers, { name: 'studio', send });
  const cancelAll = () => {
    for (const id of [...pending]) rpc.receive({ type: 'cancel', id });
  };
  channel.onMessage((raw) => {
    const m = raw as { type?: unknown; id?: unknown } | null;
    // Counted only once the server takes it: a malformed call is answered at once, never pending.
    if (m?.type === 'call' && typeof m.id === 'number' && Number.isInteger(m.id)) pending.add(m.id);
    rpc.receive(raw);
  });
  channel.onClose?.(() => {
    closed = true;
    cancelAll();
  });
  return {
    inFlight: () => pending.size,
    close() {
      if (closed) return;
      closed = true;
      cancelAll();
      channel.close();
    },
  };
}
