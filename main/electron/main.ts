// Electron main: the desktop face of the studio. One window showing the renderer build from the
// app:// protocol, talking to the app service (main/core/app-service.ts, the same handlers browser
// mode serves over a WebSocket) through a MessagePort per page. Every decision about what the page
// may load, open, navigate to or ask for lives in security.ts as a pure, tested function; this file
// only wires those decisions to Electron's events. Bundled to out/electron-main.mjs (package.json "main").
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  MessageChannelMain,
  protocol,
  safeStorage,
  session,
  shell,
  type MessagePortMain,
  type WebContents,
} from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppService, type AppService } from '../core/app-service.ts';
import { resolveDataDir } from '../core/data-dir.ts';
import type { Channel } from '../../preload/contract-client.ts';
import { CONNECT_CHANNEL, PORT_CHANNEL } from '../../preload/contract-bridge.ts';
import { APP_ENTRY_URL, APP_SCHEME, appResponseHeaders, navigationDecision, resolveAppPath, senderRefusal } from './security.ts';
import { serveChannel, type ServedChannel } from './serve-channel.ts';
import { openLogFile } from './log-file.ts';
import { safeStorageSecretStore, safeStorageUsable } from './secret-store.ts';
import { electronPdfPrinter } from './print-pdf.ts';
import { beginRun, endRun, uncleanEndMessage, type PreviousRun } from './run-marker.ts';

/** out/ (this bundle's folder): the renderer build and the preload sit beside it. */
const OUT_DIR = path.dirname(fileURLToPath(import.meta.url));
const RENDERER_DIR = path.join(OUT_DIR, 'renderer');
const PRELOAD = path.join(OUT_DIR, 'preload.cjs');

// ---- Before ready: data dir, log, crash marker, scheme, sandbox ------------------------------------
// userData is the data dir the CLI and browser mode use (PERSONA_STUDIO_HOME, else the platform's
// folder for "persona-studio"), so all three share one library; Chromium's own caches go below it.
const dataDir = resolveDataDir({});
app.setPath('userData', dataDir);
app.setPath('sessionData', path.join(dataDir, 'electron'));
const log = openLogFile(path.join(dataDir, 'logs'));
const say = (line: string) => {
  log.write(line);
  process.stderr.write(`persona-studio: ${line}\n`);
};
// Logged with its stack, and shown (Electron's own dialog would be lost behind this handler).
process.on('uncaughtException', (e) => {
  say(`uncaught: ${e.stack ?? e}`);
  if (app.isReady()) dialog.showErrorBox('Persona Studio', `${String(e.message).split('\n')[0]}\n\nDetails are in ${log.file}.`);
});
process.on('unhandledRejection', (e) => say(`unhandled rejection: ${(e as Error)?.stack ?? e}`));

// One app per data dir: two would share a library and a compile cache without coordinating.
if (!app.requestSingleInstanceLock()) {
  process.stderr.write('persona-studio: the app is already running; switching to it\n');
  app.exit(0);
}

protocol.registerSchemesAsPrivileged([
  // standard + secure: a real origin (app://studio) with localStorage and module scripts, treated like https.
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
]);
app.enableSandbox(); // every renderer sandboxed, whatever a window asks for

let previousRun: PreviousRun | null = null;
let service: AppService | null = null;
let mainWindow: BrowserWindow | null = null;
/** The channels served to each page, closed when the page goes. */
const channels = new Map<WebContents, Set<ServedChannel>>();

function portChannel(port: MessagePortMain): Channel {
  return {
    send: (m) => port.postMessage(m),
    onMessage: (listener) => {
      port.on('message', (e) => listener(e.data));
      port.start();
    },
    onClose: (listener) => port.on('close', listener),
    close: () => port.close(),
  };
}

function closeChannels(contents: WebContents) {
  for (const c of channels.get(contents) ?? []) c.close();
  channels.delete(contents);
}

// ---- Every web contents, whoever created it: no navigation away, no new windows, no webviews -------
app.on('web-contents-created', (_e, contents) => {
  const decide = (url: string, kind: 'navigate' | 'new-window') => {
    const decision = navigationDecision(url, kind);
    if (decision === 'open-external') {
      // Reached only for https URLs on EXTERNAL_HOSTS, without credentials or port (security.ts, tested).
      void shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK
    } else if (decision === 'deny') say(`refused ${kind === 'navigate' ? 'navigation' : 'new window'} to ${url.split(/[?#]/)[0]}`);
    return decision;
  };
  contents.on('will-navigate', (event) => {
    if (decide(event.url, 'navigate') !== 'allow') event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (decide(event.url, 'navigate') !== 'allow') event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    decide(url, 'new-window');
    return { action: 'deny' };
  });
});

