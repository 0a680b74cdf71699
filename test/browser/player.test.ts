import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionShowing, type Manifest } from '../../content/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { itemBase, publishContent, publishers, textItem, type Publishers } from '../helpers/fixtures.js';
import { launchChromium, openPlayer, playerState } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
let who: Publishers;
const tokens: Record<string, string> = {};
const W = 640;
const H = 200;
const NOTICE_REGION = { x: 400, y: 0, width: 240, height: 200 };

const api: TestApp['api'] = (method, url, payload) => t.api(method, url, payload);

const base = itemBase;
const text = (id: string, body: string) => textItem(id, body);

beforeAll(async () => {
  t = await buildTestApp();
  await api('POST', '/api/zones', { id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  await api('POST', '/api/zones', { id: 'town-a', tier: 'town', parentId: 'city', divisionCode: '610482101000', shortName: '北极镇' });
  await api('POST', '/api/zones', { id: 'town-b', tier: 'town', parentId: 'city', divisionCode: '610482102000', shortName: '新民镇' });
  who = await publishers(t, 'city');
  // Durations 7 s, 4 s, 3 s: a 14 s cycle, so a 10-minute skew or a wrong midnight shows the wrong item.
  await publishContent(t, text('t-a', '政务公开 便民利民'), who);
  await publishContent(t, text('t-b', '欢迎来到政务公开专区'), who);
  await publishContent(t, text('t-c', '12345 政务服务便民热线'), who);
  await api('POST', '/api/playlists', {
    id: 'pl-info', name: '信息', zoneId: 'city', mode: 'fixed', rule: null, defaultDurationS: 5, scheduleId: null,
    entries: [{ contentId: 't-a', durationS: 7 }, { contentId: 't-b', durationS: 4 }, { contentId: 't-c', durationS: 3 }],
  });
  await api('POST', '/api/playlists', {
    id: 'pl-notices', name: '公示', zoneId: 'city', mode: 'rule', entries: [], defaultDurationS: 10, scheduleId: null,
    rule: { kinds: ['notice'], scope: 'ancestors', limit: 10 },
  });
  await api('POST', '/api/layouts', {
    id: 'lay', zoneId: 'city', name: '测试', width: W, height: H, background: '#000000',
    regions: [
      { id: 'info', name: '信息', x: 0, y: 0, width: 400, height: H, playlistId: 'pl-info' },
      { id: 'notices', name: '公示', ...NOTICE_REGION, playlistId: 'pl-notices' },
    ],
  });
  for (const [id, zoneId] of [['scr-a', 'town-a'], ['scr-b', 'town-b']] as const) {
    const res = await api('POST', '/api/screens', { id, zoneId, name: id, width: W, height: H, pixelPitchMm: 2.5, viewingDistanceM: 3, openingHours: [], layoutId: 'lay' });
    tokens[id] = res.deviceToken as string;
  }
  await t.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** The screen rectangle of a page, as raw RGB pixels. */
async function regionPixels(page: Page, r: { x: number; y: number; width: number; height: number }): Promise<Buffer> {
  const png = await page.screenshot({ clip: r });
  return sharp(png).removeAlpha().raw().toBuffer();
}

function differingPixels(a: Buffer, b: Buffer): number {
  let n = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}

const manifestOf = async (id: string) => (await api('GET', `/api/screens/${id}/manifest`)) as unknown as Manifest;

describe('the player in Chromium', () => {
  it('renders with WebGL (SwiftShader), keeps the token in IndexedDB and drops it from the address bar', async () => {
    const { context, page } = await openPlayer(browser, t.url, tokens['scr-a'] ?? '');
    try {
      const s = await playerState(page);
      expect(s.renderer).toBe('webgl');
      expect(s.screenId).toBe('scr-a');
      expect(s.online).toBe(true);
      expect(new URL(page.url()).searchParams.has('token')).toBe(false);
      await page.goto(`${t.url}/player/`);
      await page.waitForFunction(() => (globalThis as unknown as { zonecast?: { state(): { online: boolean; screenId: string | null } } }).zonecast?.state().online === true);
      expect((await playerState(page)).screenId).toBe('scr-a');
    } finally {
      await context.close();
    }
  });

  it('shows a notice created through the API without a reload, and only on the screens it targets', async () => {
    const a = await openPlayer(browser, t.url, tokens['scr-a'] ?? '');
    const b = await openPlayer(browser, t.url, tokens['scr-b'] ?? '');
    try {
      await a.page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
      expect((await playerState(a.page)).regions?.notices?.itemId).toBeNull();
      const before = await regionPixels(a.page, NOTICE_REGION);
      const versionB = (await playerState(b.page)).manifestVersion;

      await publishContent(t, {
        ...base, id: 'n-town-a', kind: 'notice', zoneId: 'town-a', title: '北极镇低保对象拟认定名单公示', body: '经个人申请、入户调查、民主评议,现予公示。',
        publicityStart: new Date(Date.now() - 3_600_000).toISOString(), publicityEnd: new Date(Date.now() + 3 * 86_400_000).toISOString(), contact: '',
      }, who);
      await a.page.waitForFunction(
        () => (globalThis as unknown as { zonecast: { state(): { regions?: Record<string, { itemId: string | null }> } } }).zonecast.state().regions?.notices?.itemId === 'n-town-a',
        null,
        { timeout: 60_000 },
      );
      await a.page.waitForTimeout(800); // past the crossfade
      const after = await regionPixels(a.page, NOTICE_REGION);
      expect(differingPixels(before, after)).toBeGreaterThan(NOTICE_REGION.width * NOTICE_REGION.height * 0.02);
      expect(await a.page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

      const sb = await playerState(b.page);
      expect(sb.manifestVersion).toBe(versionB);
      expect(sb.regions?.notices?.itemId).toBeNull();
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it('shows the same item on two players of the same manifest at the same instant', async () => {
    const p1 = await openPlayer(browser, t.url, tokens['scr-b'] ?? '');
    const p2 = await openPlayer(browser, t.url, tokens['scr-b'] ?? '');
    try {
      let compared = 0;
      for (let i = 0; i < 6; i++) {
        const [s1, s2] = await Promise.all([playerState(p1.page), playerState(p2.page)]);
        const r1 = s1.regions?.info;
        const r2 = s2.regions?.info;
        // Both samples fall in one slot when their clocks are within the same slot.
        if (r1?.slotStart === r2?.slotStart) {
          expect(r1?.itemId).toBe(r2?.itemId);
          compared++;
        }
        await p1.page.waitForTimeout(1700);
      }
      expect(compared).toBeGreaterThanOrEqual(4);
    } finally {
      await p1.context.close();
      await p2.context.close();
    }
  });

  it('shows the right item with a browser in another time zone and a clock 10 minutes fast', async () => {
    const skewMs = 10 * 60_000;
    const context = await browser.newContext({ timezoneId: 'America/Los_Angeles', viewport: { width: 1000, height: 400 } });
    await context.addInitScript((skew: number) => {
      const RealDate = Date;
      class SkewedDate extends RealDate {
        constructor(...args: []) {
          if (args.length === 0) super(RealDate.now() + skew);
          else super(...(args as unknown as [number]));
        }
        static override now(): number {
          return RealDate.now() + skew;
        }
      }
      (globalThis as unknown as { Date: DateConstructor }).Date = SkewedDate as DateConstructor;
    }, skewMs);
    const page = await context.newPage();
    try {
      await page.goto(`${t.url}/player/?token=${encodeURIComponent(tokens['scr-b'] ?? '')}`);
      await page.waitForFunction(() => Boolean((globalThis as unknown as { zonecast?: { state(): { manifestVersion: string | null } } }).zonecast?.state().manifestVersion), null, { timeout: 60_000 });
      expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe('America/Los_Angeles');
      const manifest = await manifestOf('scr-b');
      const region = manifest.layout?.regions.find((r) => r.id === 'info');
      if (!region) throw new Error('no info region');
      for (let i = 0; i < 4; i++) {
        const s = await playerState(page);
        expect(Math.abs(s.clockOffsetMs + skewMs)).toBeLessThan(2000);
        expect(Math.abs((s.now ?? 0) - Date.now())).toBeLessThan(2000);
        const expected = regionShowing(region, s.now ?? 0, manifest.timeZone);
        expect(s.regions?.info?.itemId).toBe(expected?.itemId);
        expect(s.regions?.info?.slotStart).toBe(expected?.slotStart);
        await page.waitForTimeout(2300);
      }
    } finally {
      await context.close();
    }
  });

  it('recovers from a lost WebGL context and keeps drawing', async () => {
    const { context, page } = await openPlayer(browser, t.url, tokens['scr-b'] ?? '');
    try {
      await page.waitForTimeout(1000);
      const lit = (px: Buffer) => {
        let n = 0;
        for (let i = 0; i < px.length; i += 3) if ((px[i] ?? 0) + (px[i + 1] ?? 0) + (px[i + 2] ?? 0) > 150) n++;
        return n;
      };
      const info = { x: 0, y: 0, width: 400, height: H };
      expect(lit(await regionPixels(page, info))).toBeGreaterThan(200);
      const lost = await page.evaluate(async () => {
        const canvas = document.getElementById('stage') as HTMLCanvasElement;
        const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
        const ext = gl?.getExtension('WEBGL_lose_context');
        if (!gl || !ext) return false;
        ext.loseContext();
        await new Promise((r) => setTimeout(r, 500));
        const wasLost = gl.isContextLost();
        ext.restoreContext();
        return wasLost;
      });
      expect(lost).toBe(true);
      // Wait into a new slot, so that new textures are made on the restored context too.
      await page.waitForTimeout(8000);
      const s = await playerState(page);
      expect(s.renderer).toBe('webgl');
      expect(s.fps).toBeGreaterThan(0);
      expect(await page.evaluate(() => (document.getElementById('stage') as HTMLCanvasElement).getContext('webgl2')?.isContextLost() ?? false)).toBe(false);
      expect(lit(await regionPixels(page, info))).toBeGreaterThan(200);
    } finally {
      await context.close();
    }
  });

  it('unloads an image texture once its item leaves the screen', async () => {
    const png = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#c62828' } }).png().toBuffer();
    const form = new FormData();
    form.append('file', new Blob([png], { type: 'image/png' }), 'red.png');
    const upload = (await (await fetch(`${t.url}/api/media`, { method: 'POST', body: form, headers: { cookie: who.editor.cookie } })).json()) as { media: { hash: string } };
    await publishContent(t, { ...base, id: 'img', kind: 'image', zoneId: 'city', title: '图片', mediaHash: upload.media.hash, fit: 'contain', caption: '' }, who);
    await api('POST', '/api/playlists', {
      id: 'pl-img', name: '图片', zoneId: 'city', mode: 'fixed', rule: null, defaultDurationS: 3, scheduleId: null,
      // The text stays 8 s, longer than the image prefetch lead, so a moment exists with no texture held.
      entries: [{ contentId: 'img' }, { contentId: 't-a', durationS: 8 }],
    });
    await api('POST', '/api/layouts', { id: 'lay-img', zoneId: 'city', name: '图片', width: 320, height: 160, background: '#000000', regions: [{ id: 'main', name: '主', x: 0, y: 0, width: 320, height: 160, playlistId: 'pl-img' }] });
    const res = await api('POST', '/api/screens', { id: 'scr-img', zoneId: 'city', name: '图片屏', width: 320, height: 160, pixelPitchMm: 2.5, viewingDistanceM: 3, openingHours: [], layoutId: 'lay-img' });
    const { context, page } = await openPlayer(browser, t.url, res.deviceToken as string);
    type S = { zonecast: { state(): { textures?: number; regions?: Record<string, { itemId: string | null }> } } };
    try {
      await page.waitForFunction(() => {
        const s = (globalThis as unknown as S).zonecast.state();
        return s.regions?.main?.itemId === 'img' && (s.textures ?? 0) >= 1;
      }, null, { timeout: 30_000 });
      await page.waitForFunction(() => (globalThis as unknown as S).zonecast.state().regions?.main?.itemId === 't-a', null, { timeout: 30_000 });
      await page.waitForTimeout(700); // past the crossfade, when the outgoing view is destroyed
      expect((await playerState(page)).textures).toBe(0);

      // The image was prefetched into the verified cache; once no manifest needs it, it goes.
      const cachedUrls = () =>
        page.evaluate(async () => (await (await caches.open('zonecast-media-v1')).keys()).map((r) => new URL(r.url).pathname));
      const imageUrl = (await manifestOf('scr-img')).assets[0]?.url;
      expect(imageUrl).toBeDefined();
      expect(await cachedUrls()).toContain(imageUrl);
      const before = (await playerState(page)).manifestVersion;
      await api('PUT', '/api/playlists/pl-img', {
        name: '图片', zoneId: 'city', mode: 'fixed', rule: null, defaultDurationS: 3, scheduleId: null, entries: [{ contentId: 't-a', durationS: 8 }],
      });
      await page.waitForFunction((v) => {
        const s = (globalThis as unknown as { zonecast: { state(): { manifestVersion: string | null; pendingVersion?: string | null } } }).zonecast.state();
        return s.manifestVersion !== v && !s.pendingVersion;
      }, before, { timeout: 60_000 });
      await expect.poll(cachedUrls, { timeout: 10_000 }).not.toContain(imageUrl);
    } finally {
      await context.close();
    }
  });
});
