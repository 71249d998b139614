// Library: a persona exported in the studio format to a folder chosen with the server-side picker;
// deleted (Undo brings it back), deleted again; the exported file imported back through the picker
// and listed, its original in the trash; then vector arithmetic on two personas, the lineage shown.
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { seedDataDir } from './harness/seed.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

const CHEERFUL = 'cheerful-vs-gloomy';
const PIRATE = 'pirate-vs-plain';

const personaTable = (page: Page) => page.getByRole('table', { name: 'Personas', exact: true });
/** The persona names listed, in order. */
const listed = async (page: Page) =>
  (await personaTable(page).getByRole('row').allInnerTexts()).slice(1).map((t) => t.split('\n')[0]!.trim());

describeStudio('Library: export, delete with undo, import, arithmetic', (target) => {
  let studio: Studio;
  let exported = '';
  beforeAll(async () => {
    studio = await target.open({ dataDir: seedDataDir([CHEERFUL, PIRATE]).dataDir });
  });
  afterAll(() => studio?.close());

  it('lists the seeded personas, accessible, photographed', async () => {
    const { page } = studio;
    await openScreen(page, 'Library');
    await expect.poll(() => listed(page)).toEqual(expect.arrayContaining([CHEERFUL, PIRATE]));
    expect(await listed(page)).toHaveLength(2);
    expectNoErrors(studio);
    await expectAccessible(page, 'Library with two personas');
    await saveScreenshot(page, target.name, 'library', volatile(page, studio.dataDir));
  });

  it('exports a persona in the studio format to a folder chosen on the server', async () => {
    const { page } = studio;
    await page.getByRole('button', { name: `Export ${CHEERFUL}` }).click();
    const dialog = page.getByRole('dialog', { name: `Export ${CHEERFUL}` });
    await expect.poll(() => dialog.getByRole('combobox', { name: 'Format' }).inputValue()).toBe('studio');
    await dialog.getByRole('button', { name: 'Browse for export folder' }).click();
    const picker = page.getByRole('dialog', { name: 'Choose a folder: Export folder' });
    await picker.getByRole('button', { name: 'Go to Data folder' }).click();
    await picker.getByRole('table', { name: `Contents of ${studio.dataDir}` }).waitFor();
    await picker.getByRole('button', { name: 'Choose this folder' }).click();
    await expect.poll(() => dialog.getByRole('textbox', { name: 'Export folder' }).inputValue()).toBe(studio.dataDir);
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();

    const wrote = dialog.getByRole('status').filter({ hasText: /^Wrote / });
    await wrote.waitFor();
    exported = ((await wrote.textContent()) ?? '')
      .replace(/^Wrote /, '')
      .split(/,|\. /)[0]!
      .trim();
    expect(dirname(exported)).toBe(studio.dataDir);
    expect(existsSync(exported), exported).toBe(true);
    // The form's own Close (the title bar's ✕ is named Close too).
    await dialog.locator('form').getByRole('button', { name: 'Close', exact: true }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expectNoErrors(studio);
  });

  it('deletes it, Undo restores it; deleted again it is in the trash', async () => {
    const { page } = studio;
    const del = () => page.getByRole('button', { name: `Delete ${CHEERFUL}` }).click();
    const toast = page.getByRole('status').filter({ hasText: `Moved ${CHEERFUL} to the trash` });

    await del();
    await toast.waitFor();
    await expect.poll(() => listed(page)).toEqual([PIRATE]);
    await toast.getByRole('button', { name: 'Undo' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Restored ${CHEERFUL}.` })
      .waitFor();
    await expect.poll(() => listed(page)).toEqual(expect.arrayContaining([CHEERFUL, PIRATE]));
    expect(await listed(page)).toHaveLength(2);

    await del();
    await toast.waitFor();
    await expect.poll(() => listed(page)).toEqual([PIRATE]);
    await toast.getByRole('button', { name: 'Dismiss' }).click();
    await page.getByRole('switch', { name: 'Show trash' }).check();
    await expect
      .poll(() => page.getByRole('table', { name: 'Personas in the trash' }).getByRole('row').allInnerTexts())
      .toEqual([expect.any(String), expect.stringContaining(CHEERFUL)]);
    await page.getByRole('button', { name: `Restore ${CHEERFUL}` }).waitFor();
    await page.getByRole('switch', { name: 'Show trash' }).uncheck();
    await expect.poll(() => listed(page)).toEqual([PIRATE]);
    expectNoErrors(studio);
  });

  it('imports the exported file back, chosen on the server, and lists it', async () => {
    const { page } = studio;
    await page.getByRole('button', { name: 'Import…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import a persona' });
    await dialog.getByRole('button', { name: 'Browse for vector file' }).click();
    const picker = page.getByRole('dialog', { name: 'Choose a file: Vector file' });
    await picker.getByRole('button', { name: 'Go to Data folder' }).click();
    await picker.getByRole('button', { name: `Choose file ${basename(exported)}` }).click();
    await expect.poll(() => dialog.getByRole('textbox', { name: 'Vector file' }).inputValue()).toBe(exported);
    await expect.poll(() => dialog.getByRole('combobox', { name: 'For model' }).inputValue()).toBe('demo-model');
    // The picker gone (its fade-out over the dialog would read as low contrast in the scan).
    await picker.waitFor({ state: 'hidden' });
    await expectAccessible(page, 'Library import dialog');
    await saveScreenshot(page, target.name, 'library-import', [
      ...volatile(page, studio.dataDir),
      dialog.getByRole('textbox', { name: 'Vector file' }), // the temp data dir's path, in a field
    ]);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();

    await page
      .getByRole('status')
      .filter({ hasText: `Imported ${CHEERFUL} (studio).` })
      .waitFor();
    await expect.poll(() => listed(page)).toEqual(expect.arrayContaining([CHEERFUL, PIRATE]));
    expect(await listed(page)).toHaveLength(2);
    const row = personaTable(page).getByRole('row', { name: new RegExp(`^${CHEERFUL}\\b`) });
    expect(await row.getByRole('cell').nth(1).innerText()).toBe('demo-model');
    expectNoErrors(studio);
  });

  it('vector arithmetic: cheerful − 0.5·pirate saved with its lineage', async () => {
    const { page } = studio;
    await page.getByRole('button', { name: 'Vector arithmetic…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Vector arithmetic' });
    const choose = async (label: string, option: string) => {
      await dialog.getByRole('combobox', { name: label }).click();
      await page.getByRole('option', { name: option, exact: true }).click();
    };
    await choose('Persona 1', CHEERFUL);
    await choose('Persona 2', PIRATE);
    await dialog.getByRole('textbox', { name: 'Coefficient 2' }).fill('-0.5');
    await dialog
      .getByLabel('Formula')
      .filter({ hasText: `= 1·${CHEERFUL} − 0.5·${PIRATE}` })
      .waitFor();
    await dialog.getByRole('textbox', { name: 'New persona name' }).fill('less pirate');
    await dialog.getByRole('button', { name: 'Combine' }).click();

    await page
      .getByRole('status')
      .filter({ hasText: `Saved less pirate = ${CHEERFUL} − 0.5·${PIRATE}.` })
      .waitFor();
    await expect.poll(() => listed(page)).toEqual(expect.arrayContaining([CHEERFUL, PIRATE, 'less pirate']));
    await dialog.waitFor({ state: 'hidden' });
    await page.getByLabel(`less pirate is derived from ${CHEERFUL} − 0.5·${PIRATE}`).waitFor();
    expectNoErrors(studio);
    await expectAccessible(page, 'Library with a derived persona');
    await saveScreenshot(page, target.name, 'library-arithmetic', volatile(page, studio.dataDir));
  });
});