// ---- IPC: one message, and only from the app's own top frame ---------------------------------------
ipcMain.on(CONNECT_CHANNEL, (event) => {
  const frame = event.senderFrame;
  const why =
    BrowserWindow.fromWebContents(event.sender) !== mainWindow
      ? 'not the app window'
      : senderRefusal(frame && { url: frame.url, isMainFrame: frame === event.sender.mainFrame });
  if (why || !service) {
    say(`refused ${CONNECT_CHANNEL}: ${why ?? 'the app service is not running'}`);
    return;
  }
  const { port1, port2 } = new MessageChannelMain();
  const served = serveChannel(portChannel(port1), service.handlers, say);
  const set = channels.get(event.sender) ?? new Set<ServedChannel>();
  set.add(served);
  channels.set(event.sender, set);
  port1.on('close', () => set.delete(served));
  event.sender.postMessage(PORT_CHANNEL, null, [port2]);
});

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'Persona Studio',
    webPreferences: {
      // Our own bundled bridge (preload/bridge.ts): contextBridge exposes one function, connect().
      preload: PRELOAD, // eng-disable PRELOAD_JS_CHECK
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  const contents = win.webContents;
  contents.on('destroyed', () => closeChannels(contents));
  contents.on('render-process-gone', (_e, details) => {
    closeChannels(contents);
    say(`the window's renderer ended: ${details.reason} (exit code ${details.exitCode})`);
    if (details.reason !== 'clean-exit' && !win.isDestroyed()) contents.reload();
  });
  win.once('ready-to-show', () => {
    win.show();
    if (previousRun) {
      const message = uncleanEndMessage(previousRun, log.file);
      void dialog.showMessageBox(win, { type: 'warning', title: 'Persona Studio', message });
    }
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

app.on('second-instance', () => {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
});

app.on('window-all-closed', () => app.quit());

let quitting = false;
app.on('will-quit', (event) => {
  if (quitting) return;
  // Close the service (the library, the engine worker) before the process ends; then it is a clean end.
  event.preventDefault();
  quitting = true;
  for (const contents of [...channels.keys()]) closeChannels(contents);
  void (service?.close() ?? Promise.resolve())
    .catch((e: unknown) => say(`closing the app service: ${(e as Error)?.message ?? e}`))
    .finally(() => {
      endRun(dataDir);
      say('quit');
      app.exit(0);
    });
});

void app.whenReady().then(() => {
  previousRun = beginRun(dataDir, { pid: process.pid, startedAt: new Date().toISOString(), version: app.getVersion() });
  say(`started ${app.getVersion()} (Electron ${process.versions.electron}), data dir ${dataDir}`);
  if (previousRun) say(uncleanEndMessage(previousRun, log.file));

  const ses = session.defaultSession;
  // Nothing the page may ask for (camera, notifications, clipboard, HID, serial…) is granted.
  ses.setPermissionRequestHandler((_wc, permission, callback) => {
    say(`refused permission request: ${permission}`);
    callback(false);
  });
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);

  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppPath(RENDERER_DIR, request.url);
    if (!file) {
      say(`refused ${APP_SCHEME}:// request ${request.url.split(/[?#]/)[0]}`);
      return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    }
    try {
      return new Response(await fs.promises.readFile(file), { status: 200, headers: appResponseHeaders(file) });
    } catch {
      return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    }
  });

  if (!fs.existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    dialog.showErrorBox('Persona Studio', `The renderer is not built (${RENDERER_DIR}); run npm run build.`);
    app.exit(1);
    return;
  }
  // The judge key sealed with the OS keychain where safeStorage really has one; else core's 0600 file.
  service = createAppService({
    dataDir,
    ...(safeStorageUsable(safeStorage) ? { secrets: safeStorageSecretStore(dataDir, safeStorage) } : {}),
    // Reports print with the app's own Chromium: an installed studio needs no separate browser.
    printPdf: electronPdfPrinter(path.join(dataDir, 'electron', 'reports')),
  });
  mainWindow = createWindow();
  mainWindow.on('closed', () => (mainWindow = null));
});
