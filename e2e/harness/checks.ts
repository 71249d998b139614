// What every spec checks on every screen: no page or console errors, an axe-core scan with no
// serious or critical violation (light and dark), and a screenshot of the screen at 1280×800.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { screenshotDir } from './paths.ts';
import type { Studio, TargetName } from './targets.ts';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeNode {
  target: unknown[];
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: AxeNode[];
}

/** The axe-core violations on the page as it is now, one line each: `impact id: help (N× selector …)`. */
export async function axeViolations(page: Page): Promise<{ blocking: string[]; other: string[] }> {
  // evaluate() runs outside the page's CSP (an injected <script> tag would be refused by it).
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations;
  })) as AxeViolation[];
  const line = (v: AxeViolation) =>
    `${v.impact ?? 'unknown'} ${v.id}: ${v.help} (${v.nodes.length}× ${v.nodes
      .slice(0, 3)
      .map((n) => `${n.target.join(' ')}${n.failureSummary ? ` [${n.failureSummary.replace(/\s+/g, ' ').trim()}]` : ''}`)
      .join(', ')})`;
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map(line);
  const other = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical').map(line);
  return { blocking, other };
}

/** Scans the screen in light and dark: no serious/critical violation; minor ones are printed. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const found: string[] = [];
  await page.mouse.move(0, 0); // no hover state in the scan
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await expect.poll(() => page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme'))).toBe(scheme);
    const { blocking, other } = await axeViolations(page);
    for (const l of other) console.log(`axe (${screen}, ${scheme}, not blocking): ${l}`);
    found.push(...blocking.map((l) => `${scheme}: ${l}`));
  }
  await page.emulateMedia({ colorScheme: 'light' });
  expect(found, `axe-core serious/critical violations on ${screen}`).toEqual([]);
}

/**
 * A PNG of the whole window at the fixed viewport, named for the screen, once the page has settled
 * (two consecutive captures equal: data still loading would make the picture differ run to run).
 * Animations and the caret are frozen; `mask` covers what differs between runs by nature (the temp
 * data dir's path, times).
 */
export async function saveScreenshot(page: Page, target: TargetName, name: string, mask: Locator[] = []): Promise<string> {
  const dir = screenshotDir(target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.png`);
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  const shoot = () => page.screenshot({ animations: 'disabled', caret: 'hide', scale: 'css', mask, maskColor: '#868e96' });
  let last = await shoot();
  for (let i = 0; ; i++) {
    const next = await shoot();
    if (next.equals(last)) break;
    if (i >= 50) throw new Error(`screenshot ${name}: the page kept changing over 50 captures`);
    last = next;
  }
  writeFileSync(file, last);
  return file;
}

/** What differs between runs by nature on any screen: the temp data dir's path, wherever it is shown. */
export function volatile(page: Page, dataDir: string): Locator[] {
  // The temp data dir's path, and the Models screen's memory line (it moves with every allocation).
  return [page.getByText(dataDir, { exact: false }), page.getByLabel('Memory', { exact: true })];
}

/** No page error and no console error so far; clears them for the next step. */
export function expectNoErrors(studio: Studio): void {
  const errors = studio.errors.splice(0);
  expect(errors, `page/console errors (server log:\n${studio.log()})`).toEqual([]);
}
