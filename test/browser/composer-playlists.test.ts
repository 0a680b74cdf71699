import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTime, type Daypart, type Playlist, type Schedule } from '../../content/index.js';
import type { ZoneCastHandle } from '../../player/src/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, loginComposer, openPlayer, playerState } from '../helpers/browser.js';
import { repoRoot } from '../helpers/process.js';

/**
 * Playlists, schedules and "what will this screen show today" (issue 7, point 3) through the
 * composer: a town editor reorders a fixed playlist by dragging (and by keyboard), leaves and
 * comes back to the draft, and saves; paints a schedule's hours on the week grid and saves it;
 * and the today view of 城关街道's screen agrees with the running player at three instants.
 *
 * The three instants are spread over the file (now, then at least 7 s and 25 s later, across an
 * item change) so that the playlist and schedule steps fill the wait instead of idling.
 */

let t: TestApp;
let browser: Browser;
let composer: { context: BrowserContext; page: Page };
let player: { context: BrowserContext; page: Page };
let t0 = 0;
const shots = process.env.ZONECAST_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs/screenshots') : null;
const SCREEN = 'scr-chengguan';
const REGIONS = ['main', 'side', 'ticker'] as const;
/** The turn (item and its start) per region seen at each sampled instant. */
const seen: Record<string, { itemId: string; start: number }>[] = [];

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.addUser({ username: 'cg-editor', displayName: '城关街道编辑', role: 'editor', zoneId: 'chengguan' });
  // Open for three hours either side of now whatever the hour the test runs at, closed otherwise,
  // so the day shows closed hours and the samples fall in open ones.
  const screen = (await t.api('GET', `/api/screens/${SCREEN}`)) as Record<string, unknown>;
  const { id: _id, createdAt: _c, updatedAt: _u, ...input } = screen;
  const hour = Math.floor(localTime(Date.now(), 'Asia/Shanghai').msOfDay / 3_600_000);
  const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
  await t.api('PUT', `/api/screens/${SCREEN}`, { ...input, openingHours: [{ days: [1, 2, 3, 4, 5, 6, 7], start: hh(hour - 3), end: hh(hour + 3) }] });
  // A fixed playlist of the town's own, bound to no region (reordering it leaves the screen's rotation alone).
  await t.api('POST', '/api/playlists', {
    id: 'pl-cg-fixed',
    name: '城关街道固定列表',
    zoneId: 'chengguan',
    mode: 'fixed',
    entries: [{ contentId: 'c-text-welcome' }, { contentId: 'c-text-hotline', durationS: 12 }, { contentId: 'c-map-chengguan', weight: 2 }],
    rule: null,
    defaultDurationS: 20,
    scheduleId: null,
  });
  await t.listen();
  browser = await launchChromium();
  const demo = t.demo.find((s) => s.id === SCREEN);
  if (!demo) throw new Error(`no demo screen ${SCREEN}`);
  [player, composer] = await Promise.all([
    openPlayer(browser, t.url, demo.token, { context: { viewport: { width: 960, height: 540 } } }),
    (async () => {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
      const page = await context.newPage();
      await loginComposer(page, t.url, 'cg-editor');
      return { context, page };
    })(),
  ]);
});
afterAll(async () => {
  await player?.context.close().catch(() => undefined);
  await composer?.context.close().catch(() => undefined);
  await browser?.close();
  await t?.close();
});

const attr = (page: Page, testid: string, name: string) => page.getByTestId(testid).getAttribute(name);
const openView = (page: Page, query: string) => page.evaluate((q) => (location.hash = `#/playlists?${q}`), query);

/**
 * Reads the player, asks the today view for the player's own instant, and compares the item in
 * each region. An instant within 1 s of a turn's start or end (the player draws at a few frames a
 * second on a software GPU) is skipped and another one taken a second past that boundary.
 */
