#!/usr/bin/env node
// End-to-end check of a packaged app (CI, after electron-builder): starts the real executable on a
// fresh data dir, attaches over Chromium's DevTools protocol, and checks that the window shows the UI
// from app://studio, that the page reached main through the preload bridge (the Models screen answered),
// and that the page has no Node (sandbox, context isolation). Playwright's _electron.launch cannot be
// used: it needs Node's --inspect, which the packaged app's fuses turn off (after-pack.mjs).
//
//   node main/electron/build/smoke-packaged.mjs <packaged executable>
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const exe = process.argv[2];
if (!exe) {
  process.stderr.write('usage: node main/electron/build/smoke-packaged.mjs <packaged executable>\n');
  process.exit(2);
}
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const home = mkdtempSync(join(tmpdir(), 'ps-smoke-'));
const port = await freePort();
const app = spawn(exe, [`--remote-debugging-port=${port}`], { env: { ...process.env, PERSONA_STUDIO_HOME: home }, stdio: 'inherit' });
const fail = (why) => {
  process.stderr.write(`smoke: ${why}\n`);
  app.kill();
  process.exit(1);
};
app.on('exit', (code) => fail(`the app exited (${code}) before the checks finished`));
setTimeout(() => fail('no answer within 120 s'), 120_000).unref();

let browser;
for (let i = 0; i < 240 && !browser; i++) {
  browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`).catch(() => null);
  if (!browser) await new Promise((r) => setTimeout(r, 500));
}
if (!browser) fail(`no DevTools endpoint on port ${port}`);
const page = await (async () => {
  for (let i = 0; i < 240; i++) {
    const found = browser
      .contexts()
      .flatMap((c) => c.pages())
      .find((p) => p.url().startsWith('app://studio/'));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
})();
if (!page) fail('no window showing app://studio/');
await page.getByText('No models yet').waitFor({ timeout: 60_000 });
// Runs in the page (a browser global scope), hence globalThis rather than window/document.
const env = await page.evaluate(() => ({
  bridge: typeof globalThis.studioBridge?.connect,
  require: typeof globalThis.require,
  process: typeof globalThis.process,
  title: globalThis.document.title,
}));
const expected = { bridge: 'function', require: 'undefined', process: 'undefined', title: 'Persona Studio' };
if (JSON.stringify(env) !== JSON.stringify(expected)) fail(`page environment ${JSON.stringify(env)}, expected ${JSON.stringify(expected)}`);
process.stdout.write(`smoke: ok — ${page.url()} connected through the bridge, no Node in the page\n`);
app.removeAllListeners('exit');
await browser.close().catch(() => {});
app.kill();
rmSync(home, { recursive: true, force: true });
