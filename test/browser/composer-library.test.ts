import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord, Manifest } from '../../content/index.js';
import type { ZoneCastHandle } from '../../player/src/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, loginComposer, openPlayer, playerState } from '../helpers/browser.js';
import { photoJpeg } from '../helpers/images.js';
import { repoRoot } from '../helpers/process.js';

/**
 * Issue 7's end-to-end check of the content library: a brand-new editor logs in, creates a
 * notice with a picture (uploaded with its progress), previews it on the town's screen as the
 * player's renderer draws it, and submits it; a reviewer approves it on the review page, and the
 * town's running player shows the notice, picture and all.
 */

let t: TestApp;
let browser: Browser;
// Set ZONECAST_SCREENSHOTS=1 to refresh the README's screenshots of the composer.
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.addUser({ username: 'cg-newcomer', displayName: '城关街道新编辑', role: 'editor', zoneId: 'chengguan' });
  await t.addUser({ username: 'cg-checker', displayName: '城关街道审核人', role: 'reviewer', zoneId: 'chengguan' });
  await t.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const testid = (page: Page, id: string) => page.getByTestId(id);

describe('the content library', () => {
  it('a new editor creates a notice with a picture and submits it; once approved, the town’s running player shows it', async () => {
    const screen = t.demo.find((s) => s.id === 'scr-chengguan');
    if (!screen) throw new Error('the demo has no scr-chengguan');
    // Open all day: with its clock running fast, the player would otherwise walk into the demo's
    // closing time whenever the test runs late in the city's afternoon (and show nothing).
    const { id: _id, createdAt: _c, updatedAt: _u, ...input } = await t.api('GET', '/api/screens/scr-chengguan');
    await t.api('PUT', '/api/screens/scr-chengguan', { ...input, openingHours: [] });
    // The town's player runs from the start. Its clock runs four times as fast (a diagnostics
    // switch), so that the side column's rotation comes round to the new notice in seconds.
    const player = await openPlayer(browser, t.url, screen.token, { query: 'clockRate=4', context: { viewport: { width: 960, height: 540 } } });
    const playerMedia: string[] = [];
    player.context.on('request', (r) => {
      if (r.url().includes('/media/')) playerMedia.push(r.url());
    });

    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await loginComposer(page, t.url, 'cg-newcomer');
    await testid(page, 'nav-library').click();
    // The demo's items are listed, drafts of other towns are not.
    await page.getByTestId('library-item-c-notice-renovation').waitFor({ timeout: 60_000 });
    if (shots) await page.screenshot({ path: path.join(shots, 'library.png') });

    await testid(page, 'library-new-button').click();
    await testid(page, 'library-new-notice').click();
    await testid(page, 'item-editor').waitFor();
    const title = '城关街道老旧小区改造项目（二期）公示';
    await testid(page, 'item-title').fill(title);
    await testid(page, 'item-body').fill('根据城关街道老旧小区改造计划，拟对以下小区实施外墙保温、管网改造和道路硬化，现予公示，接受群众监督。');
    await testid(page, 'item-contact').fill('城关街道城建办 0857-7654321');
    // A short turn on screen, so that the rotation reaches it quickly.
    await page.locator('[data-testid=item-duration] input').fill('8');
    // The publicity period starts as now to a week from now, in the city's time: it covers now.
    const start = await testid(page, 'item-publicity-start').getAttribute('data-value');
    const end = await testid(page, 'item-publicity-end').getAttribute('data-value');
    expect(start).toMatch(/\+08:00$/);
    expect(Date.parse(start ?? '')).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(end ?? '')).toBeGreaterThan(Date.now());

    // The picture goes up at once, with its progress.
    await testid(page, 'item-media-input').setInputFiles({ name: '改造范围示意图.jpg', mimeType: 'image/jpeg', buffer: await photoJpeg(1200, 800) });
    await page.locator('[data-testid=item-media-progress][data-percent="100"]').waitFor({ timeout: 30_000 });
    await expect(testid(page, 'item-media-name').textContent()).resolves.toContain('改造范围示意图.jpg');
    const hash = t.app.store.read().media.find((m) => m.originalName === '改造范围示意图.jpg')?.hash;
    expect(hash).toMatch(/^[a-f0-9]{64}$/);

    // The preview: the town's screen at its true resolution, drawn by the player's renderer.
    await testid(page, 'library-preview-screen').click();
    await testid(page, 'library-preview-screen-option-scr-chengguan').click();
    const preview = page.locator('[data-testid=library-preview] [data-testid=manifest-preview]');
    await page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid=library-preview] [data-testid=manifest-preview]');
        return el?.getAttribute('data-state') === 'ready' && el.getAttribute('data-width') === '1920';
      },
      null,
      { timeout: 60_000 },
    );
    await expect(preview.getAttribute('data-renderer')).resolves.toBe('webgl');
    await expect(preview.getAttribute('data-height')).resolves.toBe('1080');
    if (shots) await page.screenshot({ path: path.join(shots, 'library-editor.png') });

    // Submitting saves the new item first, then sends it for review.
    await testid(page, 'item-submit').click();
    await page.locator('[data-testid=item-editor][data-status=submitted]').waitFor({ timeout: 30_000 });
    const id = await testid(page, 'item-editor').getAttribute('data-item-id');
    if (!id) throw new Error('no item id');
    const stored = (await t.api('GET', `/api/content/${id}`)) as unknown as ContentRecord;
    expect(stored).toMatchObject({ kind: 'notice', zoneId: 'chengguan', title, status: 'submitted', mediaHash: hash, durationS: 8 });
    expect(stored.review.createdBy).toBe('u-cg-newcomer');
    // Under review it cannot be edited, only recalled; nothing has reached the player yet.
    await testid(page, 'item-recall').waitFor();
    expect(await testid(page, 'item-save').count()).toBe(0);
    expect((await playerState(player.page)).regions?.side?.itemId).not.toBe(id);
    // Back to the list (the preview's renderer goes with the editor): the item waits for review there.
    await testid(page, 'item-close').click();
    await page.locator(`[data-testid=library-item-${id}][data-status=submitted]`).waitFor({ timeout: 30_000 });

    // A reviewer of the town approves it on the review page.
    const reviewer = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    const rpage = await reviewer.newPage();
    rpage.on('pageerror', (e) => errors.push(e.message));
    await loginComposer(rpage, t.url, 'cg-checker');
    await testid(rpage, 'nav-review').click();
    const row = testid(rpage, `review-row-${id}`);
    await row.waitFor({ timeout: 30_000 });
    await expect(row.textContent()).resolves.toContain('城关街道新编辑');
    await row.getByTestId('review-approve').click();
    await rpage.locator('.el-message-box .el-button--primary').click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });

    // The player takes the pushed manifest, which carries the notice and its picture…
    const manifest = (await t.api('GET', '/api/screens/scr-chengguan/manifest')) as unknown as Manifest;
    expect(manifest.items[id]).toBeDefined();
    const asset = manifest.assets.find((a) => a.mediaHash === hash);
    expect(asset).toBeDefined();
    await player.page.waitForFunction((v) => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().manifestVersion === v, manifest.version, { timeout: 30_000 });
    // …and, as its side column comes round to it, shows it, with the picture fetched.
    // A loaded machine slows the rotation down; on failure, say what the player shows instead.
    await player.page
      .waitForFunction((itemId) => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().regions?.side?.itemId === itemId, id, { timeout: 120_000 })
      .catch(async (e: unknown) => {
        const state = await player.page.evaluate(() => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state());
        throw new Error(`the player never showed ${id} in side: ${JSON.stringify({ regions: state.regions, now: state.now, manifestVersion: state.manifestVersion })}`, { cause: e });
      });
    expect(playerMedia.some((u) => asset && u.endsWith(asset.url))).toBe(true);

    // In the library the author sees it published.
    await testid(page, 'library-refresh').click();
    await page.locator(`[data-testid=library-item-${id}][data-status=published]`).waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    await reviewer.close();
    await context.close();
    await player.context.close();
    // One long flow through three pages and a player: on a loaded two-core machine it needs more than the default.
  }, 300_000);
});
