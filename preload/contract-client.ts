// The renderer's client: the app contract's typed api, with results and events checked against the
// contract as they arrive (main/core/rpc/client.ts), over any Channel: a MessagePort from the desktop
// app's preload bridge (connectBridge), or a WebSocket in browser mode (connectStudio, typed arrays
// carried by the codec). Browser WebSocket API only, no Node imports; it sits beside the contract so
// the renderer and main's tests can both import it. Tests pass the `ws` package's WebSocket (which,
// unlike a browser, must be told its Origin).
import { createClient } from '../main/core/rpc/client.ts';
import { fromJson, toJson } from '../main/core/rpc/codec.ts';
import type { ClientApi } from '../main/core/rpc/contract.ts';
import { appContract, type AppContract } from './contract.ts';
import { BRIDGE_KEY, PORT_MESSAGE, type StudioBridge } from './contract-bridge.ts';

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
  /** Closes the connection; the other side cancels whatever this client still has running. */
  close(): void;
  /** Settles when the connection is gone (closed here, by the other side, or lost). */
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

/**
 * Any two-way message transport: a MessagePort (the desktop app), a WebSocket wrapped by
 * connectStudio (browser mode), a test pair. Messages are the rpc envelopes as values; a transport
 * that carries text encodes them itself.
 */
export interface Channel {
  send(message: unknown): void;
  /** Registers the one receiver of everything the other side sends. */
  onMessage(listener: (message: unknown) => void): void;
  /** Registers a callback for when the transport is gone (optional: a MessagePort in a page never says). */
  onClose?(listener: () => void): void;
  close(): void;
}

/** The app contract's client over any channel: one client implementation for every transport. */
export function connectChannel(channel: Channel, describe = 'the studio'): StudioClient {
  let markClosed!: () => void;
  const closed = new Promise<void>((r) => (markClosed = r));
  let done = false;
  const rpc = createClient(appContract, { name: 'studio', send: (m) => !done && channel.send(m) });
  const finish = () => {
    if (done) return;
    done = true;
    rpc.close(new StudioConnectionError(`studio: the connection to ${describe} closed`));
    markClosed();
  };
  channel.onMessage((m) => rpc.receive(m));
  channel.onClose?.(finish);
  return {
    api: rpc.api,
    close: () => {
      channel.close();
      finish();
    },
    closed,
  };
}

/** What connectChannel needs of a MessagePort (the DOM's, or Node's in tests). */
export interface PortLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  start(): void;
  close(): void;
}

/** A MessagePort as a Channel: values go by structured clone, so typed arrays and Maps arrive as they are. */
export function portChannel(port: PortLike): Channel {
  return {
    send: (m) => port.postMessage(m),
    onMessage: (listener) => {
      port.addEventListener('message', (ev) => listener(ev.data));
      port.start();
    },
    close: () => port.close(),
  };
}

/** What the page needs of `window` to take its port from the preload bridge. */
export interface BridgeWindow {
  readonly location: { readonly origin: string };
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
}

/** The desktop app's bridge, when the page runs under the preload (window.studioBridge), else null. */
export function findBridge(win: object = globalThis): StudioBridge | null {
  const bridge = (win as Record<string, unknown>)[BRIDGE_KEY] as Partial<StudioBridge> | undefined;
  return typeof bridge?.connect === 'function' ? (bridge as StudioBridge) : null;
}

/**
 * Asks the bridge for a channel and resolves with the app contract's client over its MessagePort.
 * Main answers at once, or never when it refuses the sender (it logs why): then this rejects after
 * `timeoutMs` instead of leaving the page on its loader.
 */
export function connectBridge(bridge: StudioBridge, win: BridgeWindow = window, timeoutMs = 15_000): Promise<StudioClient> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      win.removeEventListener('message', onPort);
      reject(new StudioConnectionError(`studio: the app did not open a channel within ${timeoutMs / 1000} s (its log says why)`));
    }, timeoutMs);
    const onPort = (ev: MessageEvent) => {
      // Only the preload's message to this page (same window, same origin) carries our port.
      const port = ev.ports?.[0];
      if (ev.data !== PORT_MESSAGE || ev.origin !== win.location.origin || !port) return;
      clearTimeout(timer);
      win.removeEventListener('message', onPort);
      resolve(connectChannel(portChannel(port), 'the app'));
    };
    win.addEventListener('message', onPort);
    bridge.connect();
  });
}

/** Opens the socket and resolves once it is open (rejects if the server refuses it). */
export function connectStudio(url: string, open: (url: string) => SocketLike = (u) => new WebSocket(u)): Promise<StudioClient> {
  const socket = open(url);
  return new Promise((resolve, reject) => {
    let opened = false;
    // The WebSocket carries text: each envelope is encoded by the codec (typed arrays, Maps, NaN survive).
    const channel: Channel = {
      send: (m) => {
        if (socket.readyState === 1) socket.send(toJson(m));
      },
      onMessage: (listener) =>
        socket.addEventListener('message', (ev) => {
          if (typeof ev.data !== 'string') return; // the protocol is text only
          let msg: unknown;
          try {
            msg = fromJson(ev.data);
          } catch {
            return; // not decodable: nothing pending can be matched to it
          }
          listener(msg);
        }),
      onClose: (listener) => socket.addEventListener('close', listener),
      close: () => socket.close(),
    };
    socket.addEventListener('open', () => {
      opened = true;
      resolve(connectChannel(channel, 'the server'));
    });
    // A failed or refused socket reports 'error' and then 'close'; the close handler settles everything.
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', () => {
      if (!opened) reject(new StudioConnectionError(`studio: the server refused the connection to ${url.split('?')[0]}`));
    });
  });
}
