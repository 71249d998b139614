// Jobs: a training started in the Persona editor and cancelled there after some batches finished
// leaves the library as it was (the same personas, the model still there); the Jobs screen lists it
// cancelled and resumable; Resume finishes it from its kept batches, and the persona is listed.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { seedDataDir } from './harness/seed.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

const SEEDED = 'cheerful-vs-gloomy';
const PERSONA = 'pirate';
const JOB = `Train persona ${PERSONA}`;

const personaNames = async (page: Page) =>
  (await page.getByRole('table', { name: 'Personas', exact: true }).getByRole('row').allInnerTexts())
    .slice(1)
    .map((t) => t.split('\n')[0]!.trim());

describeStudio('Jobs: a cancelled training leaves the library intact, Resume finishes it', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await target.open({ dataDir: seedDataDir([SEEDED]).dataDir });
  });
  afterAll(() => studio?.close());

  it('starts a training in the editor and cancels it after a few batches', async () => {
    const { page } = studio;
    await openScreen(page, 'Persona editor');
    await page.getByRole('combobox', { name: 'Shipped prompt set' }).click();
    await page.getByRole('option', { name: /^pirate-vs-plain / }).click();
    await page.getByRole('status').filter({ hasText: 'Loaded the shipped prompt set.' }).waitFor();
    await expect.poll(() => page.getByRole('combobox', { name: 'Model', exact: true }).inputValue()).toBe('demo-model');
    await page.getByRole('textbox', { name: 'Persona name' }).fill(PERSONA);
    // Small batches, so the run is many batches long and some finish before the cancel.
    await page.getByRole('textbox', { name: 'Training pairs per side' }).fill('32');
    await page.getByRole('textbox', { name: 'Response length (tokens)' }).fill('24');
    await page.getByRole('textbox', { name: 'Batch size' }).fill('4');
    await page.getByRole('textbox', { name: 'Seed', exact: true }).fill('1');
    await page.getByRole('button', { name: 'Train persona' }).click();

    const progress = page.getByRole('status', { name: 'Training progress' });
    await progress.getByText(/^generate ([2-9]|\d\d+)\/\d+/).waitFor({ timeout: 120_000 });
    await progress.getByRole('button', { name: 'Cancel training' }).click();
    await page.getByText('Training cancelled').waitFor();
    await page.getByText(/Finished batches are kept/).waitFor();
    expectNoErrors(studio);
  });

  it('the library is intact: the same personas, the model still there', async () => {
    const { page } = studio;
    await openScreen(page, 'Library');
    await expect.poll(() => personaNames(page)).toEqual([SEEDED]);
    await page.getByRole('switch', { name: 'Show trash' }).check();
    await page.getByText('The trash is empty.').waitFor();
    await page.getByRole('switch', { name: 'Show trash' }).uncheck();
    await openScreen(page, 'Models');
    await page
      .getByRole('table', { name: 'Library models' })
      .getByRole('row', { name: /demo-model/ })
      .waitFor();
    expectNoErrors(studio);
  });

  it('Jobs lists the training cancelled; Resume finishes it from its kept batches', async () => {
    const { page } = studio;
    await openScreen(page, 'Jobs');
    const row = page.getByRole('table', { name: 'Jobs' }).getByRole('row').filter({ hasText: JOB });
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('cancelled');
    await row.getByRole('button', { name: `Resume ${JOB}` }).waitFor();
    await expectAccessible(page, 'Jobs with a cancelled training');
    await saveScreenshot(page, target.name, 'jobs', [
      ...volatile(page, studio.dataDir),
      // Where the cancel landed (a batch or two either way) and the start time differ run to run.
      row.getByRole('cell').nth(2),
      row.getByRole('cell').nth(4),
    ]);

    await row.getByRole('button', { name: `Resume ${JOB}` }).click();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 240_000 }).toBe('succeeded');
    expect(await row.innerText()).toMatch(/run 2/);
    expectNoErrors(studio);

    await openScreen(page, 'Library');
    await expect.poll(() => personaNames(page)).toEqual(expect.arrayContaining([SEEDED, PERSONA]));
    expect(await personaNames(page)).toHaveLength(2);
    expectNoErrors(studio);
  });
});
