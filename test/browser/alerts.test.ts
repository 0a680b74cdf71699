import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_COLOURS, ALERT_POLICY, DAY_MS, HOUR_MS, localTime, type AlertInput, type AlertSeverity, type Delivery } from '../../content/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { CHROMIUM_ARGS, launchChromium, openPlayer, playerState } from '../helpers/browser.js';
import type { AlertState, ZoneCastHandle } from '../../player/src/state.js';

// Urgent alerts end to end: the real server with the demo city, players in Chromium. The demo
// screens keep office hours and these tests run whatever the hour, so an alert must show
// whether the screen is open or idle; one player is also put at 03:00 on purpose.

let t: TestApp;
let browser: Browser;
let dir = '';

const SIZES: Record<string, { width: number; height: number }> = {
  'scr-beiji': { width: 1152, height: 384 },
  'scr-potou': { width: 768, height: 256 },
  'scr-dingjia': { width: 1280, height: 720 },
  'scr-chengguan': { width: 1920, height: 1080 },
};

const tokenOf = (screenId: string) => {
  const token = t.demo.find((s) => s.id === screenId)?.token;
  if (!token) throw new Error(`no demo screen ${screenId}`);
  return token;
};

/** Starts an alert through the API as the system-wide admin; returns its id. */
async function startAlert(input: Omit<AlertInput, 'mediaHash'> & { mediaHash?: string | null }): Promise<string> {
  const created = await t.api('POST', '/api/alerts', { mediaHash: null, ...input });
  return created.id as string;
}

/** Uploads an image as the admin; returns its hash. */
async function upload(png: Buffer, name: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), name);
  const res = await fetch(`${t.url}/api/media`, { method: 'POST', body: form, headers: { cookie: t.admin.cookie } });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return ((await res.json()) as { media: { hash: string } }).media.hash;
}

/** The all clear, through the API. */
async function clearAlert(id: string): Promise<void> {
  await t.api('POST', `/api/alerts/${id}/clear`, {});
}

/** The alert's delivery board. */
async function deliveries(alertId: string): Promise<Delivery[]> {
  return ((await t.api('GET', `/api/alerts/${alertId}/deliveries`)) as unknown as { deliveries: Delivery[] }).deliveries;
}

const alertsOf = async (page: Page): Promise<readonly AlertState[]> => (await playerState(page)).alerts;

/** Waits until a player has drawn a frame with the alert and returns its entry. */
async function waitShowing(page: Page, alertId: string, timeout = 30_000): Promise<AlertState> {
  const handle = await page.waitForFunction(
    (id) => (globalThis as unknown as { zonecast?: ZoneCastHandle }).zonecast?.state().alerts.find((a) => a.alertId === id && a.showing) ?? null,
    alertId,
    { timeout, polling: 50 },
  );
  return (await handle.jsonValue()) as AlertState;
}

/** The screen's pixel rectangle as raw RGB (one CSS px is one device px in these contexts). */
async function screenPixels(page: Page, screenId: string): Promise<{ px: Buffer; width: number; height: number }> {
  const size = SIZES[screenId];
  if (!size) throw new Error(screenId);
  const png = await page.screenshot({ clip: { x: 0, y: 0, ...size } });
  return { px: await sharp(png).removeAlpha().raw().toBuffer(), ...size };
}

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/** The share of pixels in rows [from, to) within 30 of the severity's background colour on each channel. */
function colourShare(shot: { px: Buffer; width: number }, severity: AlertSeverity, from: number, to: number): number {
  const [r, g, b] = rgb(ALERT_COLOURS[severity].background);
  let n = 0;
  for (let i = from * shot.width * 3; i < to * shot.width * 3; i += 3) {
    if (Math.abs((shot.px[i] ?? 0) - r) <= 30 && Math.abs((shot.px[i + 1] ?? 0) - g) <= 30 && Math.abs((shot.px[i + 2] ?? 0) - b) <= 30) n++;
  }
  return n / Math.max(1, (to - from) * shot.width);
}

