// Persona editor: a persona made from the demo model's own prompt files — the shipped pirate-vs-plain
// set opened through the server-side file picker, its prompts loaded with their counts — trained with
// small settings (8 pairs per side, 16-token replies, seed 1), its per-layer separation charted; the
// new persona is then listed in the Library under the demo model.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { seedDataDir } from './harness/seed.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

const SET = 'pirate-vs-plain';
const PERSONA = 'pirate';

describeStudio('Persona editor: a persona from prompt files, trained', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    // The demo model compiled, no persona yet.
    studio = await target.open({ dataDir: seedDataDir([]).dataDir });
  });
  afterAll(() => studio?.close());

  it('opens the shipped prompt-set file on the server and loads its prompts', async () => {
    const { page } = studio;
    await openScreen(page, 'Persona editor');
    await page.getByRole('button', { name: 'Open a prompt-set file…' }).click();
    const picker = page.getByRole('dialog', { name: 'Open a prompt-set file' });
    await picker.getByRole('button', { name: 'Go to Shipped prompt sets' }).click();
    await picker.getByRole('button', { name: `Choose file ${SET}.json` }).click();
    await expect.poll(() => picker.isVisible()).toBe(false);

    await page.getByRole('status').filter({ hasText: 'Loaded the prompt-set file.' }).waitFor();
    await expect.poll(() => page.getByRole('textbox', { name: 'Prompt set name' }).inputValue()).toBe(SET);
    // The counts the file holds (19 + 19 training prompts, 40 questions), shown under each list.
    await page
      .getByText(/One per line · 19 prompts/)
      .first()
      .waitFor();
    expect(await page.getByText(/One per line · 19 prompts/).count()).toBe(2);
    await page.getByText(/One per line · 40 prompts/).waitFor();
    await page.getByText(/Held out for measuring separation \(kept as loaded\): 5 positive, 5 negative, 20 questions/).waitFor();
    expectNoErrors(studio);
  });

  it('trains it with small settings and charts each layer’s separation', async () => {
    const { page } = studio;
    await expect.poll(() => page.getByRole('combobox', { name: 'Model', exact: true }).inputValue()).toBe('demo-model');
    await page.getByRole('textbox', { name: 'Persona name' }).fill(PERSONA);
    await page.getByRole('textbox', { name: 'Training pairs per side' }).fill('8');
    await page.getByRole('textbox', { name: 'Response length (tokens)' }).fill('16');
    await page.getByRole('textbox', { name: 'Seed', exact: true }).fill('1');
    await page.getByRole('button', { name: 'Train persona' }).click();

    // Progress with a Cancel while it runs, then the result line and the chart.
    const done = page.getByRole('status').filter({ hasText: `Trained ${PERSONA}:` });
    await done.waitFor({ timeout: 240_000 });
    expect(await done.textContent()).toMatch(/8 positive and 8 negative samples; separation measured on the heldout split/);
    const chart = page.getByRole('img', { name: new RegExp(`^Separation of ${PERSONA}: best layer \\d+ \\(AUC \\d`) });
    await chart.waitFor();
    // The figures by layer, folded under the chart: one row per layer of the demo model (8).
    await page.getByText('Figures by layer').click();
    const table = page.getByRole('table', { name: `Separation of ${PERSONA} by layer` });
    await expect.poll(() => table.getByRole('row').count()).toBe(1 + 8);
    await page.getByText('Figures by layer').click();
    expectNoErrors(studio);
  });

  it('with a trained persona: accessible, photographed', async () => {
    await expectAccessible(studio.page, 'Persona editor after training');
    await saveScreenshot(studio.page, target.name, 'editor', volatile(studio.page, studio.dataDir));
  });

  it('the new persona is in the Library, for the demo model', async () => {
    const { page } = studio;
    await openScreen(page, 'Library');
    const row = page.getByRole('table', { name: 'Personas' }).getByRole('row', { name: new RegExp(`^${PERSONA}\\b`) });
    await row.waitFor();
    expect(await row.getByRole('cell').nth(1).innerText()).toBe('demo-model');
    expect(await page.getByRole('table', { name: 'Personas' }).getByRole('row').count()).toBe(2);
    expectNoErrors(studio);
    await expectAccessible(page, 'Library with the trained persona');
    await saveScreenshot(page, target.name, 'library-new-persona', volatile(page, studio.dataDir));
  });
});
