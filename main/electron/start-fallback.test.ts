// `npm start` (bin/start.mjs) where Electron cannot run: one line saying why, then browser mode
// serving the renderer at the URL it prints. Electron's own ELECTRON_OVERRIDE_DIST_PATH points it at
// an empty folder, so the binary is missing here whether or not this machine downloaded it.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const built = existsSync(join(ROOT, 'out/cli.mjs')) && existsSync(join(ROOT, 'out/renderer/index.html'));
if (!built) console.log('start-fallback: skipped, the build is missing (npm run build makes out/)');

const temp = mkdtempSync(join(tmpdir(), 'ps-start-'));
let child: ChildProcess | null = null;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

describe('npm start without an Electron binary', () => {
  it.skipIf(!built)('says so in one line and starts browser mode at the URL it prints', async () => {
    const emptyDist = join(temp, 'no-electron');
    child = spawn(process.execPath, [join(ROOT, 'bin/start.mjs'), '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: emptyDist, PERSONA_STUDIO_HOME: join(temp, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (d) => {
        stdout += d;
        const m = /at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child!.on('exit', (code) => reject(new Error(`start exited ${code} before printing a URL:\n${stdout}\n${stderr}`)));
    });
    const electronLines = stderr.split('\n').filter((l) => /electron/i.test(l));
    expect(electronLines).toHaveLength(1);
    expect(electronLines[0]).toMatch(
      /^persona-studio: Electron is not available \(its binary is missing \(.+\); npm run install:electron fetches it\); starting browser mode instead$/,
    );
    expect(electronLines[0]).toContain(emptyDist);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = null;
  });
});
