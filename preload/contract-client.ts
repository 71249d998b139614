// The renderer's client over a WebSocket (browser mode): the app contract's typed api, with results
// and events checked against the contract as they arrive (main/core/rpc/client.ts) and typed arrays
// carried by the codec. Browser WebSocket API only, no Node imports; it sits beside the contract so
// the renderer and main's tests can both import it. Tests pass the `ws` package's WebSocket (which,
// unlike a browser, must be told its Origin).
import { createClient } from '../main/core/rpc/client.ts';
import { fromJson, toJson } from '../main/core/rpc/codec.ts';
import type { ClientApi } from '../main/core/rpc/contract.ts';
import { appContract, type AppContract } from './contract.ts';

/** What the client needs of a WebSocket: the browser's, or anything shaped like it. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

export interface StudioClient {
  api: ClientApi<AppContract>;
  /** Closes the socket; the server cancels whatever this client still has running. */
  close(): void;
  /** Settles when the socket is gone (closed here, by the server, or lost). */
  closed: Promise<void>;
}

/** The WebSocket URL of a studio page's URL (http://host:port/?token=… → ws://host:port/rpc?token=…). */
export function rpcUrl(pageUrl: string): string {
  const u = new URL(pageUrl);
  const token = u.searchParams.get('token');
  return `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}/rpc${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export class StudioConnectionError extends Error {
  override name = 'StudioConnectionError';
}

/** Opens the socket and resolves once it is open (rejects if the server refuses it). */
export function connectStudio(url: string, open: (url: string) => SocketLike = (u) => new WebSocket(u)): Promise<StudioClient> {
  const socket = open(url);
  return new Promise((resolve, reject) => {
    let opened = false;
    let markClosed!: () => void;
    const closed = new Promise<void>((r) => (markClosed = r));
    const rpc = createClient(appContract, {
      name: 'studio',
      send: (m) => {
        if (socket.readyState === 1) socket.send(toJson(m));
      },
    });
    socket.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return; // the protocol is text only
      let msg: unknown;
      try {
        msg = fromJson(ev.data);
      } catch {
        return; // not decodable: nothing pending can be matched to it
      }
      rpc.receive(msg);
    });
    socket.addEventListener('open', () => {
      opened = true;
      resolve({ api: rpc.api, close: () => socket.close(), closed });
    });
    // A failed or refused socket reports 'error' and then 'close'; the close handler settles everything.
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', () => {
      rpc.close(new StudioConnectionError('studio: the connection to the server closed'));
      markClosed();
      if (!opened) reject(new StudioConnectionError(`studio: the server refused the connection to ${url.split('?')[0]}`));
    });
  });
}
