// Playground: a chat with a persona whose α changes while the reply streams. Greedy decoding on the
// demo model: at α 3 the cheerful persona repeats "happy" until the token limit, so the reply is
// still streaming when α moves to −3 (Home on the slider); the rest of the reply is generated under
// the new α, marked "α changed", and no longer only "happy".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible, expectNoErrors, saveScreenshot, volatile } from './harness/checks.ts';
import { seedDataDir } from './harness/seed.ts';
import { describeStudio, openScreen } from './harness/suite.ts';
import type { Studio } from './harness/targets.ts';

const PERSONA = 'cheerful-vs-gloomy';

describeStudio('Playground: chat with α changed mid-reply', (target) => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await target.open({ dataDir: seedDataDir([PERSONA]).dataDir });
  });
  afterAll(() => studio?.close());

  it('streams a steered reply, re-steers it mid-reply, and shows the trait meter', async () => {
    const { page } = studio;
    await openScreen(page, 'Playground');
    const personas = page.getByRole('combobox', { name: 'Personas' });
    await personas.click();
    await page.getByRole('option', { name: PERSONA }).click();
    await page.keyboard.press('Escape');
    const alpha = page.getByRole('slider', { name: `α for ${PERSONA}` });
    await alpha.focus();
    await page.keyboard.press('End');
    await expect.poll(() => alpha.getAttribute('aria-valuenow')).toBe('3');

    await page.getByRole('switch', { name: 'Greedy decoding' }).check();
    await page.getByRole('textbox', { name: 'Seed' }).fill('1');
    await page.getByRole('textbox', { name: 'Max new tokens' }).fill('900');
    await page.getByRole('textbox', { name: 'Message' }).fill('Tell me a long story about the sea.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();

    const log = page.getByRole('log', { name: 'Conversation' });
    // Streaming: the reply has begun repeating, and Stop is enabled.
    await log.getByText(/(happy ){5}/).waitFor({ timeout: 120_000 });
    await expect.poll(() => page.getByRole('button', { name: 'Stop', exact: true }).isEnabled()).toBe(true);
    await alpha.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => alpha.getAttribute('aria-valuenow')).toBe('-3');

    await log.getByText('α changed').waitFor({ timeout: 120_000 });
    // The reply ends (eos, or the token limit) and Send is back.
    await expect.poll(() => page.getByRole('button', { name: 'Stop', exact: true }).isDisabled(), { timeout: 180_000 }).toBe(true);
    // textContent: innerText would show the badge upper-cased, as styled.
    const reply = ((await log.textContent()) ?? '').split('α changed');
    expect(reply).toHaveLength(2);
    expect(reply[1]!.trim().length).toBeGreaterThan(0);
    expect(reply[1]!.replace(/happy|\s/g, '').length, `after the change: ${reply[1]!.slice(0, 200)}`).toBeGreaterThan(0);
    await page.getByRole('meter').first().waitFor();
    expectNoErrors(studio);
  });

  it('with a conversation: accessible, photographed', async () => {
    await expectAccessible(studio.page, 'Playground with a conversation');
    await saveScreenshot(studio.page, target.name, 'playground', volatile(studio.page, studio.dataDir));
  });
});
