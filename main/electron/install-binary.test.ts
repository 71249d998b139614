// The install-time fetch of the Electron binary (main/electron/build/install-binary.mjs, npm's
// postinstall): a failed download is one line and exit 0 (npm ci goes on), or exit 1 when asked to
// be strict (npm run install:electron). Electron's own install.js is replaced by small scripts that
// fail or succeed the way it does (a stack on stderr and exit 1, or silence and exit 0).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./build/install-binary.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ps-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failing = join(dir, 'failing.js');
writeFileSync(
  failing,
  "console.error('RequestError: getaddrinfo ENOTFOUND github.com\\n    at ClientRequest.<anonymous> (got/index.js:970:111)'); process.exit(1);\n",
);
const working = join(dir, 'working.js');
writeFileSync(working, 'process.exit(0);\n');

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const base = { ...process.env };
  delete base.ELECTRON_SKIP_BINARY_DOWNLOAD;
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { env: { ...base, ...env }, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('install-binary', () => {
  const line =
    'electron: the Electron binary could not be downloaded (RequestError: getaddrinfo ENOTFOUND github.com); the desktop app needs it, browser mode does not (npm start falls back to it); retry: npm run install:electron\n';

  it('turns a failed download into one line, and lets the install go on', () => {
    expect(run(['--script', failing])).toEqual({ status: 0, stderr: line });
  });

  it('fails when strict (npm run install:electron)', () => {
    expect(run(['--strict', '--script', failing])).toEqual({ status: 1, stderr: line });
  });

  it('is silent when the download works, and honours ELECTRON_SKIP_BINARY_DOWNLOAD', () => {
    expect(run(['--script', working])).toEqual({ status: 0, stderr: '' });
    expect(run(['--strict', '--script', failing], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })).toEqual({ status: 0, stderr: '' });
  });

  it('names a missing install script', () => {
    const missing = join(dir, 'nope.js');
    expect(run(['--script', missing])).toEqual({ status: 1, stderr: `electron: ${missing}: no such install script\n` });
  });
});
