// Models: the demo model chosen through the server-side folder picker, compiled with progress, listed
// with its layers and disk use; then the screen with a model in it, scanned and photographed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { DEMO_MODEL_DIR } from './harness/paths.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

describeStudio('Models: import and compile the demo model', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await target.open();
  });
  afterAll(() => studio?.close());

  it('picks the demo model folder on the server and compiles it', async () => {
    const { page } = studio;
    await openScreen(page, 'Models');
    await page.getByText('No models yet.').waitFor();

    await page.getByRole('button', { name: 'Browse for checkpoint folder' }).click();
    const picker = page.getByRole('dialog');
    await picker.getByRole('button', { name: 'Go to Demo model' }).click();
    // The picker lists the folder's files (config.json, the weights) before it may be chosen.
    await picker.getByText(/(^|\s)config\.json$/).waitFor();
    await picker.getByRole('button', { name: 'Choose this folder' }).click();
    await expect.poll(() => page.getByRole('textbox', { name: 'Checkpoint folder', exact: true }).inputValue()).toBe(DEMO_MODEL_DIR);

    await page.getByRole('button', { name: 'Compile', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'demo-model: compiled (8 layers, hidden size 128).' }).waitFor({ timeout: 120_000 });

    const row = page.getByRole('table', { name: 'Library models' }).getByRole('row', { name: /demo-model/ });
    await expect
      .poll(() => row.getByRole('cell').allInnerTexts())
      .toEqual([expect.stringContaining('demo-model'), 'qwen3', '8 × 128', expect.stringMatching(/FP32[\s\S]*\d+ MB/i), 'Remove model']);
    await expect.poll(() => page.getByText(/^Compiled models use \d/).isVisible()).toBe(true);
    expectNoErrors(studio);
  });

  it('compiling the same folder again says it is already compiled, and lists one model', async () => {
    const { page } = studio;
    await page.getByRole('button', { name: 'Compile', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'demo-model: already compiled' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByRole('table', { name: 'Library models' }).getByRole('row').count()).toBe(2); // header + one model
    expectNoErrors(studio);
  });

  it('with a model: accessible, photographed', async () => {
    await expectAccessible(studio.page, 'Models with the demo model');
    await saveScreenshot(studio.page, target.name, 'models', volatile(studio.page, studio.dataDir));
  });
});
