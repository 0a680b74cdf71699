import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_COLOURS, ERRORS, type Alert } from '../../content/index.js';
import type { ZoneCastHandle } from '../../player/src/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, loginComposer, openPlayer, playerState } from '../helpers/browser.js';
import { photoJpeg } from '../helpers/images.js';
import { repoRoot } from '../helpers/process.js';

/**
 * The alert console (issue 6, point 3) through the composer: a city editor composes a severe
 * alert for 北极镇, previews it at a village screen's true size, sends it after confirming, and
 * watches the town's and villages' running players reach "displayed" live on the board; then
 * the all clear takes it off them. A failed send keeps the draft; a town editor has no console.
 */

let t: TestApp;
let browser: Browser;
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;
/** 北极镇's screens: the town's own and its two villages'. */
const BEIJI = ['scr-beiji', 'scr-potou', 'scr-dingjia'] as const;
const players: { context: BrowserContext; page: Page }[] = [];

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.addUser({ username: 'binzhou-editor', displayName: '彬州市编辑', role: 'editor', zoneId: 'binzhou' });
  await t.addUser({ username: 'chengguan-editor', displayName: '城关街道编辑', role: 'editor', zoneId: 'chengguan' });
  await t.listen();
  browser = await launchChromium();
});
afterAll(async () => {
  for (const p of players) await p.context.close().catch(() => undefined);
  await browser?.close();
  await t?.close();
});

const attr = (page: Page, testid: string, name: string) => page.getByTestId(testid).getAttribute(name);
const confirmBox = (page: Page) => page.locator('.el-message-box .el-message-box__btns .el-button--primary');

