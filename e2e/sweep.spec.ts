// Layer sweep: a small sweep of a seeded persona (layers 3 and 5 × α 1, 2, 4 × two questions, one
// 8-token reply each, seed 1) run from the screen; the heatmap draws exactly layers × α cells; a
// cell clicked on the chart, and another chosen from the Cell list, shows its replies beside the
// unsteered ones; the recommended cell, when the sweep makes one, carries the star.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { annotations, cellCount, heatmapCellCenter, heatmapData } from './harness/plotly.ts';
import { seedDataDir } from './harness/seed.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

const PERSONA = 'cheerful-vs-gloomy';
const LAYERS = [3, 5];
const ALPHAS = [0.25, 0.5, 1];
const QUESTIONS = ['How was your day?', 'What do you think of rain?'];

describeStudio('Layer sweep: heatmap of layers × α', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await target.open({ dataDir: seedDataDir([PERSONA]).dataDir });
  });
  afterAll(() => studio?.close());

  it('runs a small sweep and draws one cell per layer and α', async () => {
    const { page } = studio;
    await openScreen(page, 'Layer sweep');
    await page.getByText('No sweeps of this persona yet: run one above.').waitFor();
    await expect.poll(() => page.getByRole('combobox', { name: 'Persona' }).inputValue()).toBe(PERSONA);
    await page.getByRole('textbox', { name: 'Layers' }).fill(LAYERS.join(','));
    await page.getByRole('textbox', { name: 'α values' }).fill(ALPHAS.join(', '));
    await page.getByRole('textbox', { name: 'Samples' }).fill('1');
    await page.getByRole('textbox', { name: 'Max new tokens' }).fill('8');
    await page.getByRole('textbox', { name: 'Seed' }).fill('1');
    await page.getByRole('textbox', { name: 'Questions' }).fill(QUESTIONS.join('\n'));
    await page.getByRole('button', { name: 'Run sweep' }).click();

    const chart = page.getByRole('figure', { name: /^Heatmap of Trait gain by layer and α/ });
    await chart.waitFor({ timeout: 240_000 });
    // plotly.js loads on first use (a few MB): allow for it on a busy machine.
    await expect.poll(() => heatmapData(chart).then((h) => h && cellCount(h)), { timeout: 60_000 }).toBe(LAYERS.length * ALPHAS.length);
    const h = (await heatmapData(chart))!;
    expect(h.y).toEqual(LAYERS.map((l) => `layer ${l}`));
    expect(h.x).toEqual(ALPHAS.map((a) => `α ${a}`));
    expect(
      h.z.flat().every((v) => typeof v === 'number' && Number.isFinite(v)),
      JSON.stringify(h.z),
    ).toBe(true);
    await page.getByText(`Questions from ${QUESTIONS.length} given questions.`, { exact: false }).waitFor();
    expectNoErrors(studio);
  });

  it('marks the recommended cell, if the sweep recommends one', async () => {
    const { page } = studio;
    const chart = page.getByRole('figure', { name: /^Heatmap of / });
    const rec = /^Recommended: layer (\d+), α (-?[\d.]+)/.exec(
      (await page.getByText(/^(Recommended: layer|No recommendation:)/).textContent()) ?? '',
    );
    const stars = () => annotations(chart).then((marks) => marks.filter((a) => a.text === '★'));
    await expect.poll(stars, { timeout: 30_000 }).toEqual(rec ? [{ text: '★', x: `α ${rec[2]}`, y: `layer ${rec[1]}` }] : []);
  });

  it('a cell clicked on the chart, or chosen from the list, shows its samples', async () => {
    const { page } = studio;
    const chart = page.getByRole('figure', { name: /^Heatmap of / });
    const samples = page.getByRole('table', { name: 'Samples' });
    const showsCell = async (layer: number, alpha: number) => {
      await samples.getByRole('columnheader', { name: `Layer ${layer}, α ${alpha}` }).waitFor();
      await expect.poll(() => samples.getByRole('row').count()).toBe(1 + QUESTIONS.length);
      for (const [i, q] of QUESTIONS.entries()) {
        const cells = await samples
          .getByRole('row')
          .nth(i + 1)
          .getByRole('cell')
          .allInnerTexts();
        expect(cells[0]).toBe(q);
        // The unsteered reply and the steered one, both generated.
        expect(cells[1]!.trim().length, `unsteered reply to ${q}`).toBeGreaterThan(0);
        expect(cells[2]!.trim().length, `reply at layer ${layer}, α ${alpha} to ${q}`).toBeGreaterThan(0);
      }
    };

    // Row 0 / column 0 of the grid: layer 3, α 1 (picked with the mouse, as a user would).
    // Plotly's click reports the point under the hover it computed on the way in: hover first.
    const at = await heatmapCellCenter(chart, 0, 0);
    await page.mouse.move(at.x, at.y);
    await chart.locator('.hoverlayer .hovertext').waitFor({ timeout: 10_000 });
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(() => page.getByRole('combobox', { name: 'Cell' }).inputValue()).toBe(`layer ${LAYERS[0]}, α ${ALPHAS[0]}`);
    await showsCell(LAYERS[0]!, ALPHAS[0]!);

    await page.getByRole('combobox', { name: 'Cell' }).click();
    await page.getByRole('option', { name: `layer ${LAYERS[1]}, α ${ALPHAS[2]}`, exact: true }).click();
    await showsCell(LAYERS[1]!, ALPHAS[2]!);
    // The chosen cell carries the ring, unless it is the recommended one (the star).
    const marks = await annotations(chart);
    expect(marks.some((a) => a.x === `α ${ALPHAS[2]}` && a.y === `layer ${LAYERS[1]}` && (a.text === '◯' || a.text === '★'))).toBe(true);
    expectNoErrors(studio);
  });

  it('uses a cell for steering', async () => {
    const { page } = studio;
    await page.getByRole('button', { name: 'Use this cell' }).click();
    await page.getByText(`In use: layer ${LAYERS[1]}, α ${ALPHAS[2]}.`).waitFor();
    expectNoErrors(studio);
  });

  it('with a sweep: accessible, photographed', async () => {
    await studio.page.mouse.move(0, 0);
    await expectAccessible(studio.page, 'Layer sweep with a heatmap');
    // The stored sweep's label carries its creation time: masked with the data dir.
    await saveScreenshot(studio.page, target.name, 'sweep', [
      ...volatile(studio.page, studio.dataDir),
      studio.page.getByRole('combobox', { name: 'Stored sweep' }),
    ]);
  });
});
