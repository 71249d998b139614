// A report's HTML to PDF with a headless Chromium driven by playwright-core (no browser download:
// only a Chromium already on the machine). Found by, in order: $PERSONA_STUDIO_CHROMIUM,
// $CHROMIUM_PATH, $PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, then chromium, chromium-browser,
// google-chrome and google-chrome-stable on the PATH. Every network request the page
// makes is refused, so the PDF shows exactly what the offline HTML shows; the plots are drawn before
// printing, with the reports' print stylesheet (A4).
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors.ts';

export const CHROMIUM_ENV = ['PERSONA_STUDIO_CHROMIUM', 'CHROMIUM_PATH', 'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH'] as const;
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

const isExecutable = (p: string) => {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The Chromium to print with, or null when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const k of CHROMIUM_ENV) {
    const v = env[k];
    if (v) {
      if (!isExecutable(v)) throw new StudioError('not-found', `$${k} ${JSON.stringify(v)}: not an executable file`);
      return v;
    }
  }
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of CHROMIUM_NAMES) for (const d of dirs) if (isExecutable(path.join(d, name))) return path.join(d, name);
  return null;
}

/** Renders `html` to a PDF at `out` (written atomically: a failed print leaves nothing). */
export async function htmlToPdf(html: string, out: string, chromium: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
  // playwright-core is a dev dependency: an install without it cannot drive Chromium (one line, not a stack).
  const { chromium: launcher } = await import('playwright-core').catch((e: unknown) => {
    throw new StudioError(
      'not-found',
      `${out}: cannot print a PDF: playwright-core is not installed (${(e as Error).message.split('\n')[0]})`,
    );
  });
  const browser = await launcher.launch({
    executablePath: chromium,
    headless: true,
    // As root (containers, CI) Chromium will not start its sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  const onAbort = () => void browser.close().catch(() => {});
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    const page = await browser.newPage();
    // Parsing the inlined plotly.js (3.5 MB) takes seconds, and much longer on a loaded machine.
    page.setDefaultTimeout(300_000);
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.emulateMedia({ media: 'print' });
    await page.setContent(html, { waitUntil: 'load' });
    // Plotly draws asynchronously: wait until every plot has its SVG (or none are asked for).
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('.plot')).every((el) => el.querySelector('svg.main-svg') !== null),
    );
    await page.pdf({ path: tmp, format: 'A4', printBackground: true, preferCSSPageSize: true });
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    if (opts.signal?.aborted) throw new StudioError('cancelled', `${out}: PDF cancelled`);
    throw new StudioError('internal', `${out}: Chromium (${chromium}) could not print the report: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await browser.close().catch(() => {});
  }
}
