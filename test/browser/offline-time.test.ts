import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS, localTime, regionShowing, screenOpen, type LocalTime, type Manifest } from '../../content/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { itemBase, publishContent, publishers, textItem } from '../helpers/fixtures.js';
import { launchChromium, playerState } from '../helpers/browser.js';

// Time goes on offline: the player is filled while the server is up, the server goes away, and
// the browser's clock is moved forward by days. What shows must still follow the rules.

const W = 640;
const H = 200;
const MAIN = { x: 0, y: 0, width: 300, height: H };
const MEDIA = { x: 300, y: 0, width: 170, height: H };
const NOTICES = { x: 470, y: 0, width: 170, height: H };
const TZ = 'Asia/Shanghai';
const WEEKDAYS = [1, 2, 3, 4, 5];
const IDLE_RGB = [0x05, 0x0b, 0x16] as const;

let t: TestApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let manifest: Manifest;

/** Epoch ms of local `hh:mm` on local day number `dayNumber` in TZ. */
function at(dayNumber: number, hhmm: string): number {
  const [hh = 0, mm = 0] = hhmm.split(':').map(Number);
  // Noon of that day lies on it whatever the offset; its midnight is the day's start.
  const noonGuess = dayNumber * DAY_MS + 4 * HOUR_MS;
  return localTime(noonGuess, TZ).midnight + hh * HOUR_MS + mm * MINUTE_MS;
}

/** An ISO instant with the city's offset, as an editor would enter it. */
const iso = (ms: number) => new Date(ms + 8 * HOUR_MS).toISOString().replace('Z', '+08:00');

/** The local day number `k` days after `from`'s, and its ISO weekday. */
function dayAfter(from: LocalTime, k: number): { dayNumber: number; weekday: number } {
  return { dayNumber: from.dayNumber + k, weekday: ((from.weekday - 1 + k) % 7) + 1 };
}

const today = localTime(Date.now(), TZ);
/**
 * The first Monday to Thursday at least two days ahead, so that the next day is a weekday too:
 * the dayparts, the notice's end and the image's start are checked on it and the night after.
 * Everything lies within the manifest's 7-day horizon.
 */
const day = [2, 3, 4, 5, 6].map((k) => dayAfter(today, k)).find((d) => d.weekday <= 4)?.dayNumber ?? NaN;
const firstSunday = [1, 2, 3, 4, 5, 6, 7].map((k) => dayAfter(today, k)).find((d) => d.weekday === 7)?.dayNumber ?? NaN;
const noticeEnd = at(day, '12:00');
/** The image becomes valid at midnight, while the player is offline. */
const imageFrom = at(day + 1, '00:00');

const api: TestApp['api'] = (method, url, payload) => t.api(method, url, payload);

const base = itemBase;
const text = (id: string, body: string) => textItem(id, body);

type Skewed = { __skewMs: number; zonecast: { state(): { clockOffsetMs: number } } };

