// Evaluate: a small evaluation (two questions from a file, short replies, one more α for curves) of
// a seeded persona with no sweep — so it steers at the defaults and says so — then the metrics, the
// α curves, the samples side by side, and the report exported as a PDF to the data folder, checked
// page by page with poppler.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { pdfInfo, pdfPages, pdfText, popplerSkipReason } from './harness/pdf.ts';
import { seedDataDir } from './harness/seed.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

const PERSONA = 'cheerful-vs-gloomy';
const QUESTIONS = ['How was your weekend?', 'What do you think of rainy days?'];

describeStudio('Evaluate: a small evaluation, exported as a PDF', (target) => {
  let studio: Studio;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = seedDataDir([PERSONA]).dataDir;
    writeFileSync(join(dataDir, 'questions.txt'), `${QUESTIONS.join('\n')}\n`);
    studio = await target.open({ dataDir });
  });
  afterAll(() => studio?.close());

  it('runs an evaluation at the defaults (said so) and shows metrics, α curves and samples side by side', async () => {
    const { page } = studio;
    await openScreen(page, 'Evaluate');
    await page.getByRole('heading', { name: 'Evaluate', level: 2 }).waitFor();
    await page.getByRole('textbox', { name: 'Questions file' }).fill(join(dataDir, 'questions.txt'));
    await page.getByRole('textbox', { name: 'More α values' }).fill('0.5');
    await page.getByRole('textbox', { name: 'Max new tokens' }).fill('12');
    await page.getByRole('button', { name: 'Run evaluation' }).click();

    const metrics = page.getByRole('table', { name: 'Metrics, unsteered vs steered' });
    await metrics.waitFor({ timeout: 120_000 });
    await page.getByText(/Steered at layer \d+, α 1: the defaults/).waitFor();
    await page.getByText(/no sweep recommendation is stored/).waitFor();
    const head = await metrics.getByRole('columnheader').allInnerTexts();
    expect(head.map((t) => t.trim())).toEqual(['Metric', 'Unsteered', 'α 0.5', 'α 1 (steered)']);
    // Steering moves the reply along the direction: the steered trait gain is positive.
    const gain = metrics.getByRole('row', { name: /^Trait gain/ }).getByRole('cell');
    expect(Number(await gain.nth(2).innerText())).toBeGreaterThan(0);

    // Stored: listed, and the one shown.
    await expect.poll(() => page.getByLabel('Stored evaluation').first().inputValue()).toMatch(/layer \d+, α 1 \(default\) · 2 questions$/);

    // Two α: a curve, drawn by the lazily loaded plotly.
    const curve = page.getByRole('figure', { name: /over α at layer \d+/ });
    await curve.locator('svg.main-svg').first().waitFor();

    const samples = page.getByRole('table', { name: 'Samples side by side' });
    for (const q of QUESTIONS) {
      const cells = samples.getByRole('row', { name: new RegExp(`^${q.replace(/\?/g, '\\?')}`) }).getByRole('cell');
      expect(await cells.count()).toBe(3);
      for (let i = 0; i < 3; i++) expect((await cells.nth(i).innerText()).trim().length).toBeGreaterThan(0);
    }
    expectNoErrors(studio);
  });

  const noPoppler = popplerSkipReason();
  if (noPoppler) console.log(`e2e [${target.name}] Evaluate PDF export: skipped: ${noPoppler}`);
  it.skipIf(noPoppler !== null)('exports the report as a PDF to the data folder: every page drawn, the report in its text', async () => {
    const { page } = studio;
    const form = page.getByRole('form', { name: 'Export report' });
    await expect.poll(() => form.getByRole('textbox', { name: 'Folder' }).inputValue()).toBe(dataDir);
    await form.getByLabel('Format', { exact: true }).click();
    await page.getByRole('option', { name: 'PDF' }).click();
    expect(await form.getByRole('textbox', { name: 'File name' }).inputValue()).toBe(`eval-${PERSONA}.pdf`);
    await form.getByRole('button', { name: 'Export report' }).click();
    // Done when it says so: written, written as HTML instead (no Chromium on the server), or failed.
    await form.getByText(/^(Report written: .*|Wrote the HTML instead of a PDF|Export failed)$/).waitFor({ timeout: 120_000 });
    const file = join(dataDir, `eval-${PERSONA}.pdf`);
    expect(await form.innerText()).toContain(`Report written: ${file} (PDF).`);

    const info = pdfInfo(file);
    expect(info.pages).toBeGreaterThanOrEqual(1);
    expect(info.pageSize).toContain('(A4)');
    const pages = pdfPages(file);
    expect(pages).toHaveLength(info.pages);
    for (const p of pages) expect(p.ink).toBeGreaterThan(0);
    const text = pdfText(file);
    expect(text).toContain(`Evaluation: ${PERSONA}`);
    expect(text).toContain('Unsteered vs steered');
    expect(text).toContain('Samples side by side');
    // The question column is narrow: a question may wrap, so its distinctive words are looked for.
    for (const word of ['weekend', 'rainy']) expect(text).toContain(word);
    expectNoErrors(studio);
  });

  it('with an evaluation: accessible, photographed', async () => {
    await expectAccessible(studio.page, 'Evaluate with an evaluation');
    // The export scrolled the page down: the picture starts at the screen's top (where it steered, the metrics).
    await studio.page.getByRole('heading', { name: 'Evaluate', level: 2 }).scrollIntoViewIfNeeded();
    // Masked too: the temp paths in the questions field and the stored evaluation's time.
    const page = studio.page;
    await saveScreenshot(page, target.name, 'evaluate', [
      ...volatile(page, studio.dataDir),
      page.getByRole('textbox', { name: 'Questions file' }),
      page.getByLabel('Stored evaluation'),
    ]);
  });
});
