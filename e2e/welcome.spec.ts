// Welcome, the first run on an empty data dir: add the bundled demo model (compiled, offline), train
// the first template persona with the screen's quick settings, and "Compare side by side" lands on
// Compare with that model and persona preselected.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

// The first shipped prompt set by file name: the template Welcome offers first.
const TEMPLATE = 'cheerful-vs-gloomy';

describeStudio('Welcome: the first run', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await target.open();
  });
  afterAll(() => studio?.close());

  it('adds the demo model', async () => {
    const { page } = studio;
    await openScreen(page, 'Welcome');
    await page.getByRole('button', { name: 'Add the demo model' }).click();
    // Step 2 once the model is compiled: the template and the suggested persona name.
    const template = page.getByRole('combobox', { name: 'Template' });
    await template.waitFor({ timeout: 120_000 });
    await page.getByText('Model: demo-model.', { exact: false }).waitFor();
    await expect.poll(() => template.inputValue()).toBe(TEMPLATE);
    await expect.poll(() => page.getByRole('textbox', { name: 'Persona name' }).inputValue()).toBe(TEMPLATE);
    expectNoErrors(studio);
    await expectAccessible(page, 'Welcome, make a persona');
    await saveScreenshot(page, target.name, 'welcome-persona', volatile(page, studio.dataDir));
  });

  it('trains the template persona', async () => {
    const { page } = studio;
    await page.getByRole('button', { name: 'Train the persona' }).click();
    await page.getByRole('progressbar', { name: 'Training the persona' }).waitFor();
    const compare = page.getByRole('link', { name: 'Compare side by side' });
    await compare.waitFor({ timeout: 240_000 });
    await page.getByText(`${TEMPLATE} is in your library.`, { exact: false }).waitFor();
    expectNoErrors(studio);
    await expectAccessible(page, 'Welcome, done');
    await saveScreenshot(page, target.name, 'welcome-done', volatile(page, studio.dataDir));
  });

  it('"Compare side by side" lands on Compare with the persona preselected', async () => {
    const { page } = studio;
    await page.getByRole('link', { name: 'Compare side by side' }).click();
    const nav = page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Compare', exact: true });
    await expect.poll(() => nav.getAttribute('aria-current')).toBe('page');
    await expect.poll(() => page.getByRole('combobox', { name: 'Model' }).inputValue()).toBe('demo-model');
    // The persona chosen: its pill in the Personas field (and nothing else chosen).
    const personas = page
      .getByRole('main')
      .locator('.mantine-MultiSelect-root, .mantine-InputWrapper-root')
      .filter({
        has: page.getByRole('combobox', { name: 'Personas' }),
      });
    await personas.getByText(TEMPLATE, { exact: true }).waitFor();
    expect(await personas.locator('.mantine-Pill-root').count()).toBe(1);
    await page.mouse.move(0, 0);
    expectNoErrors(studio);
    await expectAccessible(page, 'Compare from Welcome');
    await saveScreenshot(page, target.name, 'welcome-compare', volatile(page, studio.dataDir));
  });
});
