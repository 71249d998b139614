// Reports to PDF inside the app, with Electron's own Chromium (webContents.printToPDF), so an
// installed studio prints without a separate browser. The report's HTML (self-contained, plotly
// inlined) is written to a temp file and loaded into a hidden, sandboxed window with no preload and
// no Node; the charts draw during load, then the page is printed A4 with its backgrounds. The
// app-wide handlers in main.ts (no navigation, no new windows, every permission denied) cover this
// window too.
import { BrowserWindow } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import type { PdfPrinter } from '../core/evaluation/report-file.ts';
import { StudioError } from '../core/errors.ts';

export function electronPdfPrinter(tempDir: string): PdfPrinter {
  return async (html, out, signal) => {
    fs.mkdirSync(tempDir, { recursive: true });
    const page = path.join(tempDir, `report-${process.pid}-${Date.now()}.html`);
    fs.writeFileSync(page, html);
    const win = new BrowserWindow({
      show: false,
      // As the studio's window (main.ts), written out in full: Electronegativity reads the literal.
      webPreferences: {
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
    const onAbort = () => win.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await win.loadFile(page);
      const pdf = await win.webContents.printToPDF({ pageSize: 'A4', printBackground: true });
      const tmp = `${out}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, pdf);
      fs.renameSync(tmp, out);
    } catch (e) {
      if (signal?.aborted) throw new StudioError('cancelled', `${out}: printing cancelled`);
      throw new StudioError('internal', `${out}: printing the report failed (${(e as Error).message})`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!win.isDestroyed()) win.destroy();
      fs.rmSync(page, { force: true });
    }
  };
}
