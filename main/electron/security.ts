// Every security decision of the desktop app as a pure function, so each is tested under plain Node
// (security.test.ts) and main.ts only wires them to Electron's events. Nothing here imports electron.
//
// The UI is served from app://studio/ (a privileged standard scheme registered in main.ts), never
// from file:// (which would give the page every file on disk as same-origin) nor from a local HTTP
// server (which any local process could reach).
import path from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
/** The page's origin as Chromium reports it for a standard scheme. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Sites a link in the UI may open, in the system browser, never in the app: model hubs and the
 * project's pages. Exact host names over https only; anything else is refused with a log line.
 */
export const EXTERNAL_HOSTS: readonly string[] = ['huggingface.co', 'github.com'];

/**
 * The Content-Security-Policy of the UI: sent with every app:// response, and written into the
 * renderer's index.html as a <meta> by its build (renderer/vite.config.ts), so browser mode has it
 * too. Scripts only from the app itself (no inline, no eval); styles also inline because Mantine
 * writes its CSS variables into a <style> element; connections only to the page's own origin (the
 * app uses a MessagePort; browser mode its own server's WebSocket, which 'self' covers); no plugins,
 * frames, forms or <base> rewriting. A <meta> cannot carry frame-ancestors (browsers ignore it there
 * and say so), so `meta` leaves it out.
 */
export function contentSecurityPolicy(delivery: 'header' | 'meta' = 'header'): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-src 'none'",
    ...(delivery === 'header' ? ["frame-ancestors 'none'"] : []),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Parses without throwing: a URL Electron hands us may be anything a page asked for. */
function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True for the app's own pages. Node's URL gives a non-special scheme the origin "null" and keeps its
 * host's case (Chromium, for a standard scheme, lower-cases it), so compare the parts.
 */
export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return !!u && u.protocol === `${APP_SCHEME}:` && u.host.toLowerCase() === APP_HOST && u.username === '' && u.password === '';
}

/** True when `url` may be opened in the system browser: https, an allow-listed host, no credentials, default port. */
export function isAllowedExternal(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  const u = parse(url);
  if (!u || u.protocol !== 'https:' || u.username !== '' || u.password !== '' || u.port !== '') return false;
  return hosts.includes(u.hostname.toLowerCase());
}

export type NavigationDecision = 'allow' | 'open-external' | 'deny';

/**
 * What to do when the page tries to go to `url` (will-navigate, will-redirect, window.open):
 * the app's own pages may reload in place; an allow-listed https link opens in the system browser;
 * everything else is refused. A new window is never created, even for the app's own URL.
 */
export function navigationDecision(
  url: string,
  kind: 'navigate' | 'new-window',
  hosts: readonly string[] = EXTERNAL_HOSTS,
): NavigationDecision {
  if (isAllowedExternal(url, hosts)) return 'open-external';
  if (kind === 'navigate' && isAppUrl(url)) return 'allow';
  return 'deny';
}

/** What main knows about the frame an IPC message came from (Electron's WebFrameMain, reduced). */
export interface SenderFrame {
  url: string;
  /** True when the frame is its page's top frame (frame === webContents.mainFrame). */
  isMainFrame: boolean;
}

/**
 * Why an IPC message must be refused, or null when its sender may talk to main: only the app's own
 * page, in its top frame (an iframe or any other origin gets nothing, whatever it sends).
 */
export function senderRefusal(frame: SenderFrame | null | undefined): string | null {
  if (!frame) return 'the sending frame is gone';
  if (!frame.isMainFrame) return `a sub-frame (${frame.url.split(/[?#]/)[0]}) is not the app's page`;
  if (!isAppUrl(frame.url)) return `${frame.url.split(/[?#]/)[0] || '(no URL)'} is not the app's page (${APP_ORIGIN})`;
  return null;
}

/**
 * The file under `root` that an app:// request names, or null when it names nothing there. The
 * path is decoded once and resolved; anything that lands outside `root` (../, %2e%2e, %2f, a
 * backslash, a drive or stream colon) or carries a NUL is refused. "/" is index.html. `pathApi`
 * is injectable so the Windows rules (path.win32) are tested on any platform.
 */
export function resolveAppPath(root: string, requestUrl: string, pathApi: typeof path = path): string | null {
  const u = parse(requestUrl);
  if (!u || !isAppUrl(requestUrl)) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  // A backslash is a separator on Windows; a colon names a drive or an NTFS stream there.
  if (rel.includes('\0') || rel.includes('\\') || rel.includes(':')) return null;
  if (rel === '') rel = '/';
  if (rel.endsWith('/')) rel += 'index.html';
  const base = pathApi.resolve(root);
  const file = pathApi.resolve(base, `.${pathApi.sep === '\\' ? rel.replaceAll('/', '\\') : rel}`);
  const rootWithSep = base.endsWith(pathApi.sep) ? base : base + pathApi.sep;
  return file.startsWith(rootWithSep) ? file : null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** The Content-Type of a served file (by extension; unknown types are opaque bytes, never sniffed). */
export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The headers of every app:// response. */
export function appResponseHeaders(file: string): Record<string, string> {
  return {
    'content-type': contentType(file),
    'content-security-policy': contentSecurityPolicy(),
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}