/** The alerts a player keeps in IndexedDB for a start without the server: [alertId, revision, displayed] each, or null when none are kept. */
function storedAlerts(page: Page): Promise<[string, number, boolean][] | null> {
  return page.evaluate(
    () =>
      new Promise<[string, number, boolean][] | null>((resolve, reject) => {
        const open = indexedDB.open('zonecast-player');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get('alerts');
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            open.result.close();
            const kept = get.result as { alert: { alertId: string; revision: number }; displayedAt: number | null }[] | undefined;
            resolve(kept ? kept.map((h) => [h.alert.alertId, h.alert.revision, h.displayedAt !== null]) : null);
          };
        };
      }),
  );
}

/** Opens a player for a demo screen in a window of exactly the screen's size. */
function openScreen(screenId: string, query?: string): Promise<{ context: BrowserContext; page: Page }> {
  const size = SIZES[screenId] ?? { width: 1400, height: 900 };
  return openPlayer(browser, t.url, tokenOf(screenId), { context: { viewport: size }, query });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'zonecast-alerts-'));
  t = await buildTestApp({ demo: true });
  await t.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('urgent alerts on the players', () => {
  it("takes over 北极镇's screens at once, open or idle, and not 城关街道's; each acknowledges its first frame", async () => {
    const beiji = await openScreen('scr-beiji');
    const chengguan = await openPlayer(browser, t.url, tokenOf('scr-chengguan'));
    const later: { context: BrowserContext; page: Page }[] = [];
    try {
      const open = (await playerState(beiji.page)).open;
      const id = await startAlert({ severity: 'extreme', title: '山洪预警', text: '受强降雨影响,北极镇沿河区域可能发生山洪。请立即远离河道,转移至高处。', targetZoneIds: ['beiji'], ttlMinutes: 30 });
      const shown = await waitShowing(beiji.page, id);
      expect(shown).toMatchObject({ revision: 1, severity: 'extreme', presentation: 'takeover', showing: true });
      expect(shown.displayedAt).not.toBeNull();
      // Whatever the hour: the renderer's idle screen outside opening hours is covered too.
      console.info(`[alerts] scr-beiji was ${open ? 'open' : 'outside opening hours'} when the alert came`);
      const shot = await screenPixels(beiji.page, 'scr-beiji');
      expect(colourShare(shot, 'extreme', 0, shot.height)).toBeGreaterThan(0.5);

      // A screen of a village under 北极镇 that connects later gets it at once, here at 03:00
      // by its clock (two clock seconds a second), when the screen is closed for sure.
      const today = localTime(Date.now(), 'Asia/Shanghai');
      let night = today.midnight + 3 * HOUR_MS;
      if (night > Date.now()) night -= DAY_MS;
      const potou = await openScreen('scr-potou', `clockRate=2&clockStart=${night}`);
      later.push(potou);
      await waitShowing(potou.page, id);
      expect((await playerState(potou.page)).open).toBe(false);
      const p = await screenPixels(potou.page, 'scr-potou');
      expect(colourShare(p, 'extreme', 0, p.height)).toBeGreaterThan(0.5);

      // 城关街道 is another town: nothing there, neither in its state nor on its canvas.
      await beiji.page.waitForTimeout(1500);
      expect(await playerState(chengguan.page)).toMatchObject({ online: true, alerts: [] });
      const other = await chengguan.page.screenshot({ clip: { x: 0, y: 0, width: 1400, height: 900 } });
      const otherPx = { px: await sharp(other).removeAlpha().raw().toBuffer(), width: 1400 };
      expect(colourShare(otherPx, 'extreme', 0, 900)).toBeLessThan(0.05);

      // The board: 'displayed', with each player's own time of its first frame.
      await expect
        .poll(async () => (await deliveries(id)).find((d) => d.screenId === 'scr-beiji'), { timeout: 15_000 })
        .toMatchObject({ state: 'displayed', frameAt: new Date(shown.displayedAt ?? 0).toISOString() });
      // Drawn at once, so acknowledged once: 'displayed', which says it arrived as well.
      const beijiDelivery = (await deliveries(id)).find((d) => d.screenId === 'scr-beiji');
      expect(beijiDelivery?.deliveredAt).toBe(beijiDelivery?.displayedAt);
      const late = (await alertsOf(potou.page)).find((a) => a.alertId === id);
      await expect
        .poll(async () => (await deliveries(id)).find((d) => d.screenId === 'scr-potou'), { timeout: 15_000 })
        .toMatchObject({ state: 'displayed', frameAt: new Date(late?.displayedAt ?? 0).toISOString() });
      expect((await deliveries(id)).some((d) => d.screenId === 'scr-chengguan')).toBe(false);
      await clearAlert(id);
      await beiji.page.waitForFunction(() => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().alerts.length === 0, null, { timeout: 15_000 });
    } finally {
      for (const p of [beiji, chengguan, ...later]) await p.context.close();
    }
    // Three players at once, one of them 1920×1080, on SwiftShader: slow on a busy machine.
  }, 300_000);

  it('shows a moderate alert as a band over the content, and the all clear removes it', async () => {
    const { context, page } = await openScreen('scr-beiji');
    try {
      const id = await startAlert({ severity: 'moderate', title: '大风蓝色预警', text: '今天下午到夜间有6级以上大风,请关好门窗,远离广告牌和临时搭建物。', targetZoneIds: ['beiji'], ttlMinutes: 30 });
      expect(await waitShowing(page, id)).toMatchObject({ presentation: 'banner', showing: true });
      const { height } = SIZES['scr-beiji'] ?? { height: 0 };
      const band = Math.floor(height / 5);
      const shot = await screenPixels(page, 'scr-beiji');
      // The bottom fifth is the band; what is above it is the content (or the idle screen).
      expect(colourShare(shot, 'moderate', height - band, height)).toBeGreaterThan(0.5);
      expect(colourShare(shot, 'moderate', 0, height - band - 4)).toBeLessThan(0.02);

      // An amendment is a new revision: it replaces what shows, and is acknowledged afresh.
      await t.api('POST', `/api/alerts/${id}/amend`, { severity: 'moderate', title: '大风黄色预警', text: '风力加大到8级,请暂停户外作业。', mediaHash: null, targetZoneIds: ['beiji'], ttlMinutes: 30 });
      const amended = await page.waitForFunction(
        (alertId) => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().alerts.find((a) => a.alertId === alertId && a.revision === 2 && a.showing) ?? null,
        id,
        { timeout: 30_000 },
      );
      expect(await amended.jsonValue()).toMatchObject({ presentation: 'banner' });
      expect((await alertsOf(page)).length).toBe(1);
      await expect.poll(async () => (await deliveries(id)).find((d) => d.screenId === 'scr-beiji')?.state, { timeout: 15_000 }).toBe('displayed');

      await clearAlert(id);
      await page.waitForFunction(() => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().alerts.length === 0, null, { timeout: 15_000 });
      await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
      const after = await screenPixels(page, 'scr-beiji');
      expect(colourShare(after, 'moderate', height - band, height)).toBeLessThan(0.2);
    } finally {
      await context.close();
    }
  });

  it("acknowledges 'received' only when its first frame is late, then 'displayed' once drawn", async () => {
    const { context, page } = await openScreen('scr-dingjia');
    try {
      // A display that stalls: frames are held back (pixi asks for each with requestAnimationFrame).
      await page.evaluate(() => {
        const w = window as unknown as { requestAnimationFrame: typeof requestAnimationFrame; releaseFrames?: () => void };
        const raf = w.requestAnimationFrame.bind(window);
        const held: FrameRequestCallback[] = [];
        w.requestAnimationFrame = (cb) => {
          held.push(cb);
          return 0;
        };
        w.releaseFrames = () => {
          w.requestAnimationFrame = raf;
          for (const cb of held.splice(0)) raf(cb);
        };
      });
      const id = await startAlert({ severity: 'severe', title: '森林火险预警', text: '丁家村周边林区火险等级高,严禁野外用火。', targetZoneIds: ['dingjia'], ttlMinutes: 30 });
      // Not drawn: after ALERT_POLICY.receivedAckAfterMs the board learns that it arrived.
      await expect.poll(async () => (await deliveries(id)).find((d) => d.screenId === 'scr-dingjia'), { timeout: 15_000 }).toMatchObject({ state: 'delivered', displayedAt: null });
      const delivered = (await deliveries(id)).find((d) => d.screenId === 'scr-dingjia');
      const { createdAt } = (await t.api('GET', `/api/alerts/${id}`)) as { createdAt: string };
      // Not at once: the player waited for a frame that did not come.
      expect(Date.parse(delivered?.deliveredAt ?? '') - Date.parse(createdAt)).toBeGreaterThanOrEqual(ALERT_POLICY.receivedAckAfterMs);
      expect((await alertsOf(page)).find((a) => a.alertId === id)?.displayedAt ?? null).toBeNull();

      await page.evaluate(() => (window as unknown as { releaseFrames: () => void }).releaseFrames());
      const shown = await waitShowing(page, id);
      await expect
        .poll(async () => (await deliveries(id)).find((d) => d.screenId === 'scr-dingjia'), { timeout: 15_000 })
        .toMatchObject({ state: 'displayed', deliveredAt: delivered?.deliveredAt, frameAt: new Date(shown.displayedAt ?? 0).toISOString() });
      await clearAlert(id);
    } finally {
      await context.close();
    }
  });

  it('forgets its alerts when its screen is revoked, also after a restart', async () => {
    const { context, page } = await openScreen('scr-dingjia');
    try {
      const id = await startAlert({ severity: 'severe', title: '地质灾害预警', text: '丁家村后山有滑坡危险,请村民暂勿上山。', targetZoneIds: ['dingjia'], ttlMinutes: 30 });
      await waitShowing(page, id);
      await expect.poll(() => storedAlerts(page)).toEqual([[id, 1, true]]);
      await t.api('POST', '/api/screens/scr-dingjia/revoke');
      await page.waitForFunction(() => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state().mode === 'pairing', null, { timeout: 30_000 });
      expect(await alertsOf(page)).toEqual([]);
      await expect.poll(() => storedAlerts(page)).toBeNull();
      await page.reload();
      await page.waitForFunction(() => (globalThis as unknown as { zonecast?: ZoneCastHandle }).zonecast?.state().mode === 'pairing', null, { timeout: 30_000 });
      expect(await alertsOf(page)).toEqual([]);
      await clearAlert(id);
    } finally {
      await context.close();
    }
  });

  it('keeps an alert through a restart without the server, and drops it at its expiry by the clock', async () => {
    const SCREEN = 'scr-potou';
    const size = SIZES[SCREEN] ?? { width: 0, height: 0 };
    const profile = path.join(dir, 'profile');
    // The player's own profile, as a kiosk PC keeps it across power cuts.
    const launch = () => chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: size });
    const firstPage = async (context: BrowserContext) => {
      const page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
      return page;
    };
    const stateOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { zonecast?: ZoneCastHandle }).zonecast?.state() ?? null);

    // A green picture, far from the severity's orange, so that its pixels can be counted.
    const GREEN = '#00c853';
    const picture = await upload(await sharp({ create: { width: 640, height: 480, channels: 3, background: GREEN } }).png().toBuffer(), 'green.png');
    const greenShare = (shot: { px: Buffer; width: number; height: number }) => {
      const [r, g, b] = rgb(GREEN);
      let n = 0;
      for (let i = 0; i < shot.px.length; i += 3) if (Math.abs((shot.px[i] ?? 0) - r) <= 30 && Math.abs((shot.px[i + 1] ?? 0) - g) <= 30 && Math.abs((shot.px[i + 2] ?? 0) - b) <= 30) n++;
      return n / (shot.width * shot.height);
    };
    let context = await launch();
    let alertId = '';
    try {
      const page = await firstPage(context);
      await page.goto(`${t.url}/player/?token=${encodeURIComponent(tokenOf(SCREEN))}`);
      await page.waitForFunction(() => (globalThis as unknown as { zonecast?: ZoneCastHandle }).zonecast?.state().manifestVersion, null, { timeout: 60_000 });
      // The service worker holds the app shell and the fonts for the start without the server.
      await expect
        .poll(() => page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.state ?? null), { timeout: 90_000, interval: 500 })
        .toBe('activated');
      alertId = await startAlert({ severity: 'severe', title: '森林火险红色预警', text: '当前森林火险等级极高,严禁一切野外用火。', targetZoneIds: ['beiji'], ttlMinutes: 1, mediaHash: picture });
      await waitShowing(page, alertId);
      // The picture is in the verified media cache, and on screen.
      expect(await page.evaluate(async () => (await (await caches.open('zonecast-media-v1')).keys()).map((r) => new URL(r.url).pathname))).toEqual(
        expect.arrayContaining([expect.stringContaining(`/media/${picture}/`)]),
      );
      await expect.poll(async () => greenShare(await screenPixels(page, SCREEN)), { timeout: 10_000 }).toBeGreaterThan(0.05);
      // Kept in IndexedDB with its first frame's time.
      await expect.poll(() => storedAlerts(page)).toEqual([[alertId, 1, true]]);
    } finally {
      await context.close();
    }

    await t.app.close();
    context = await launch();
    try {
      const page = await firstPage(context);
      await page.goto(`${t.url}/player/`);
      const back = await waitShowing(page, alertId, 60_000);
      expect(back.presentation).toBe('takeover');
      const s = await stateOf(page);
      expect(s?.online).toBe(false);
      const shot = await screenPixels(page, SCREEN);
      expect(colourShare(shot, 'severe', 0, size.height)).toBeGreaterThan(0.5);
      // With its picture, from the media cache: the first manifest swap did not prune it.
      await expect.poll(async () => greenShare(await screenPixels(page, SCREEN)), { timeout: 10_000 }).toBeGreaterThan(0.05);

      // Again without the server, on a clock running four times as fast: the alert is there
      // until its expiry by that clock and gone from then on.
      await page.goto(`${t.url}/player/?clockRate=4`);
      await waitShowing(page, alertId, 60_000);
      const samples: { now: number; held: boolean }[] = [];
      let expiresAt = Infinity;
      for (let i = 0; i < 300; i++) {
        const st = await stateOf(page);
        const mine = st?.alerts.find((a) => a.alertId === alertId);
        if (mine) expiresAt = mine.expiresAt;
        samples.push({ now: st?.now ?? 0, held: Boolean(mine) });
        if (!mine) break;
        await page.waitForTimeout(200);
      }
      expect(samples.at(-1)?.held).toBe(false);
      expect(Number.isFinite(expiresAt)).toBe(true);
      // Every sample is on the right side of the expiry (`now` is read a moment before the
      // alerts, a few clock ms at most).
      for (const sm of samples) {
        if (sm.held) expect(sm.now, 'held after its expiry').toBeLessThan(expiresAt);
        else expect(sm.now, 'dropped before its expiry').toBeGreaterThanOrEqual(expiresAt - 50);
      }
      expect(samples.filter((sm) => sm.held).length).toBeGreaterThan(2);
      // The state drops it at once (expiry is applied when read); the pixels follow at the next
      // frames the ticker draws, which a loaded machine may space out.
      await expect.poll(async () => colourShare(await screenPixels(page, SCREEN), 'severe', 0, size.height), { timeout: 15_000 }).toBeLessThan(0.2);
    } finally {
      await context.close();
    }
  });
});
