// What the desktop app's preload (preload/bridge.ts) exposes to the page, shared by the bridge, main
// (main/electron/) and the renderer's client, so the three agree on names. No logic: the bridge only
// hands the page a MessagePort; the page and main then speak the app contract over it.
//
//   page: window.studioBridge.connect()          preload: ipcRenderer.send(CONNECT_CHANNEL)
//   main: checks the sender, makes a MessageChannelMain, keeps one end, sends the other
//         with webContents.postMessage(PORT_CHANNEL, null, [port])
//   preload: window.postMessage(PORT_MESSAGE, origin, [port])   page: takes the port from that message

/** The key on `window` under which the preload exposes the bridge. */
export const BRIDGE_KEY = 'studioBridge';
/** Renderer → main: "give this page a channel". */
export const CONNECT_CHANNEL = 'studio:connect';
/** Main → preload: the page's end of a channel, in event.ports[0]. */
export const PORT_CHANNEL = 'studio:port';
/** Preload → page (window.postMessage): the same port, now in the page's world. */
export const PORT_MESSAGE = 'studio:port';

/** The bridge as the page sees it (window.studioBridge). */
export interface StudioBridge {
  /** Asks main for a channel; its port arrives as a window message whose data is PORT_MESSAGE. */
  connect(): void;
}
