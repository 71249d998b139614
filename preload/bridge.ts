// The desktop app's preload: sandboxed, context-isolated, so it can use only contextBridge and
// ipcRenderer. It exposes one function, window.studioBridge.connect(), and passes the MessagePort
// main sends back into the page's world; every call, result and stream (tokens, progress) then
// travels over that port by structured clone (typed arrays and Maps as they are). Nothing else of
// Electron or Node reaches the page. Bundled to out/preload.cjs (a sandboxed preload cannot be ESM).
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY, CONNECT_CHANNEL, PORT_CHANNEL, PORT_MESSAGE, type StudioBridge } from './contract-bridge.ts';

const bridge: StudioBridge = {
  connect: () => ipcRenderer.send(CONNECT_CHANNEL),
};
contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);

ipcRenderer.on(PORT_CHANNEL, (event) => {
  const port = event.ports[0];
  // To this page's own origin only, so the port cannot be handed to another origin's frame.
  if (port) window.postMessage(PORT_MESSAGE, window.location.origin, [port]);
});
