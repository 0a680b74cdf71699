import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../content/index.js';
import type { ZoneCastHandle } from '../../player/src/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, loginComposer, openPlayer, playerState } from '../helpers/browser.js';
import { repoRoot } from '../helpers/process.js';

/**
 * The layout editor (issue 7, point 2) through the composer: a city admin opens 城关街道's demo
 * layout, resizes its main region with the mouse and by typing, sees the preview (the player's
 * renderer) redraw and a legibility warning for a region made too short, keeps the edit across a
 * reload as a draft, and saves; the running player takes the new layout without reloading.
 */

let t: TestApp;
let browser: Browser;
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.addUser({ username: 'binzhou-layouts', displayName: '彬州市管理员', role: 'city-admin', zoneId: 'binzhou' });
  await t.listen();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the layout editor', () => {
  it('resizing a region and saving changes the player’s layout without a reload', async () => {
    const screen = t.demo.find((s) => s.id === 'scr-chengguan');
    if (!screen) throw new Error('no demo screen scr-chengguan');
    // The demo gives each screen a city layout of its own: 城关街道's is lay-chengguan.
    const stored = t.app.store.read().layouts.find((l) => l.id === 'lay-chengguan');
    const main = stored?.regions.find((r) => r.id === 'main');
    const ticker = stored?.regions.find((r) => r.id === 'ticker');
    if (!main || !ticker) throw new Error('no demo regions');
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await loginComposer(page, t.url, 'binzhou-layouts');
    await page.getByTestId('nav-layouts').click();
    await expect(page.getByTestId('layout-screens-lay-chengguan').textContent({ timeout: 15_000 })).resolves.toContain(screen.name);
    await page.getByTestId('layout-edit-lay-chengguan').click();

    // The preview is drawn by the players' renderer, on the screen that uses the layout.
    const ready = () =>
      page.waitForFunction(
        () => {
          const el = document.querySelector('[data-testid=manifest-preview]');
          return el?.getAttribute('data-state') === 'ready' && el.getAttribute('data-version') ? el.getAttribute('data-version') : null;
        },
        null,
        { timeout: 60_000 },
      );
    const v1 = await (await ready()).jsonValue();
    expect(await page.getByTestId('manifest-preview').getAttribute('data-renderer')).toBe('webgl');
    expect(await page.getByTestId('layout-legibility').getAttribute('data-count')).toBe('0');

    // Select the main region, then drag its bottom-right handle up and to the left.
    const region = page.getByTestId('region-main');
    await region.click({ position: { x: 40, y: 40 } });
    expect(await region.getAttribute('data-selected')).toBe('true');
    const handle = await page.getByTestId('region-handle-se').boundingBox();
    if (!handle) throw new Error('no handle');
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(handle.x - 30, handle.y - 20, { steps: 5 });
    await page.mouse.move(handle.x - 60, handle.y - 40, { steps: 5 });
    await page.mouse.up();
    const dragged = Number(await region.getAttribute('data-width'));
    expect(dragged).toBeLessThan(main.width - 100);
    expect(Number(await region.getAttribute('data-height'))).toBeLessThan(main.height - 60);
    // The numbers follow the drag, and typing a number moves the drawing.
    await expect(page.locator('[data-testid=region-width] input').inputValue()).resolves.toBe(String(dragged));
    await page.locator('[data-testid=region-height] input').fill('900');
    await page.locator('[data-testid=region-height] input').press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=region-main]')?.getAttribute('data-height') === '900', null, { timeout: 5_000 });
    // Arrows move the focused region by a pixel.
    await region.focus();
    await page.keyboard.press('ArrowRight');
    expect(await region.getAttribute('data-x')).toBe('1');
    await page.keyboard.press('ArrowLeft');
    expect(await region.getAttribute('data-x')).toBe('0');

    // The preview redraws with the draft.
    await page.waitForFunction((old) => {
      const el = document.querySelector('[data-testid=manifest-preview]');
      return el?.getAttribute('data-state') === 'ready' && el.getAttribute('data-version') !== old;
    }, v1, { timeout: 60_000 });

    // The ticker made too short for a legible line at this screen's pitch and distance: a warning in words.
    await page.getByTestId('region-row-ticker').click();
    await page.locator('[data-testid=region-height] input').fill('20');
    await page.locator('[data-testid=region-height] input').press('Enter');
    const warning = page.getByTestId('legibility-ticker');
    await expect(warning.textContent({ timeout: 5_000 })).resolves.toMatch(/区域高度 20 像素，低于 1\.86 mm 点间距、5 米视距下一行可读文字所需的 \d+ 像素/);
    expect(await page.getByTestId('region-warn-ticker').count()).toBe(1);
    await page.locator('[data-testid=region-height] input').fill(String(ticker.height));
    await page.locator('[data-testid=region-height] input').press('Enter');
    await page.getByTestId('legibility-ticker').waitFor({ state: 'detached', timeout: 5_000 });

    // A reload (or an expired session) keeps what was drawn: the draft comes back with a notice.
    await page.waitForFunction(() => Object.keys(localStorage).some((k) => k.includes('layout.lay-chengguan')), null, { timeout: 5_000 });
    await page.reload();
    await page.getByTestId('draft-restored').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('region-main').getAttribute('data-height')).toBe('900');
    expect(await page.getByTestId('region-main').getAttribute('data-width')).toBe(String(dragged));
    await ready();
    await page.getByTestId('region-main').click({ position: { x: 40, y: 40 } });
    if (shots) await page.screenshot({ path: path.join(shots, 'layouts.png') });

    // The screen's player, running, marked so that a reload would show.
    const player = await openPlayer(browser, t.url, screen.token, { context: { viewport: { width: 640, height: 360 } } });
    await player.page.evaluate(() => ((globalThis as unknown as { __noReload: number }).__noReload = 1));
    const before = (await playerState(player.page)).manifestVersion;

    // Save: the one screen using the layout gets it, pushed, with no reload.
    await page.getByTestId('layout-save').click();
    await expect(page.getByTestId('layout-saved').getAttribute('data-screens', { timeout: 15_000 })).resolves.toBe('1');
    expect(await page.getByTestId('draft-restored').count()).toBe(0);
    const m = (await t.api('GET', '/api/screens/scr-chengguan/manifest')) as unknown as Manifest;
    expect(m.version).not.toBe(before);
    expect(m.layout?.regions.find((r) => r.id === 'main')).toMatchObject({ x: 0, y: 0, width: dragged, height: 900 });
    expect(m.layout?.regions.find((r) => r.id === 'ticker')?.height).toBe(ticker.height);
    await player.page.waitForFunction((v) => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().manifestVersion === v, m.version, { timeout: 30_000 });
    expect(await player.page.evaluate(() => (globalThis as unknown as { __noReload?: number }).__noReload)).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
    await player.context.close();
  });
});
