import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, loginComposer, openUnpairedPlayer, pairingCodeOf, playerState } from '../helpers/browser.js';
import { repoRoot } from '../helpers/process.js';

/**
 * Pairing through the composer: a fresh player shows its code, a city admin claims it on the
 * pairing page (the size comes from the player), the player plays, and revoking the screen on
 * the zones page sends it back to a new code.
 */

let t: TestApp;
let browser: Browser;
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.addUser({ username: 'binzhou-admin', displayName: '彬州市管理员', role: 'city-admin', zoneId: 'binzhou' });
  await t.listen();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('pairing through the composer', () => {
  it('claims a player’s code into a village, the player plays, and revoking sends it back to pairing', async () => {
    const player = await openUnpairedPlayer(browser, t.url, { context: { viewport: { width: 960, height: 320 } } });

    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await loginComposer(page, t.url, 'binzhou-admin');
    await page.getByTestId('nav-pairing').click();
    // The waiting player is listed with its code; taking it fills the code and the size it reported.
    await page.getByTestId(`pairing-use-${player.code}`).click({ timeout: 30_000 });
    await expect(page.getByTestId('pair-code').inputValue()).resolves.toBe(player.code);
    await expect(page.locator('[data-testid=pair-width] input').inputValue()).resolves.toBe('960');
    await expect(page.locator('[data-testid=pair-height] input').inputValue()).resolves.toBe('320');
    await page.getByTestId('pair-zone').click();
    await page.getByTestId('pair-zone-option-nanjie').click();
    await page.getByTestId('pair-name').fill('南街社区二号LED屏');
    // What the player cannot know: the wall's pixel pitch and how far away people stand.
    await page.locator('[data-testid=pair-pitch] input').fill('3.91');
    await page.locator('[data-testid=pair-distance] input').fill('6');
    if (shots) await page.screenshot({ path: path.join(shots, 'composer-pairing.png') });
    await page.getByTestId('pair-submit').click();
    const success = page.getByTestId('pair-success');
    await success.waitFor({ timeout: 30_000 }).catch(async (e: unknown) => {
      const problems = await page.locator('.el-form-item__error, [data-testid=pair-error]').allTextContents();
      throw new Error(`the claim did not succeed: ${problems.join(' | ')} (${String(e)})`);
    });
    const screenId = await success.getAttribute('data-screen-id');
    expect(screenId).toBeTruthy();

    await player.page.waitForFunction(
      (id) => {
        const s = (globalThis as unknown as { zonecast: { state(): { mode: string; screenId: string | null; manifestVersion: string | null } } }).zonecast.state();
        return s.mode === 'playing' && s.screenId === id && s.manifestVersion !== null;
      },
      screenId,
      { timeout: 60_000 },
    );
    expect((await playerState(player.page)).renderer).toBe('webgl');
    const stored = t.app.store.read().screens.find((s) => s.id === screenId);
    expect(stored).toMatchObject({ zoneId: 'nanjie', width: 960, height: 320, name: '南街社区二号LED屏', pixelPitchMm: 3.91, viewingDistanceM: 6 });

    // The zones page shows it online, and revoking it there returns the player to a new code.
    await page.getByTestId('nav-zones').click();
    await page.getByTestId('zone-nanjie').click();
    const row = page.getByTestId(`screen-${screenId}`);
    await page.waitForFunction((id) => document.querySelector(`[data-testid="screen-${id}"]`)?.getAttribute('data-online') === 'true', screenId, { timeout: 30_000 });
    await page.getByTestId(`screen-revoke-${screenId}`).click();
    await page.locator('.el-message-box .el-button--primary').click();
    const next = await pairingCodeOf(player.page, player.code, 60_000);
    expect(next).toMatch(/^\d{6}$/);
    await page.waitForFunction((id) => document.querySelector(`[data-testid="screen-${id}"]`)?.getAttribute('data-online') === 'false', screenId, { timeout: 30_000 });
    expect(await row.count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
    await player.context.close();
  });
});
