#!/usr/bin/env node
// npm start: the desktop app when Electron's binary is installed; otherwise one line saying so and
// browser mode (`persona-studio serve`, which prints the URL to open). Arguments after `npm start --`
// go to whichever starts (e.g. --port for browser mode). Both need `npm run build` (npm ci runs it).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);

/** The Electron executable, or why there is none (electron's own index.js resolves the path). */
function findElectron() {
  let exe;
  try {
    exe = createRequire(import.meta.url)('electron');
  } catch (e) {
    const missingPackage = e?.code === 'MODULE_NOT_FOUND';
    return { why: missingPackage ? 'the electron package is not installed' : 'its binary was not downloaded' };
  }
  if (typeof exe !== 'string' || !existsSync(exe)) return { why: `its binary is missing (${exe})` };
  return { exe };
}

const electron = findElectron();
if (electron.exe) {
  if (!existsSync(new URL('../out/electron-main.mjs', import.meta.url))) {
    process.stderr.write('persona-studio: out/electron-main.mjs is missing; build first: npm run build\n');
    process.exit(1);
  }
  const child = spawn(electron.exe, [root, ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  process.stderr.write(
    `persona-studio: Electron is not available (${electron.why}; npm run install:electron fetches it); starting browser mode instead\n`,
  );
  const built = new URL('../out/cli.mjs', import.meta.url);
  if (!existsSync(built)) {
    process.stderr.write('persona-studio: out/cli.mjs is missing; build first: npm run build\n');
    process.exit(1);
  }
  const { main } = await import(built.href);
  process.exitCode = await main(['serve', ...args]);
}
