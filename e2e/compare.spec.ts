// Compare: three α values side by side from one batched run with one seed; the α 0 column is the
// reference and the steered columns highlight the words that differ; the comparison is saved.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { seedDataDir } from './harness/seed.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

const PERSONA = 'cheerful-vs-gloomy';

describeStudio('Compare: a 3-α comparison', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await target.open({ dataDir: seedDataDir([PERSONA]).dataDir });
  });
  afterAll(() => studio?.close());

  it('streams three columns, highlights differences against α 0, and saves the comparison', async () => {
    const { page } = studio;
    await openScreen(page, 'Compare');
    await page.getByRole('combobox', { name: 'Personas' }).click();
    await page.getByRole('option', { name: PERSONA }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('textbox', { name: 'α values' }).fill('-2, 0, 2');
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('How was your day?');
    await page.getByRole('textbox', { name: 'Seed' }).fill('1');
    await page.getByRole('textbox', { name: 'Max new tokens' }).fill('24');
    await page.getByRole('button', { name: 'Compare', exact: true }).click();

    const columns = ['-2', '0', '2'].map((a) => page.getByRole('region', { name: `Column α ${a}` }));
    // Done: Stop disabled again and the save form shown.
    await page.getByRole('textbox', { name: 'Comparison name' }).waitFor({ timeout: 120_000 });
    expect(await page.getByRole('button', { name: 'Stop', exact: true }).isDisabled()).toBe(true);
    for (const c of columns)
      expect(((await c.textContent()) ?? '').replace(/^α\s*-?\d+(\s*\(\w+\))*/, '').trim().length).toBeGreaterThan(0);
    await columns[1]!.getByText('(reference)').waitFor();
    // Steering at ±2 changes the reply: the steered columns mark words that differ from the reference.
    expect(await columns[0]!.locator('mark').count()).toBeGreaterThan(0);
    expect(await columns[2]!.locator('mark').count()).toBeGreaterThan(0);
    expect(await columns[1]!.locator('mark').count()).toBe(0);

    await page.getByRole('textbox', { name: 'Comparison name' }).fill('my day at three α');
    await page.getByRole('button', { name: 'Save to library' }).click();
    await page.getByRole('status').filter({ hasText: /saved/i }).waitFor();
    expectNoErrors(studio);
  });

  it('with a comparison: accessible, photographed', async () => {
    await expectAccessible(studio.page, 'Compare with three columns');
    await saveScreenshot(studio.page, target.name, 'compare', volatile(studio.page, studio.dataDir));
  });
});