/** Moves the browser's clock so that the player's corrected clock reads `target`. */
async function jumpTo(target: number): Promise<void> {
  await page.evaluate((to: number) => {
    const g = globalThis as unknown as Skewed;
    const real = Date.now() - g.__skewMs;
    g.__skewMs = to - real - g.zonecast.state().clockOffsetMs;
  }, target);
  // Two animation frames: the ticker has drawn at least once at the new time.
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

/** The screen rectangle of the page, as raw RGB pixels. */
async function pixels(r: { x: number; y: number; width: number; height: number }): Promise<Buffer> {
  return sharp(await page.screenshot({ clip: r })).removeAlpha().raw().toBuffer();
}

const near = (a: number | undefined, b: number) => Math.abs((a ?? -999) - b) <= 8;
function share(px: Buffer, pred: (r: number, g: number, b: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < px.length; i += 3) if (pred(px[i] ?? 0, px[i + 1] ?? 0, px[i + 2] ?? 0)) n++;
  return n / (px.length / 3);
}

beforeAll(async () => {
  t = await buildTestApp();
  await t.listen();
  const now = Date.now();

  await api('POST', '/api/zones', { id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  const who = await publishers(t, 'city');
  await api('POST', '/api/schedules', { id: 'sch-day', zoneId: 'city', name: '白天', validFrom: null, validTo: null, dayparts: [{ days: WEEKDAYS, start: '08:00', end: '18:00' }], priority: 1, weight: 1 });
  // Crosses midnight: Tuesday 22:00 to Wednesday 02:00 belongs to Tuesday's daypart.
  await api('POST', '/api/schedules', { id: 'sch-night', zoneId: 'city', name: '夜间', validFrom: null, validTo: null, dayparts: [{ days: WEEKDAYS, start: '22:00', end: '02:00' }], priority: 1, weight: 1 });
  await api('POST', '/api/schedules', { id: 'sch-top', zoneId: 'city', name: '置顶', validFrom: null, validTo: null, dayparts: [], priority: 5, weight: 1 });
  await publishContent(t, text('t-day', '白天时段 办事指南'), who);
  await publishContent(t, text('t-night', '夜间时段 便民热线'), who);
  await publishContent(t, text('t-base', '其余时段 欢迎'), who);
  await publishContent(t, text('t-filler', '图片上线前的文字'), who);
  const png = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#c62828' } }).png().toBuffer();
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'red.png');
  const upload = (await (await fetch(`${t.url}/api/media`, { method: 'POST', body: form, headers: { cookie: who.editor.cookie } })).json()) as { media: { hash: string } };
  await publishContent(t, { ...base, id: 'img', kind: 'image', zoneId: 'city', title: '新图片', mediaHash: upload.media.hash, fit: 'contain', caption: '', validFrom: iso(imageFrom) }, who);
  await publishContent(t, {
    ...base, id: 'n-pub', kind: 'notice', zoneId: 'city', title: '低保对象拟认定名单公示', body: '经个人申请、入户调查、民主评议,现予公示。',
    publicityStart: iso(now - HOUR_MS), publicityEnd: iso(noticeEnd), contact: '',
  }, who);
  await api('POST', '/api/playlists', {
    id: 'pl-main', name: '主', zoneId: 'city', mode: 'fixed', rule: null, defaultDurationS: 20, scheduleId: null,
    entries: [{ contentId: 't-day', scheduleId: 'sch-day' }, { contentId: 't-night', scheduleId: 'sch-night' }, { contentId: 't-base' }],
  });
  await api('POST', '/api/playlists', {
    id: 'pl-media', name: '图片', zoneId: 'city', mode: 'fixed', rule: null, defaultDurationS: 10, scheduleId: null,
    entries: [{ contentId: 'img', scheduleId: 'sch-top' }, { contentId: 't-filler' }],
  });
  await api('POST', '/api/playlists', {
    id: 'pl-notices', name: '公示', zoneId: 'city', mode: 'rule', entries: [], defaultDurationS: 10, scheduleId: null,
    rule: { kinds: ['notice'], scope: 'ancestors', limit: 10 },
  });
  await api('POST', '/api/layouts', {
    id: 'lay', zoneId: 'city', name: '离线', width: W, height: H, background: '#000000',
    regions: [
      { id: 'main', name: '主', ...MAIN, playlistId: 'pl-main' },
      { id: 'media', name: '图片', ...MEDIA, playlistId: 'pl-media' },
      { id: 'notices', name: '公示', ...NOTICES, playlistId: 'pl-notices' },
    ],
  });
  // Open on weekdays from 07:00 to 01:00 the next night (crossing midnight), closed at weekends.
  const res = await api('POST', '/api/screens', {
    id: 'scr-off', zoneId: 'city', name: '离线屏', width: W, height: H, pixelPitchMm: 2.5, viewingDistanceM: 3,
    openingHours: [{ days: WEEKDAYS, start: '07:00', end: '01:00' }], layoutId: 'lay',
  });
  manifest = (await api('GET', '/api/screens/scr-off/manifest')) as unknown as Manifest;

  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1000, height: 400 } });
  // The browser's clock, movable later: Date reads a skew that page.evaluate can change.
  // performance.now (and so pixi's ticker) is left alone, as on a PC whose clock is set.
  await context.addInitScript(() => {
    const RealDate = Date;
    const g = globalThis as unknown as { __skewMs: number };
    g.__skewMs = 0;
    class SkewedDate extends RealDate {
      constructor(...args: []) {
        if (args.length === 0) super(RealDate.now() + g.__skewMs);
        else super(...(args as unknown as [number]));
      }
      static override now(): number {
        return RealDate.now() + g.__skewMs;
      }
    }
    (globalThis as unknown as { Date: DateConstructor }).Date = SkewedDate as DateConstructor;
  });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
  await page.goto(`${t.url}/player/?token=${encodeURIComponent(res.deviceToken as string)}`);
});

afterAll(async () => {
  await browser?.close();
  // Also removes the data dir; closing the app a second time is harmless.
  await t?.close();
});

/** A moment of the offline days ahead, and what must hold then besides what the rules say. */
interface Checkpoint {
  readonly name: string;
  readonly at: number;
  readonly open: boolean;
  /** What the daypart region shows, by hand. */
  readonly main?: string;
  readonly extra?: () => Promise<void>;
}