describe('the alert console', () => {
  it('a city editor previews, sends, watches the screens display it live, and gives the all clear', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await loginComposer(page, t.url, 'binzhou-editor');
    await page.getByTestId('nav-alerts').click();

    await page.getByTestId('alert-severity').click();
    await page.getByTestId('alert-severity-option-severe').click();
    await page.getByTestId('alert-title').fill('暴雨橙色预警');
    await page.getByTestId('alert-text').fill('北极镇未来3小时内将出现50毫米以上强降雨，请沿河群众立即向高处转移，远离河道、山坡和低洼地带。值班电话：0857-1234567。');
    await page.getByTestId('alert-ttl-unit-minutes').click();
    await page.locator('[data-testid=alert-ttl] input').fill('90');
    await page.locator('[data-testid=alert-ttl] input').blur();

    // Ticking the town covers its villages: three screens.
    await page.getByTestId('alert-target-beiji').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=alert-reach]')?.getAttribute('data-count') === '3', null, { timeout: 10_000 });
    expect(await attr(page, 'alert-target-beiji', 'data-checked')).toBe('true');
    expect(await attr(page, 'alert-target-potou', 'data-checked')).toBe('covered');
    expect(await attr(page, 'alert-target-chengguan', 'data-checked')).toBe('false');

    // Preview on 坡头村's 768×256 wall: laid out by the player's renderer at its true size, shown scaled down.
    await page.getByTestId('alert-preview-screen').click();
    await page.getByTestId('alert-preview-screen-option-scr-potou').click();
    await page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid=alert-preview]');
        return el?.getAttribute('data-state') === 'ready' && el.getAttribute('data-width') === '768';
      },
      null,
      { timeout: 60_000 },
    );
    expect(await attr(page, 'alert-preview', 'data-presentation')).toBe('takeover');
    const canvas = await page.locator('[data-testid=alert-preview] canvas').evaluate((c: HTMLCanvasElement) => {
      // A takeover fills the wall with the severity colour: read a corner of the real drawing.
      const copy = document.createElement('canvas');
      copy.width = c.width;
      copy.height = c.height;
      const ctx = copy.getContext('2d');
      ctx?.drawImage(c, 0, 0);
      const px = ctx?.getImageData(1, c.height - 2, 1, 1).data;
      const box = c.getBoundingClientRect();
      return { ratio: c.width / c.height, cssRatio: box.width / box.height, corner: px ? [px[0], px[1], px[2]] : null };
    });
    expect(canvas.ratio).toBeCloseTo(3, 1);
    expect(canvas.cssRatio).toBeCloseTo(3, 1);
    const hex = ALERT_COLOURS.severe.background;
    expect(canvas.corner).toEqual([1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
    if (shots) await page.screenshot({ path: path.join(shots, 'composer-alerts.png') });

    // The town's and the villages' players, each at its screen's own size, as on the wall.
    for (const id of BEIJI) {
      const screen = t.demo.find((s) => s.id === id);
      if (!screen) throw new Error(`no demo screen ${id}`);
      players.push(await openPlayer(browser, t.url, screen.token, { context: { viewport: { width: screen.width, height: screen.height } } }));
    }

    // Send, after a confirmation that says what goes where.
    await page.getByTestId('alert-send').click();
    const confirm = page.getByTestId('alert-confirm');
    await confirm.waitFor({ timeout: 10_000 });
    const said = (await confirm.textContent()) ?? '';
    expect(said).toContain('严重');
    expect(said).toContain('北极镇');
    expect(said).toContain('3 台');
    await confirmBox(page).click();

    const board = page.getByTestId('alert-board');
    await board.waitFor({ timeout: 30_000 });
    const alertId = await board.getAttribute('data-alert-id');
    expect(alertId).toBeTruthy();
    const stored = t.app.store.read().alerts.find((a) => a.id === alertId) as Alert | undefined;
    expect(stored).toMatchObject({ severity: 'severe', title: '暴雨橙色预警', targetZoneIds: ['beiji'], ttlMinutes: 90, createdBy: 'u-binzhou-editor' });
    for (const id of BEIJI) await page.getByTestId(`alert-delivery-${id}`).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('alert-delivery-scr-chengguan').count()).toBe(0);

    // The players' acknowledgements arrive on the board as they happen.
    await page.waitForFunction(
      (ids) => ids.every((id) => document.querySelector(`[data-testid="alert-delivery-${id}"]`)?.getAttribute('data-state') === 'displayed'),
      [...BEIJI],
      { timeout: 90_000 },
    );
    expect(await page.getByTestId('alert-board-displayed').textContent()).toContain('已上屏 3 / 3');
    expect(await attr(page, 'alert-board-live', 'data-state')).toBe('live');
    for (const p of players) {
      const alerts = (await playerState(p.page)).alerts ?? [];
      expect(alerts.find((a) => a.alertId === alertId)).toMatchObject({ showing: true });
    }

    // The all clear, after its own confirmation, takes it off every screen.
    await page.getByTestId('alert-clear').click();
    await confirmBox(page).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=alert-board]')?.getAttribute('data-status') === 'cleared', null, { timeout: 30_000 });
    expect(t.app.store.read().alerts.find((a) => a.id === alertId)?.clearedBy).toBe('u-binzhou-editor');
    expect(await page.getByTestId('alert-clear').count()).toBe(0);
    for (const p of players) {
      await p.page.waitForFunction(
        (id) => !(globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().alerts.some((a) => a.alertId === id),
        alertId,
        { timeout: 30_000 },
      );
    }
    await expect(attr(page, `alert-recent-${alertId}`, 'data-status')).resolves.toBe('cleared');
    expect(errors).toEqual([]);
    await context.close();
    for (const p of players.splice(0)) await p.context.close();
  });

  it('uploads a picture with the draft, and keeps it all and shows the server’s reason in Chinese when a send fails', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'zh-CN' });
    const page = await context.newPage();
    await loginComposer(page, t.url, 'binzhou-editor');
    await page.getByTestId('nav-alerts').click();
    await page.getByTestId('alert-severity').click();
    await page.getByTestId('alert-severity-option-moderate').click();
    await page.getByTestId('alert-title').fill('停水通知');
    await page.getByTestId('alert-text').fill('城关街道今日14:00至18:00停水检修。');
    await page.getByTestId('alert-target-chengguan').click();
    // The picture goes up as soon as it is chosen; the draft then names it by its hash.
    await page.getByTestId('alert-image-input').setInputFiles({ name: '停水范围.jpg', mimeType: 'image/jpeg', buffer: await photoJpeg(1200, 800) });
    await page.getByTestId('alert-image-remove').waitFor({ timeout: 30_000 });
    expect(t.app.store.read().media.some((m) => m.originalName === '停水范围.jpg')).toBe(true);
    let sent: unknown = null;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/alerts')) sent = r.postDataJSON();
    });
    // Meanwhile the account is moved down to a town (straight in the store, so the session
    // stays): the real server now refuses the send, since alerts are for city-level accounts.
    await t.app.store.write((d) => {
      const u = d.users.find((x) => x.username === 'binzhou-editor');
      if (u) u.zoneId = 'chengguan';
    });
    await page.getByTestId('alert-send').click();
    await confirmBox(page).click();
    await expect(page.getByTestId('alert-error').textContent({ timeout: 30_000 })).resolves.toContain(ERRORS.FORBIDDEN_ROLE.zh);
    await t.app.store.write((d) => {
      const u = d.users.find((x) => x.username === 'binzhou-editor');
      if (u) u.zoneId = 'binzhou';
    });
    await expect(page.getByTestId('alert-title').inputValue()).resolves.toBe('停水通知');
    await expect(page.getByTestId('alert-text').inputValue()).resolves.toBe('城关街道今日14:00至18:00停水检修。');
    expect(await attr(page, 'alert-target-chengguan', 'data-checked')).toBe('true');
    expect(await page.getByTestId('alert-image-remove').count()).toBe(1);
    expect(await page.getByTestId('alert-board').count()).toBe(0);
    const hash = t.app.store.read().media.find((m) => m.originalName === '停水范围.jpg')?.hash;
    expect(sent).toEqual({ severity: 'moderate', title: '停水通知', text: '城关街道今日14:00至18:00停水检修。', mediaHash: hash, targetZoneIds: ['chengguan'], ttlMinutes: 120 });
    await context.close();
  });

  it('is not offered to a town editor, not even by its address', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await loginComposer(page, t.url, 'chengguan-editor');
    expect(await page.getByTestId('nav-alerts').count()).toBe(0);
    await page.goto(`${t.url}/composer/#/alerts`);
    await page.waitForFunction(() => !location.hash.startsWith('#/alerts'), null, { timeout: 10_000 });
    expect(await page.getByTestId('alert-form').count()).toBe(0);
    await context.close();
  });
});
