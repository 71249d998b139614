// describeStudio(): one describe block per target (browser mode in Chromium, Electron), skipped with
// its printed reason where the target cannot run. The shared browser closes after each file.
import type { Page } from 'playwright-core';
import { afterAll, describe, expect } from 'vitest';
import { closeBrowser, TARGETS, type Target } from './targets.ts';

export function describeStudio(title: string, body: (target: Target) => void): void {
  for (const target of TARGETS) {
    if (target.skipReason) console.log(`e2e [${target.name}] ${title}: skipped: ${target.skipReason}`);
    describe.skipIf(target.skipReason !== null)(`[${target.name}] ${title}`, () => {
      afterAll(closeBrowser);
      body(target);
    });
  }
}

/** The navigation's links, in order (the screens registry as the user sees it). */
export async function screenLabels(page: Page): Promise<string[]> {
  const nav = page.getByRole('navigation', { name: 'Screens' });
  await nav.getByRole('link').first().waitFor();
  return (await nav.getByRole('link').allInnerTexts()).map((t) => t.trim());
}

/** Opens a screen from the navigation and waits until it is the current page. */
export async function openScreen(page: Page, label: string): Promise<void> {
  const link = page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: label, exact: true });
  await link.click();
  await expect.poll(() => link.getAttribute('aria-current')).toBe('page');
  // The pointer rests off every control, so scans and screenshots see no hover state.
  await page.mouse.move(0, 0);
}
