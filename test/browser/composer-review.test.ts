import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../content/index.js';
import { buildTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { launchChromium, loginComposer, openPlayer, playerState } from '../helpers/browser.js';
import { repoRoot } from '../helpers/process.js';

/**
 * Issue 5's end-to-end check, through the composer: an editor's notice is submitted, a reviewer
 * logs in to the composer, sees it in the review queue and approves it, and the town's running
 * player shows it — while the other town's player never does.
 */

let t: TestApp;
let browser: Browser;
let editor: TestUser;
const tokens: Record<string, string> = {};
const W = 640;
const H = 200;
// Set ZONECAST_SCREENSHOTS=1 to refresh the README's screenshots of the composer.
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;

beforeAll(async () => {
  t = await buildTestApp();
  await t.api('POST', '/api/zones', { id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  await t.api('POST', '/api/zones', { id: 'chengguan', tier: 'town', parentId: 'city', divisionCode: '610482001000', shortName: '城关街道' });
  await t.api('POST', '/api/zones', { id: 'beiji', tier: 'town', parentId: 'city', divisionCode: '610482101000', shortName: '北极镇' });
  await t.api('POST', '/api/playlists', {
    id: 'pl-notices', name: '公示公告', zoneId: 'city', mode: 'rule', entries: [], defaultDurationS: 10, scheduleId: null,
    rule: { kinds: ['notice'], scope: 'ancestors', limit: 10 },
  });
  await t.api('POST', '/api/layouts', {
    id: 'lay', zoneId: 'city', name: '公示屏', width: W, height: H, background: '#0b1f3a',
    regions: [{ id: 'notices', name: '公示', x: 0, y: 0, width: W, height: H, playlistId: 'pl-notices' }],
  });
  for (const [id, zoneId, name] of [['scr-cg', 'chengguan', '城关街道便民服务中心LED屏'], ['scr-bj', 'beiji', '北极镇便民服务中心LED屏']] as const) {
    const res = await t.api('POST', '/api/screens', { id, zoneId, name, width: W, height: H, pixelPitchMm: 2.5, viewingDistanceM: 3, openingHours: [], layoutId: 'lay' });
    tokens[id] = res.deviceToken as string;
  }
  editor = await t.addUser({ username: 'chengguan-editor', displayName: '城关街道编辑', role: 'editor', zoneId: 'chengguan' });
  await t.addUser({ username: 'chengguan-reviewer', displayName: '城关街道审核员', role: 'reviewer', zoneId: 'chengguan' });
  await t.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('review through the composer', () => {
  it('a reviewer approves a submitted notice and the town’s running player shows it', async () => {
    const day = 86_400_000;
    const created = (await t.api(
      'POST',
      '/api/content',
      {
        kind: 'notice', zoneId: 'chengguan', title: '城关街道2026年度低保对象公示', validFrom: null, validTo: null, durationS: null,
        body: '经个人申请、入户调查、民主评议,拟确定以下家庭为2026年度最低生活保障对象,现予公示。', contact: '城关街道民政办 0857-1234567',
        publicityStart: new Date(Date.now() - day).toISOString(), publicityEnd: new Date(Date.now() + 7 * day).toISOString(),
      },
      editor,
    )) as unknown as ContentRecord;
    await t.api('POST', `/api/content/${created.id}/submit`, undefined, editor);

    const cg = await openPlayer(browser, t.url, tokens['scr-cg'] ?? '', { context: { viewport: { width: W, height: H } } });
    const bj = await openPlayer(browser, t.url, tokens['scr-bj'] ?? '', { context: { viewport: { width: W, height: H } } });
    expect((await playerState(cg.page)).regions?.notices?.itemId ?? null).toBeNull();

    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await loginComposer(page, t.url, 'chengguan-reviewer');
    // The menu shows what a reviewer may do, and not what they may not.
    await expect(page.getByTestId('nav-users').count()).resolves.toBe(0);
    await expect(page.getByTestId('nav-pairing').count()).resolves.toBe(0);
    if (shots) await page.screenshot({ path: path.join(shots, 'composer-zones.png') });

    await page.getByTestId('nav-review').click();
    const row = page.getByTestId(`review-row-${created.id}`);
    await row.waitFor({ timeout: 30_000 });
    // A first submission: everything is new against the (absent) published version.
    await expect(row.textContent()).resolves.toContain('城关街道2026年度低保对象公示');
    // Who submitted it, by name.
    await expect(row.textContent()).resolves.toContain('城关街道编辑');
    if (shots) await page.screenshot({ path: path.join(shots, 'composer-review.png') });

    await row.getByTestId('review-approve').click();
    // Element Plus asks for confirmation in a message box.
    await page.locator('.el-message-box .el-button--primary').click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });

    const record = (await t.api('GET', `/api/content/${created.id}`)) as unknown as ContentRecord;
    expect(record.status).toBe('published');
    expect(record.review.reviewedBy).toBe('u-chengguan-reviewer');

    // The town's player takes the pushed manifest and shows the notice; the other town's never does.
    await cg.page.waitForFunction((id) => (globalThis as unknown as { zonecast: { state(): { regions?: Record<string, { itemId: string | null }> } } }).zonecast.state().regions?.notices?.itemId === id, created.id, { timeout: 60_000 });
    const other = await playerState(bj.page);
    expect(other.regions?.notices?.itemId ?? null).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
    await cg.context.close();
    await bj.context.close();
  });

  it('keeps what was typed when a login fails, and shows the server’s reason in Chinese', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${t.url}/composer/`);
    await page.getByTestId('login-username').fill('chengguan-editor');
    await page.getByTestId('login-password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    await expect(page.getByTestId('login-error').textContent({ timeout: 30_000 })).resolves.toContain('用户名或密码错误');
    await expect(page.getByTestId('login-username').inputValue()).resolves.toBe('chengguan-editor');
    await context.close();
  });
});