const imageOnScreen = async () => {
  // Valid only since midnight, while offline: drawn from the prefetched, verified copy.
  await expect.poll(async () => (await playerState(page)).textures ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
  const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
  await expect
    .poll(async () => share(await pixels(MEDIA), (r, g, b) => r > 150 && g < 80 && b < 80), {
      timeout: 15_000,
      message: `the prefetched image is not drawn offline (page controlled by the service worker: ${controlled})`,
    })
    .toBeGreaterThan(0.2);
};

const noticeLeavesOnTime = async () => {
  expect((await playerState(page)).regions?.notices?.itemId).toBe('n-pub');
  type S = { zonecast: { state(): { now?: number; regions?: Record<string, { itemId: string | null }> } } };
  // The first frame without the notice comes once the player's clock has reached the end, not before.
  const handle = await page.waitForFunction(() => {
    const s = (globalThis as unknown as S).zonecast.state();
    return s.regions?.notices?.itemId === null ? (s.now ?? null) : null;
  }, null, { timeout: 20_000, polling: 'raf' });
  expect((await handle.jsonValue()) as number).toBeGreaterThanOrEqual(noticeEnd);
  const s = await playerState(page);
  expect(s.online).toBe(false);
  expect(s.regions?.main?.itemId).toBe('t-day');
  expect(s.regions?.media?.itemId).toBe('t-filler');
};

const idleScreen = async () => {
  // Dark, with the screen's name and the time; the regions (and the red image) are hidden.
  const px = await pixels({ x: 0, y: 0, width: W, height: H });
  expect(share(px, (r, g, b) => near(r, IDLE_RGB[0]) && near(g, IDLE_RGB[1]) && near(b, IDLE_RGB[2]))).toBeGreaterThan(0.8);
  expect(share(px, (r, g, b) => r > 150 && g < 80 && b < 80)).toBe(0);
};

// In time order, since time only goes on; where Sunday falls depends on today's weekday.
const timeline: Checkpoint[] = [
  { name: 'switches to the day daypart on a weekday morning', at: at(day, '10:00'), open: true, main: 't-day' },
  { name: 'hides a notice once its publicity period ends, offline', at: noticeEnd - 8000, open: true, main: 't-day', extra: noticeLeavesOnTime },
  { name: 'falls back to the undayparted item in the evening', at: at(day, '19:00'), open: true, main: 't-base' },
  { name: 'switches to the night daypart at 23:30', at: at(day, '23:30'), open: true, main: 't-night' },
  { name: 'shows an image whose validity started at midnight, from its prefetched copy', at: at(day + 1, '00:15'), open: true, main: 't-night', extra: imageOnScreen },
  { name: 'goes idle at 01:30, when opening hours that crossed midnight have ended', at: at(day + 1, '01:30'), open: false, extra: idleScreen },
  { name: 'shows the idle screen on a Sunday, outside the opening hours', at: at(firstSunday, '11:00'), open: false, extra: idleScreen },
].sort((a, b) => a.at - b.at);

describe('time goes on offline', () => {
  it('carries at least 7 days ahead in the manifest', () => {
    expect(manifest.timeZone).toBe(TZ);
    expect(manifest.horizonUntil - manifest.generatedAt).toBeGreaterThanOrEqual(7 * DAY_MS);
    expect(Math.max(...timeline.map((c) => c.at))).toBeLessThan(manifest.horizonUntil);
  });

  it('has the manifest applied and every asset verified in the Cache API, then loses the server', async () => {
    await page.waitForFunction(
      (v: string) => (globalThis as unknown as { zonecast?: { state(): { manifestVersion: string | null } } }).zonecast?.state().manifestVersion === v,
      manifest.version,
      { timeout: 60_000 },
    );
    expect(manifest.assets.length).toBeGreaterThanOrEqual(1);
    const urls = manifest.assets.map((a) => a.url);
    await expect
      .poll(
        () =>
          page.evaluate(async (us: string[]) => {
            const cache = await caches.open('zonecast-media-v1');
            return (await Promise.all(us.map((u) => cache.match(u)))).every(Boolean);
          }, urls),
        { timeout: 30_000 },
      )
      .toBe(true);
    // The app shell is installed too, so that the player could also start again without the server.
    const installed = await page.evaluate(() => Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]));
    expect(installed, 'the service worker did not become active').toBe(true);
    const s = await playerState(page);
    expect(s.online).toBe(true);
    // Whether the screen is open now depends on the weekday the test runs on.
    expect(s.open).toBe(screenOpen(manifest, s.now ?? NaN));

    // Only the app: t.close() would also delete the data dir.
    await t.app.close();
    await page.waitForFunction(() => (globalThis as unknown as { zonecast: { state(): { online: boolean } } }).zonecast.state().online === false, null, { timeout: 30_000 });
    expect(await fetch(`${t.url}/player/`).then((r) => r.ok, () => false)).toBe(false);
  });

  for (const cp of timeline) {
    it(cp.name, async () => {
      await jumpTo(cp.at);
      const s = await playerState(page);
      const now = s.now ?? NaN;
      const when = `at ${iso(now)}`;
      expect(s.online, when).toBe(false);
      expect(Math.abs(now - cp.at), when).toBeLessThan(60_000);
      expect(s.open, when).toBe(cp.open);
      expect(screenOpen(manifest, now), when).toBe(cp.open);
      if (cp.open) {
        for (const region of manifest.layout?.regions ?? []) {
          expect(s.regions?.[region.id]?.itemId ?? null, `${region.id} ${when}`).toBe(regionShowing(region, now, TZ)?.itemId ?? null);
        }
        if (cp.main) expect(s.regions?.main?.itemId, when).toBe(cp.main);
        expect(s.regions?.notices?.itemId ?? null, when).toBe(now < noticeEnd ? 'n-pub' : null);
        expect(s.regions?.media?.itemId, when).toBe(now >= imageFrom ? 'img' : 't-filler');
      }
      await cp.extra?.();
    });
  }
});
