// The two ways the studio runs, behind one `openStudio()`: browser mode (our `serve` process driven
// by Debian's Chromium through playwright-core, headless) and the Electron app (playwright-core's
// `_electron`). A target that cannot run here says why in one line; the specs skip it and print
// that line, so a missing browser or Electron binary is visible, never a silent pass.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, _electron, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './paths.ts';
import { startServe, tempDataDir } from './serve.ts';

export type TargetName = 'chromium' | 'electron';

export interface Studio {
  page: Page;
  dataDir: string;
  /** Uncaught page errors and console errors so far, one line each. */
  errors: string[];
  /** Server-side log (browser mode's stderr), for failure messages. */
  log(): string;
  close(): Promise<void>;
}

export interface Target {
  name: TargetName;
  /** Why this target cannot run here, or null. */
  skipReason: string | null;
  /** A running studio on `dataDir` (default: a new empty one); close() removes the data dir. */
  open(opts?: { dataDir?: string }): Promise<Studio>;
}

/** The same viewport, scale, colour scheme, locale and clock zone on every run: screenshots repeat. */
export const VIEWPORT = { width: 1280, height: 800 };

export function chromiumPath(): string {
  return process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
}

function watchErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()} (${m.location().url})`);
  });
}

let browser: Promise<Browser> | null = null;
/** One headless Chromium per test file (a fresh context per studio); closed by closeBrowser(). */
function sharedBrowser(): Promise<Browser> {
  browser ??= chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Same rendering on every machine: no GPU compositing differences, fixed font hinting.
    args: ['--disable-gpu', '--font-render-hinting=none', '--disable-lcd-text', '--force-color-profile=srgb'],
  });
  return browser;
}

export async function closeBrowser(): Promise<void> {
  const b = browser;
  browser = null;
  if (b) await (await b).close();
}

function chromiumSkipReason(): string | null {
  if (existsSync(chromiumPath())) return null;
  const reason = `no Chromium at ${chromiumPath()} (apt install chromium, or set E2E_CHROMIUM to a Chromium binary)`;
  // CI installs it (.ci/apt-packages) and sets E2E_REQUIRE_CHROMIUM=1: there, a missing one is a failure.
  if (process.env.E2E_REQUIRE_CHROMIUM === '1') throw new Error(`e2e: ${reason}`);
  return reason;
}

const browserTarget: Target = {
  name: 'chromium',
  skipReason: chromiumSkipReason(),
  async open(opts = {}) {
    const serve = await startServe({ dataDir: opts.dataDir });
    try {
      const b = await sharedBrowser();
      const context = await b.newContext({
        viewport: VIEWPORT,
        deviceScaleFactor: 1,
        colorScheme: 'light',
        reducedMotion: 'reduce',
        locale: 'en-US',
        timezoneId: 'UTC',
        acceptDownloads: true,
      });
      const page = await context.newPage();
      const errors: string[] = [];
      watchErrors(page, errors);
      await page.goto(serve.url);
      return {
        page,
        dataDir: serve.dataDir,
        errors,
        log: serve.log,
        async close() {
          await context.close();
          await serve.stop();
        },
      };
    } catch (e) {
      await serve.stop();
      throw e;
    }
  },
};

/** The Electron binary (the `electron` package's export) and the app's entry (package.json "main"). */
function electronSetup(): { binary: string; entry: string } | string {
  let binary: string;
  try {
    binary = createRequire(join(REPO_ROOT, 'package.json'))('electron') as string;
  } catch {
    return 'no Electron binary (the electron package is not installed, or its binary download was skipped)';
  }
  if (typeof binary !== 'string' || !existsSync(binary)) return `no Electron binary at ${String(binary)}`;
  const main = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { main?: string }).main;
  if (!main) return 'package.json names no Electron entry ("main")';
  const entry = join(REPO_ROOT, main);
  if (!existsSync(entry)) return `the Electron entry ${main} is not built (npm run build)`;
  return { binary, entry };
}

const electronTarget: Target = {
  name: 'electron',
  skipReason: ((s) => (typeof s === 'string' ? s : null))(electronSetup()),
  async open(opts = {}) {
    const setup = electronSetup();
    if (typeof setup === 'string') throw new Error(setup);
    const dataDir = opts.dataDir ?? tempDataDir();
    const app = await _electron.launch({
      executablePath: setup.binary,
      args: [setup.entry],
      cwd: REPO_ROOT,
      // The app and the CLI resolve the data dir the same way; PERSONA_STUDIO_HOME points both here.
      env: { ...process.env, PERSONA_STUDIO_HOME: dataDir },
    });
    const page = await app.firstWindow();
    await page.setViewportSize(VIEWPORT);
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
    const errors: string[] = [];
    watchErrors(page, errors);
    return {
      page,
      dataDir,
      errors,
      log: () => '',
      async close() {
        await app.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

export const TARGETS: Target[] = [browserTarget, electronTarget];
