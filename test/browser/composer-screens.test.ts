import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionShowing, screenOpen, type ContentKind, type Manifest } from '../../content/index.js';
import type { ZoneCastHandle } from '../../player/src/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, loginComposer, openPlayer, playerState } from '../helpers/browser.js';
import { repoRoot } from '../helpers/process.js';

/**
 * The screens page end to end: a town editor selects the running 北极镇 screen, sees what it shows
 * drawn by the player's renderer, renames it (the player gets a new manifest), has it identify
 * itself (its new name large on the wall, then gone) and reloads it remotely (it comes back
 * playing the same manifest).
 */

let t: TestApp;
let browser: Browser;
const SCREEN = 'scr-beiji';
/** The player shows identify this long here (IDENTIFY_MS in production), so the test need not wait 10 s. */
const IDENTIFY_TEST_MS = 2500;
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;

type Marked = typeof globalThis & { zonecast?: ZoneCastHandle; __marker?: number };

/** The first instant from now, in opening hours, 1 s into a slot in which some region of `m` shows an item of `kind`. */
function instantShowing(m: Manifest, kind: ContentKind): number {
  const from = Date.now() + 60_000;
  for (let at = from; at < from + 8 * 86_400_000; at += 5000) {
    if (!screenOpen(m, at)) continue;
    for (const r of m.layout?.regions ?? []) {
      const s = r.widget ? null : regionShowing(r, at, m.timeZone);
      if (s && m.items[s.itemId]?.kind === kind && s.slotEnd - s.slotStart > 8000) return s.slotStart + 1000;
    }
  }
  throw new Error(`${m.screen.name} shows no ${kind} in the next week`);
}

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.addUser({ username: 'beiji-editor', displayName: '北极镇编辑', role: 'editor', zoneId: 'beiji' });
  await t.listen();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the screens page', () => {
  it('shows the screen, renames it, identifies and reloads its player', async () => {
    const token = t.demo.find((d) => d.id === SCREEN)?.token;
    if (!token) throw new Error(`no demo screen ${SCREEN}`);
    const player = await openPlayer(browser, t.url, token, { context: { viewport: { width: 1152, height: 384 } }, query: `identifyMs=${IDENTIFY_TEST_MS}` });
    const before = (await playerState(player.page)).manifestVersion;

    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${e.message}\n${e.stack ?? ''}`));
    await loginComposer(page, t.url, 'beiji-editor');
    await page.getByTestId('nav-screens').click();

    // Its row shows it online with a still thumbnail; selected, its live preview is drawn by WebGL.
    await page.waitForFunction((id) => document.querySelector(`[data-testid="screens-row-${id}"]`)?.getAttribute('data-online') === 'true', SCREEN, { timeout: 30_000 });
    await page.getByTestId(`screens-select-${SCREEN}`).click();
    const preview = page.locator('[data-testid=screen-preview] [data-testid=manifest-preview]');
    await page.locator('[data-testid=screen-preview] [data-testid=manifest-preview][data-state=ready]').waitFor({ timeout: 60_000 });
    expect(await preview.getAttribute('data-renderer')).toBe('webgl');
    expect(await preview.getAttribute('data-version')).toBe(before);
    await page.locator(`[data-testid=screen-thumb-${SCREEN}][data-state=ready]`).waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('screen-legible').getAttribute('data-px')).resolves.toBe('21'); // ⌈10 m × 8.3 ÷ 4 mm⌉

    // Rename and save: the player gets a new manifest carrying the new name.
    const name = '北极镇政务公开专区一号屏';
    await page.getByTestId('screen-name').fill(name);
    await page.getByTestId('screen-save').click();
    const after = await player.page.waitForFunction((old) => {
      const v = (globalThis as Marked).zonecast?.state().manifestVersion;
      return v && v !== old ? v : null;
    }, before, { timeout: 30_000 });
    const version = (await after.jsonValue()) as string;
    expect(t.app.store.read().screens.find((s) => s.id === SCREEN)?.name).toBe(name);
    await page.waitForFunction((v) => document.querySelector('[data-testid=screen-preview] [data-testid=manifest-preview]')?.getAttribute('data-version') === v, version, { timeout: 30_000 });
    await expect(page.getByTestId('screen-title').textContent()).resolves.toContain(name);

    // Identify: the wall shows its new name large, then by itself clears.
    await page.getByTestId('screen-identify').click();
    await player.page.waitForFunction(() => (globalThis as Marked).zonecast?.state().identifying === true, null, { timeout: 15_000 });
    expect(await player.page.locator('#identify').textContent()).toContain(name);
    await expect(page.getByTestId('screen-command-result').getAttribute('data-delivered')).resolves.toBe('1');
    if (shots) await page.screenshot({ path: path.join(shots, 'screens.png') });
    await player.page.waitForFunction(() => (globalThis as Marked).zonecast?.state().identifying === false, null, { timeout: IDENTIFY_TEST_MS + 15_000 });
    expect(await player.page.locator('#identify').count()).toBe(0);

    // Reload: the page starts afresh (the marker is gone) and plays the same manifest again.
    await player.page.evaluate(() => {
      (globalThis as Marked).__marker = 1;
    });
    const navigated = player.page.waitForEvent('framenavigated', { timeout: 30_000 });
    await page.getByTestId('screen-reload').click();
    await page.locator('.el-message-box__btns .el-button--primary').click();
    await navigated;
    await player.page.waitForFunction(
      (v) => {
        const g = globalThis as Marked;
        const s = g.zonecast?.state();
        return g.__marker === undefined && s?.mode === 'playing' && s.manifestVersion === v && s.online;
      },
      version,
      { timeout: 60_000 },
    );
    await expect(page.getByTestId('screen-command-result').getAttribute('data-delivered')).resolves.toBe('1');

    // Everyday use at 1366×768: the keyboard reaches the page and the menu, and no page the
    // editor has scrolls sideways or pushes the menu off the screen.
    // A reload keeps the selected screen (it is in the address) and starts the focus afresh.
    await page.reload();
    await page.locator(`[data-testid=screen-detail][data-screen-id=${SCREEN}]`).waitFor({ timeout: 30_000 });
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('skip-to-content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.keyboard.press('Alt+M');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('nav-screens');
    const links = await page.locator('[data-testid=nav] a').all();
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) {
      await link.click();
      await page.waitForFunction((id) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute('aria-current') === 'page', await link.getAttribute('data-testid'));
      await page.waitForLoadState('networkidle');
      const fit = await page.evaluate(() => ({
        wide: document.documentElement.scrollWidth - window.innerWidth,
        below: Math.max(...[...document.querySelectorAll('[data-testid=nav] a')].map((a) => a.getBoundingClientRect().bottom)) - window.innerHeight,
        page: location.hash,
      }));
      expect(fit.wide, fit.page).toBeLessThanOrEqual(0);
      expect(fit.below, fit.page).toBeLessThanOrEqual(0);
    }
    expect(errors).toEqual([]);
    await context.close();
    await player.context.close();
  });

  it('draws thumbnails again and again beside the live preview of the same picture and video, without a page error', async () => {
    // The thumbnails make and destroy a renderer for each screen while the selected screen's
    // preview keeps drawing the same manifest: a picture or a video both draw must survive it.
    const m = await t.app.manifests.resolve(SCREEN);
    const picture = instantShowing(m, 'image');
    const video = instantShowing(m, 'video');
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${e.message}\n${e.stack ?? ''}`));
    // Under page.clock, pixi's frames run from Playwright's fake timers, which log what a frame
    // throws (console.error) instead of letting it reach the page as an uncaught error.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /^\w*Error\b/.test(msg.text())) errors.push(msg.text());
    });
    await page.clock.setFixedTime(picture);
    await loginComposer(page, t.url, 'beiji-editor');
    await page.goto(`${t.url}/composer/#/screens?screen=${SCREEN}`);
    const thumbs = page.locator('[data-testid^=screen-thumb-]');
    const allDrawn = () => page.waitForFunction(() => {
      const all = [...document.querySelectorAll('[data-testid^=screen-thumb-]')];
      return all.length > 0 && all.every((e) => e.getAttribute('data-state') === 'ready');
    }, null, { timeout: 60_000 });
    await page.locator('[data-testid=screen-preview] [data-testid=manifest-preview][data-state=ready]').waitFor({ timeout: 60_000 });
    // The preview renders at 2 frames a second; 40 animation frames take at least 660 ms.
    const frames = () => page.evaluate(() => new Promise<void>((resolve) => {
      let n = 0;
      const next = (): void => void (++n >= 40 ? resolve() : requestAnimationFrame(next));
      requestAnimationFrame(next);
    }));
    for (const at of [picture, video, picture]) {
      await page.clock.setFixedTime(at);
      await page.getByTestId('screens-refresh').click();
      await allDrawn();
      // The clock's seconds change, so pixi builds the preview's frame afresh from every texture it draws.
      for (const later of [1000, 2000]) {
        await page.clock.setFixedTime(at + later);
        await frames();
      }
    }
    expect(await thumbs.count()).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await context.close();
  });
});
