// Every screen in the navigation, on an empty data dir: it opens without page or console errors,
// passes an axe-core scan (no serious/critical violation, light and dark) and is photographed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { describeStudio, openScreen, screenLabels } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

describeStudio('every screen on an empty library', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await target.open();
  });
  afterAll(() => studio?.close());

  it('shows the shell with its navigation', async () => {
    await studio.page.getByRole('heading', { name: 'Persona Studio', level: 1 }).waitFor();
    expect((await screenLabels(studio.page)).length).toBeGreaterThan(0);
    expectNoErrors(studio);
  });

  it('opens each screen: no errors, accessible, photographed', async () => {
    const labels = await screenLabels(studio.page);
    for (const label of labels) {
      await openScreen(studio.page, label);
      await studio.page.getByRole('main').getByRole('heading').first().waitFor();
      expectNoErrors(studio);
      await expectAccessible(studio.page, label);
      await saveScreenshot(
        studio.page,
        target.name,
        `empty-${label.toLowerCase().replace(/\W+/g, '-')}`,
        volatile(studio.page, studio.dataDir),
      );
    }
  });
});