async function sampleAgainstPlayer(notBefore: number): Promise<void> {
  const page = composer.page;
  await player.page.waitForFunction((t) => ((globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().now ?? 0) >= t, notBefore, { timeout: 60_000 });
  for (let attempt = 0; attempt < 8; attempt++) {
    const state = await playerState(player.page);
    const at = Math.floor(state.now ?? 0);
    expect(state.open).toBe(true);
    await openView(page, `tab=today&screen=${SCREEN}&at=${at}`);
    await page.waitForFunction(
      (when) => {
        const el = document.querySelector('[data-testid=timeline-at]');
        return el?.getAttribute('data-at') === String(when) && el.getAttribute('data-state') === 'ready';
      },
      at,
      { timeout: 20_000 },
    );
    const answer: Record<string, { itemId: string; start: number; end: number }> = {};
    for (const r of REGIONS) {
      const el = page.getByTestId(`timeline-at-region-${r}`);
      answer[r] = { itemId: (await el.getAttribute('data-item-id')) ?? '', start: Number(await el.getAttribute('data-slot-start')), end: Number(await el.getAttribute('data-slot-end')) };
    }
    // The turn boundary the instant lies close to: try again a second past it.
    const edge = Object.values(answer)
      .flatMap((a) => [a.start, a.end])
      .find((b) => Math.abs(at - b) < 1000);
    if (edge !== undefined) {
      await player.page.waitForFunction((t) => ((globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().now ?? 0) >= t, edge + 1000, { timeout: 30_000 });
      continue;
    }
    for (const r of REGIONS) {
      expect(answer[r]?.itemId, `${r} at ${new Date(at).toISOString()}`).toBe(state.regions?.[r]?.itemId);
      expect(answer[r]?.start, `${r} turn start`).toBe(state.regions?.[r]?.slotStart);
    }
    // The lane under the instant has the item in its rotation.
    for (const r of REGIONS) {
      const segs = await page.locator(`[data-testid^="timeline-segment-${r}-"]`).evaluateAll((els) => els.map((e) => ({ start: Number(e.getAttribute('data-start')), end: Number(e.getAttribute('data-end')), items: e.getAttribute('data-items') ?? '' })));
      const seg = segs.find((s) => s.start <= at && at < s.end);
      expect(seg?.items.split(','), r).toContain(answer[r]?.itemId);
    }
    seen.push(Object.fromEntries(REGIONS.map((r) => [r, { itemId: answer[r]?.itemId ?? '', start: answer[r]?.start ?? 0 }])));
    return;
  }
  throw new Error('every sampled instant fell on a turn boundary');
}

describe('playlists, schedules and the day of a screen', () => {
  it('the today timeline matches the player now, with closed hours drawn as such', async () => {
    const page = composer.page;
    await page.getByTestId('nav-playlists').click();
    await page.getByTestId('playlists-page').waitFor({ timeout: 20_000 });
    await openView(page, `tab=today&screen=${SCREEN}`);
    await page.waitForFunction(
      (id) => {
        const el = document.querySelector('[data-testid=timeline]');
        return el?.getAttribute('data-screen-id') === id && el.getAttribute('data-state') === 'ready';
      },
      SCREEN,
      { timeout: 20_000 },
    );
    // One lane per region of the screen's layout.
    expect(await page.locator('[data-testid^="timeline-lane-"]').count()).toBe(4);
    // Outside the six open hours every lane is closed.
    const closed = await page.locator('[data-testid^="timeline-segment-main-"][data-open=false]').count();
    expect(closed).toBeGreaterThan(0);
    t0 = (await playerState(player.page)).now ?? Date.now();
    await sampleAgainstPlayer(t0);
  });

  it('reorders a fixed playlist by dragging and by keyboard, keeps the draft over a reload, and saves the order', async () => {
    const page = composer.page;
    await openView(page, 'tab=playlists&id=pl-cg-fixed');
    await page.getByTestId('playlist-entry-2').waitFor({ timeout: 10_000 });
    const order = () => page.locator('[data-testid^="playlist-entry-"][data-content-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-content-id')));
    expect(await order()).toEqual(['c-text-welcome', 'c-text-hotline', 'c-map-chengguan']);
    // The published status needs no note; every item here is on screens.
    expect(await page.getByTestId('playlist-entry-status-0').count()).toBe(0);

    await page.getByTestId('playlist-entry-handle-0').dragTo(page.getByTestId('playlist-entry-2'));
    expect(await order()).toEqual(['c-text-hotline', 'c-map-chengguan', 'c-text-welcome']);
    await page.getByTestId('playlist-entry-1').focus();
    await page.keyboard.press('Alt+ArrowUp');
    expect(await order()).toEqual(['c-map-chengguan', 'c-text-hotline', 'c-text-welcome']);
    // The moved entry keeps the focus, with its weight.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-content-id'))).toBe('c-map-chengguan');
    expect(await page.locator('[data-testid=playlist-entry-weight-0] input').inputValue()).toBe('2');
    expect(await attr(page, 'playlist-editor', 'data-dirty')).toBe('true');

    // A reload (a closed tab, an expired session) brings the draft back, with a notice.
    await page.waitForFunction(() => Object.keys(localStorage).some((k) => k.endsWith('.playlist.pl-cg-fixed')), null, { timeout: 5_000 });
    await page.reload();
    await page.getByTestId('playlist-draft-restored').waitFor({ timeout: 20_000 });
    expect(await order()).toEqual(['c-map-chengguan', 'c-text-hotline', 'c-text-welcome']);
    if (shots) await page.screenshot({ path: path.join(shots, 'playlists.png') });

    await page.getByTestId('playlist-save').click();
    await expect
      .poll(() => (t.app.store.read().playlists.find((p) => p.id === 'pl-cg-fixed') as Playlist | undefined)?.entries, { timeout: 10_000 })
      .toEqual([{ contentId: 'c-map-chengguan', weight: 2 }, { contentId: 'c-text-hotline', durationS: 12 }, { contentId: 'c-text-welcome' }]);
    await page.waitForFunction(() => document.querySelector('[data-testid=playlist-editor]')?.getAttribute('data-dirty') === 'false', null, { timeout: 10_000 });
    expect(await page.getByTestId('playlist-draft-restored').count()).toBe(0);
    expect(await page.evaluate(() => Object.keys(localStorage).some((k) => k.endsWith('.playlist.pl-cg-fixed')))).toBe(false);
  });

  it('the timeline still matches the player 7 s later', async () => {
    await sampleAgainstPlayer(t0 + 7_000);
  });

  it('paints dayparts on the week grid, by pointer and by keyboard, and saves them as the server stores them', async () => {
    const page = composer.page;
    await openView(page, 'tab=schedules&id=new');
    await page.getByTestId('schedule-editor').waitFor({ timeout: 10_000 });
    await page.getByTestId('schedule-name').fill('城关上午');
    const cell = (day: number, c: number) => page.getByTestId(`week-cell-${day}-${c}`);
    const drag = async (from: [number, number], to: [number, number]) => {
      const a = await cell(...from).boundingBox();
      const b = await cell(...to).boundingBox();
      if (!a || !b) throw new Error('no cell');
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 4 });
      await page.mouse.up();
    };
    // Monday to Friday 08:00–12:00, Saturday 09:00–10:00; then erase Wednesday 08:00–09:00.
    await drag([1, 16], [5, 23]);
    await drag([6, 18], [6, 19]);
    await drag([3, 16], [3, 17]);
    expect(await attr(page, 'week-cell-3-16', 'data-on')).toBe('false');
    expect(await attr(page, 'week-cell-3-18', 'data-on')).toBe('true');
    // By keyboard: from the last cell touched (Wednesday 08:30), down to Sunday and Space.
    await page.getByTestId('week-grid').focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    expect(await attr(page, 'week-cell-7-17', 'data-on')).toBe('true');
    expect(await attr(page, 'schedule-daypart-count', 'data-count')).toBe('4');
    await page.locator('[data-testid=schedule-weight] input').fill('2');
    await page.locator('[data-testid=schedule-weight] input').blur();
    if (shots) await page.screenshot({ path: path.join(shots, 'schedules.png') });

    await page.getByTestId('schedule-save').click();
    const want: Daypart[] = [
      { days: [1, 2, 4, 5], start: '08:00', end: '12:00' },
      { days: [3], start: '09:00', end: '12:00' },
      { days: [6], start: '09:00', end: '10:00' },
      { days: [7], start: '08:30', end: '09:00' },
    ];
    await expect.poll(() => (t.app.store.read().schedules.find((s) => s.name === '城关上午') as Schedule | undefined)?.dayparts, { timeout: 10_000 }).toEqual(want);
    const saved = t.app.store.read().schedules.find((s) => s.name === '城关上午');
    expect(saved).toMatchObject({ zoneId: 'chengguan', priority: 0, weight: 2, validFrom: null, validTo: null });
    // The editor now shows the saved schedule.
    await page.waitForFunction((id) => document.querySelector('[data-testid=schedule-editor]')?.getAttribute('data-id') === id, saved?.id ?? '', { timeout: 10_000 });
  });

  it('the timeline still matches the player 25 s later, across an item change', async () => {
    await sampleAgainstPlayer(t0 + 25_000);
    expect(seen).toHaveLength(3);
    // 15–20 s turns: every region with more than one item has moved on to another turn since the first instant.
    expect(REGIONS.filter((r) => seen[0]?.[r]?.start !== seen[2]?.[r]?.start)).toContain('main');
    if (shots) {
      await composer.page.mouse.move(0, 0);
      await composer.page.screenshot({ path: path.join(shots, 'timeline.png') });
    }
  });
});
