// Browser mode: the app contract over a WebSocket, and the renderer build as static files, from one
// HTTP server on loopback. Every request must carry the session token (the URL's ?token=, or the
// cookie set when that URL was opened, so the page's own assets load), a Host header naming this
// server (DNS-rebinding defence) and, for the WebSocket, an Origin equal to this server's own origin
// (a page elsewhere cannot drive the studio). Each refusal is one line in the log.
import http from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createServer as createRpcServer } from '../core/rpc/server.ts';
import { fromJson, toJson } from '../core/rpc/codec.ts';
import type { ServerMessage } from '../core/rpc/messages.ts';
import type { Handlers } from '../core/rpc/contract.ts';
import { appContract, type AppContract } from '../../preload/contract.ts';
import { StudioError } from '../core/errors.ts';

export interface StudioServerOptions {
  handlers: Handlers<AppContract>;
  /** 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. Anything but loopback is refused unless `allowNonLoopback` (the CLI's explicit --host). */
  host?: string;
  allowNonLoopback?: boolean;
  /** The renderer build; absent or without index.html, / answers that the renderer is not built. */
  staticDir?: string | null;
  /** The session token (default: 32 random bytes, base64url). */
  token?: string;
  /** One line per event (refusals, warnings). */
  log?: (line: string) => void;
}

export interface StudioServer {
  /** The URL to open, token included. */
  url: string;
  port: number;
  host: string;
  /** Calls received and not yet answered, over all sockets. */
  inFlight(): number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
const COOKIE = 'ps_token';
/** The largest message a client may send (a vector file's worth of floats, with room). */
const MAX_MESSAGE_BYTES = 64 * 2 ** 20;

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time token comparison (hashing first gives equal lengths whatever was sent). */
const tokenMatches = (sent: string | null, token: string) => sent !== null && timingSafeEqual(digest(sent), digest(token));

function cookieToken(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export async function startStudioServer(opts: StudioServerOptions): Promise<StudioServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (!isLoopback(host)) {
    if (!opts.allowNonLoopback)
      throw new StudioError('usage', `--host ${host}: not a loopback address; give --host explicitly to listen beyond this machine`);
    log(`warning: listening on ${host}, beyond this machine: anyone who can reach it and has the URL can use the studio`);
  }
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const staticDir = opts.staticDir ? path.resolve(opts.staticDir) : null;
  const inFlight = new Map<WebSocket, Set<number>>();

  const http_ = http.createServer();
  await new Promise<void>((resolve, reject) => {
    http_.once('error', reject);
    http_.listen(opts.port ?? 0, host, () => {
      http_.off('error', reject);
      resolve();
    });
  });
  const port = (http_.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const allowedHosts = new Set([`${urlHost}:${port}`]);
  if (isLoopback(host)) for (const h of ['127.0.0.1', 'localhost', '[::1]']) allowedHosts.add(`${h}:${port}`);

  /** Why a request is refused, or null. The Origin is checked for the WebSocket only (a top-level page load sends none). */
  function refusal(req: http.IncomingMessage, checkOrigin: boolean): string | null {
    const hostHeader = req.headers.host ?? '';
    if (!allowedHosts.has(hostHeader)) return `Host header ${JSON.stringify(hostHeader)} is not this server`;
    if (checkOrigin) {
      const origin = req.headers.origin;
      if (origin !== `http://${hostHeader}`)
        return `Origin ${origin === undefined ? '(none)' : JSON.stringify(origin)} is not this server's`;
    }
    const sent = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? cookieToken(req.headers.cookie);
    if (sent === null) return 'no token';
    if (!tokenMatches(sent, token)) return 'wrong token';
    return null;
  }
  const refuse = (what: string, req: http.IncomingMessage, why: string) =>
    log(`refused ${what} ${(req.url ?? '').split('?')[0]} from ${req.socket.remoteAddress}: ${why}`);

  http_.on('request', (req, res) => {
    const why = refusal(req, false);
    if (why) {
      refuse('request', req, why);
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden\n');
      return;
    }
    const headers = {
      // The token travels once in the URL; the page's own requests carry it as a cookie.
      'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
      return;
    }
    const file = staticFile(staticDir, new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) {
      const built = staticDir && fs.existsSync(path.join(staticDir, 'index.html'));
      res
        .writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' })
        .end(built ? 'not found\n' : 'Persona Studio: the renderer is not built; the contract is served at /rpc (WebSocket).\n');
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  http_.on('upgrade', (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const why = pathname !== '/rpc' ? 'not the /rpc endpoint' : refusal(req, true);
    if (why) {
      refuse('WebSocket', req, why);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, req));
  });

  function serveSocket(ws: WebSocket, req: http.IncomingMessage) {
    const pending = new Set<number>();
    inFlight.set(ws, pending);
    const send = (m: ServerMessage) => {
      if (m.type !== 'event') pending.delete(m.id);
      if (ws.readyState !== ws.OPEN) {
        if (pending.size === 0) inFlight.delete(ws);
        return;
      }
      let text: string;
      try {
        text = toJson(m);
      } catch (e) {
        text = toJson({ type: 'error', id: m.id, name: 'ProtocolError', message: `studio result: ${(e as Error).message}` });
      }
      ws.send(text);
    };
    const rpc = createRpcServer(appContract, opts.handlers, { name: 'studio', send });
    ws.on('message', (data, isBinary) => {
      let msg: unknown;
      try {
        if (isBinary) throw new Error('binary messages are not part of the protocol');
        msg = fromJson(data.toString());
      } catch (e) {
        log(`refused message from ${req.socket.remoteAddress}: ${(e as Error).message.split('\n')[0]}`);
        send({ type: 'error', id: -1, name: 'ProtocolError', message: `studio request: ${(e as Error).message.split('\n')[0]}` });
        return;
      }
      const m = msg as { type?: unknown; id?: unknown };
      // Counted only once the server takes it: a malformed call is answered at once, never pending.
      if (m?.type === 'call' && typeof m.id === 'number' && Number.isInteger(m.id)) pending.add(m.id);
      rpc.receive(msg);
    });
    ws.on('close', () => {
      // A closed page cancels what it started: nobody is left to read the result.
      for (const id of [...pending]) rpc.receive({ type: 'cancel', id });
      if (pending.size === 0) inFlight.delete(ws);
    });
  }

  return {
    url: `http://${urlHost}:${port}/?token=${token}`,
    port,
    host,
    inFlight: () => [...inFlight.values()].reduce((n, s) => n + s.size, 0),
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http_.close(() => resolve()));
    },
  };
}

/** The file under `root` a URL path names (index.html for /), or null; never anything outside root. */
function staticFile(root: string | null, pathname: string): string | null {
  if (!root) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  const file = path.resolve(root, `.${rel.endsWith('/') ? `${rel}index.html` : rel}`);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  try {
    return fs.statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}
