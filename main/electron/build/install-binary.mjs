#!/usr/bin/env node
// Fetches the Electron binary at install time without letting a failed download fail `npm ci`.
// package.json's allowScripts denies electron's own postinstall (a failed download there exits 1 and
// npm ci stops), and the project's postinstall runs it here instead: on a machine that reaches the
// npm registry only, the install succeeds, prints one line, and `npm start` falls back to browser
// mode. `npm run install:electron` runs it strictly (a failure exits non-zero) to retry by hand.
//
//   node main/electron/build/install-binary.mjs [--strict] [--script <electron's install.js>]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const scriptAt = args.indexOf('--script');
let script = scriptAt >= 0 ? args[scriptAt + 1] : undefined;

if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) process.exit(0); // electron's own opt-out, honoured as it would
if (!script) {
  try {
    script = createRequire(import.meta.url).resolve('electron/install.js');
  } catch {
    // `npm ci --omit=dev` (electron is a devDependency): nothing to fetch.
    if (strict) fail('electron: the electron package is not installed (npm ci installs it with the devDependencies)');
    process.exit(0);
  }
}
if (!existsSync(script)) fail(`electron: ${script}: no such install script`);

const run = spawnSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
if (run.status === 0) process.exit(0);
// electron's install.js prints a whole stack; its first line says what went wrong (e.g. getaddrinfo ENOTFOUND github.com).
const why = (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n')[0];
const line = `electron: the Electron binary could not be downloaded (${why}); the desktop app needs it, browser mode does not (npm start falls back to it); retry: npm run install:electron`;
if (strict) fail(line);
process.stderr.write(`${line}\n`);

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
