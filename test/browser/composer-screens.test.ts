import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionShowing, screenOpen, type ContentKind, type Manifest } from '../../content/index.js';
import type { ZoneCastHandle } from '../../player/src/state.js';
import { buildTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { launchChromium, openPlayer, playerState, signedInContext } from '../helpers/browser.js';
import { repoRoot } from '../helpers/process.js';

/**
 * The screens page end to end: a town editor selects the running 北极镇 screen, sees what it shows
 * drawn by the player's renderer, renames it (the player gets a new manifest), has it identify
 * itself (its new name large on the wall, then gone) and reloads it remotely (it comes back
 * playing the same manifest). Then its thumbnail is drawn again and again beside the live preview.
 *
 * Both tests use one composer page, signed in with a session cookie (the login form is tested
 * elsewhere): the composer loads once, and its thumbnails stay cached from one test to the next.
 */

let t: TestApp;
let browser: Browser;
let editor: TestUser;
let composer: BrowserContext;
let page: Page;
/** Uncaught errors of the composer page, checked at the end of each test. */
const errors: string[] = [];
const SCREEN = 'scr-beiji';
/** The player shows identify this long here (IDENTIFY_MS in production), so the test need not wait 10 s. */
const IDENTIFY_TEST_MS = 1500;
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;

type Marked = typeof globalThis & { zonecast?: ZoneCastHandle; __marker?: number };

/** The first instant from now, in opening hours, at the start of a slot of 10 s or more in which some region of `m` shows an item of `kind`. */
function instantShowing(m: Manifest, kind: ContentKind): number {
  const from = Date.now() + 60_000;
  for (let at = from; at < from + 8 * 86_400_000; at += 5000) {
    if (!screenOpen(m, at)) continue;
    for (const r of m.layout?.regions ?? []) {
      const s = r.widget ? null : regionShowing(r, at, m.timeZone);
      if (s && m.items[s.itemId]?.kind === kind && s.slotEnd - s.slotStart >= 10_000) return s.slotStart + 500;
    }
  }
  throw new Error(`${m.screen.name} shows no ${kind} in the next week`);
}

beforeAll(async () => {
  // Chromium starts while the demo city is seeded.
  const launching = launchChromium();
  try {
    t = await buildTestApp({ demo: true });
    editor = await t.addUser({ username: 'beiji-editor', displayName: '北极镇编辑', role: 'editor', zoneId: 'beiji' });
    await t.listen();
  } finally {
    browser = await launching;
  }
  composer = await signedInContext(browser, t.url, editor.cookie);
  // The page's Date.now() can be moved to an instant the test picks (timers and frames stay real);
  // it reads the true time until then, and again after a reload.
  await composer.addInitScript(() => {
    const real = Date.now.bind(Date);
    let offset = 0;
    Date.now = () => real() + offset;
    Object.assign(globalThis, { zcSetNow: (at: number) => (offset = at - real()) });
  });
  page = await composer.newPage();
  page.on('pageerror', (e) => errors.push(`${e.message}\n${e.stack ?? ''}`));
});
afterAll(async () => {
  await composer?.close();
  await browser?.close();
  await t?.close();
});

describe('the screens page', () => {
  it('shows the screen, renames it, identifies and reloads its player', async () => {
    const token = t.demo.find((d) => d.id === SCREEN)?.token;
    if (!token) throw new Error(`no demo screen ${SCREEN}`);
    errors.length = 0;
    // The wall's player starts while the editor opens the screens page.
    const [player] = await Promise.all([
      openPlayer(browser, t.url, token, { context: { viewport: { width: 1152, height: 384 } }, query: `identifyMs=${IDENTIFY_TEST_MS}` }),
      page.goto(`${t.url}/composer/#/screens`),
    ]);
    const before = (await playerState(player.page)).manifestVersion;

    // Its row shows it online with a still thumbnail; selected, its live preview is drawn by WebGL.
    await page.waitForFunction((id) => document.querySelector(`[data-testid="screens-row-${id}"]`)?.getAttribute('data-online') === 'true', SCREEN, { timeout: 30_000 });
    await page.getByTestId(`screens-select-${SCREEN}`).click();
    const preview = page.locator('[data-testid=screen-preview] [data-testid=manifest-preview]');
    await page.locator('[data-testid=screen-preview] [data-testid=manifest-preview][data-state=ready]').waitFor({ timeout: 60_000 });
    expect(await preview.getAttribute('data-renderer')).toBe('webgl');
    expect(await preview.getAttribute('data-version')).toBe(before);
    await page.locator(`[data-testid=screen-thumb-${SCREEN}][data-state=ready]`).waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('screen-legible').getAttribute('data-px')).resolves.toBe('21'); // ⌈10 m × 8.3 ÷ 4 mm⌉

    // Rename and save: the player gets a new manifest carrying the new name. It takes over at the
    // next item boundary (pending until then) and is kept for the next start at once.
    const name = '北极镇政务公开专区一号屏';
    await page.getByTestId('screen-name').fill(name);
    await page.getByTestId('screen-save').click();
    const after = await player.page.waitForFunction((old) => {
      const s = (globalThis as Marked).zonecast?.state();
      const v = s?.pendingVersion ?? s?.manifestVersion;
      return v && v !== old ? v : null;
    }, before, { timeout: 30_000 });
    const version = (await after.jsonValue()) as string;
    expect(t.app.store.read().screens.find((s) => s.id === SCREEN)?.name).toBe(name);
    await page.waitForFunction((v) => document.querySelector('[data-testid=screen-preview] [data-testid=manifest-preview]')?.getAttribute('data-version') === v, version, { timeout: 30_000 });
    await expect(page.getByTestId('screen-title').textContent()).resolves.toContain(name);

    // Identify: the wall shows its new name large, then by itself clears.
    await page.getByTestId('screen-identify').click();
    // Read in the page while it shows, however briefly that is.
    const shown = await player.page.waitForFunction(() => ((globalThis as Marked).zonecast?.state().identifying === true ? document.querySelector('#identify')?.textContent || null : null), null, { timeout: 15_000 });
    expect(await shown.jsonValue()).toContain(name);
    await page.locator('[data-testid=screen-command-result][data-delivered="1"]').waitFor({ timeout: 15_000 });
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
    await page.locator('[data-testid=screen-command-result][data-delivered="1"]').waitFor({ timeout: 15_000 });

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
    await player.context.close();
  });

  it('draws thumbnails again and again beside the live preview of the same picture and video, without a page error', async () => {
    // The thumbnails make and destroy a renderer for each screen while the selected screen's
    // preview keeps drawing the same manifest: a picture or a video both draw must survive it.
    const m = await t.app.manifests.resolve(SCREEN);
    const picture = instantShowing(m, 'image');
    const video = instantShowing(m, 'video');
    errors.length = 0;
    const setNow = (at: number) => page.evaluate((to) => (globalThis as typeof globalThis & { zcSetNow(at: number): void }).zcSetNow(to), at);
    /** Waits `n` animation frames: the preview draws 2 frames a second, so 40 hold one of them and 90 three. */
    const frames = (n: number) => page.evaluate((count) => new Promise<void>((resolve) => {
      let i = 0;
      const next = (): void => void (++i >= count ? resolve() : requestAnimationFrame(next));
      requestAnimationFrame(next);
    }), n);
    /** Presses 刷新 and waits until the thumbnail has been drawn afresh: loading, then ready or failed. */
    const redraw = () => page.evaluate((id) => new Promise<void>((resolve, reject) => {
      const el = document.querySelector(`[data-testid=screen-thumb-${id}]`);
      if (!el) throw new Error(`no thumbnail of ${id}`);
      const timer = setTimeout(() => reject(new Error(`the thumbnail stayed ${el.getAttribute('data-state')}`)), 60_000);
      let loading = false;
      new MutationObserver((_, observer) => {
        if (el.getAttribute('data-state') === 'loading') loading = true;
        else if (loading) {
          observer.disconnect();
          clearTimeout(timer);
          resolve();
        }
      }).observe(el, { attributes: true, attributeFilter: ['data-state'] });
      document.querySelector<HTMLElement>('[data-testid=screens-refresh]')?.click();
    }), SCREEN);

    await page.goto(`${t.url}/composer/#/screens?screen=${SCREEN}`);
    // Its row alone, so that each round draws one thumbnail: the one sharing the preview's manifest.
    await page.getByTestId('screens-search').fill(SCREEN);
    const thumb = page.locator(`[data-testid=screen-thumb-${SCREEN}]`);
    await page.locator('[data-testid=screen-preview] [data-testid=manifest-preview][data-state=ready]').waitFor({ timeout: 60_000 });
    for (const at of [picture, video]) {
      await thumb.and(page.locator('[data-state=ready]')).waitFor({ timeout: 60_000 });
      // The preview shows the picture (the video) before the thumbnail draws it too, and goes on
      // drawing it after the thumbnail's renderer is gone, with a new clock text each second, so
      // that pixi builds its frame afresh from every texture it draws.
      await setNow(at);
      await frames(40);
      await redraw();
      expect(await thumb.getAttribute('data-state')).toBe('ready');
      await frames(90);
    }
    expect(await thumb.getAttribute('data-version')).toBe(m.version);
    expect(errors).toEqual([]);
  });
});
