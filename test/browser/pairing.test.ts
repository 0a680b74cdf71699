import { createHash } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../content/index.js';
import type { PlayerState, ZoneCastHandle } from '../../player/src/state.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, openUnpairedPlayer, pairingCodeOf, playerState } from '../helpers/browser.js';

let t: TestApp;
let browser: Browser;
/** One kiosk PC (one browser profile) through the whole story: fresh, paired, revoked, paired again. */
let context: BrowserContext;
let page: Page;
let code = '';
let screenId = '';

type Z = { zonecast?: ZoneCastHandle; notReloaded?: boolean };

const screenInput = (name: string, width: number, height: number) => ({
  zoneId: 'chengguan', name, width, height, pixelPitchMm: 1.86, viewingDistanceM: 5, openingHours: [], layoutId: 'lay-chengguan',
});

/** Waits until the player plays as `id` with a manifest drawn. */
async function playingAs(p: Page, id: string): Promise<PlayerState> {
  await p.waitForFunction(
    (want) => {
      const s = (globalThis as unknown as Z).zonecast?.state();
      return s?.mode === 'playing' && s.screenId === want && Boolean(s.manifestVersion);
    },
    id,
    { timeout: 60_000 },
  );
  return playerState(p);
}

/** What the pairing screen shows, where, and whether anything sticks out of the window. */
function pairingScreen(p: Page) {
  return p.evaluate(() => {
    const root = document.getElementById('pairing');
    const box = (id: string) => {
      const el = document.getElementById(id);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { text: el.textContent ?? '', top: r.top, height: r.height, width: r.width };
    };
    const cover = root?.getBoundingClientRect();
    const outside = root
      ? [...root.querySelectorAll('*')].filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5);
        }).length
      : -1;
    return {
      shown: Boolean(root && cover && cover.width >= innerWidth - 1 && cover.height >= innerHeight - 1),
      code: box('pairing-code'),
      dataCode: document.getElementById('pairing-code')?.dataset.code ?? null,
      server: box('pairing-server'),
      status: box('pairing-status'),
      text: root?.innerText ?? '',
      font: root ? getComputedStyle(root).fontFamily : '',
      outside,
      window: { width: innerWidth, height: innerHeight },
    };
  });
}

/** A value from the player's IndexedDB store. */
function stored(p: Page, key: string): Promise<unknown> {
  return p.evaluate(
    (k) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('zonecast-player');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction('kv').objectStore('kv').get(k);
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            db.close();
            resolve(get.result ?? null);
          };
        };
      }),
    key,
  );
}

const pairings = async () => (await t.api('GET', '/api/pairings')) as unknown as { code: string; viewport: { width: number; height: number } | null }[];
const markNotReloaded = (p: Page) => p.evaluate(() => ((globalThis as unknown as Z).notReloaded = true));
const notReloaded = (p: Page) => p.evaluate(() => (globalThis as unknown as Z).notReloaded === true);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await t?.close();
});

describe('pairing end to end in Chromium', () => {
  it('shows a fresh player a large pairing code with the server address, and the same code after a reload', async () => {
    ({ context, page, code } = await openUnpairedPlayer(browser, t.url, { context: { viewport: { width: 1920, height: 1080 } } }));
    expect(code).toMatch(/^\d{6}$/);
    const s = await playerState(page);
    expect(s).toMatchObject({ mode: 'pairing', pairingCode: code, screenId: null, manifestVersion: null, online: true });
    expect(s.renderer).toBeUndefined();
    expect((s.pairingExpiresAt ?? 0) - Date.now()).toBeGreaterThan(25 * 60_000);

    const view = await pairingScreen(page);
    expect(view.shown).toBe(true);
    expect(view.code?.text).toBe(`${code.slice(0, 3)} ${code.slice(3)}`);
    expect(view.dataCode).toBe(code);
    expect(view.server?.text).toBe(t.url);
    expect(view.text).toContain('配对码 Pairing code');
    expect(view.text).toContain('请在管理后台 → 屏幕配对 中输入此配对码');
    expect(view.text).toContain('Enter this code in the composer under Pair a screen');
    expect(view.status?.text).toMatch(/^剩余有效时间 (29|30):\d\d · Valid for (29|30):\d\d$/);
    expect(view.font).toContain('ZoneCast Sans');
    // Legible from across a hall: the code takes a third of a 1080-pixel screen, and all of it fits.
    expect(view.code?.height ?? 0).toBeGreaterThan(1080 * 0.28);
    expect(view.outside).toBe(0);

    // Staff see the waiting player with its window size in device pixels, to prefill the screen.
    expect(await pairings()).toContainEqual(expect.objectContaining({ code, viewport: { width: 1920, height: 1080 } }));

    await page.reload();
    expect(await pairingCodeOf(page)).toBe(code);
    expect((await pairings()).filter((p) => p.code === code)).toHaveLength(1);
  });

  it('fills a 768×256 LED wall with the code, reporting the size in device pixels', async () => {
    // 384×128 CSS px at a device scale factor of 2: 768×256 device pixels.
    const wall = await openUnpairedPlayer(browser, t.url, { context: { viewport: { width: 384, height: 128 }, deviceScaleFactor: 2 } });
    try {
      expect(wall.code).not.toBe(code);
      const view = await pairingScreen(wall.page);
      expect(view.shown).toBe(true);
      expect(view.code?.text.replace(' ', '')).toBe(wall.code);
      expect(view.server?.text).toBe(t.url);
      expect(view.code?.height ?? 0).toBeGreaterThan(128 * 0.38);
      expect(view.outside).toBe(0);
      expect(await pairings()).toContainEqual(expect.objectContaining({ code: wall.code, viewport: { width: 768, height: 256 } }));
    } finally {
      await wall.context.close();
    }
  });

  it('plays at once when staff claim the code into a zone: the token comes over the socket, no reload', async () => {
    await markNotReloaded(page);
    const res = await t.api('POST', '/api/pairing/claim', { code, screen: screenInput('城关街道配对测试屏', 1920, 1080) });
    screenId = (res.screen as { id: string }).id;
    expect(screenId).toBeTruthy();

    const s = await playingAs(page, screenId);
    expect(s).toMatchObject({ renderer: 'webgl', online: true, pairingCode: null });
    const manifest = (await t.api('GET', `/api/screens/${screenId}/manifest`)) as unknown as Manifest;
    expect(s.manifestVersion).toBe(manifest.version);
    expect(await page.evaluate(() => document.getElementById('pairing'))).toBeNull();
    expect(await notReloaded(page)).toBe(true);
    expect((await pairings()).map((p) => p.code)).not.toContain(code);

    // The player keeps the token; the server keeps only its hash, and the pairing secret is spent.
    const token = await stored(page, 'deviceToken');
    expect(typeof token).toBe('string');
    const screen = t.app.store.read().screens.find((x) => x.id === screenId);
    expect(screen?.tokenHash).toBe(sha256(token as string));
    expect(JSON.stringify(t.app.store.read())).not.toContain(token as string);
    expect(await stored(page, 'pairingSecret')).toBeNull();
  });

  it('stays paired across a reload', async () => {
    await page.reload();
    const s = await playingAs(page, screenId);
    expect(s).toMatchObject({ renderer: 'webgl', online: true, pairingCode: null });
    expect(await page.evaluate(() => document.getElementById('pairing'))).toBeNull();
  });

  it('returns to the pairing screen with a new code when its screen is revoked, and forgets the zone’s content', async () => {
    await markNotReloaded(page);
    const before = await playerState(page);
    await t.api('POST', `/api/screens/${screenId}/revoke`);

    const fresh = await pairingCodeOf(page, code);
    const s = await playerState(page);
    expect(s).toMatchObject({ mode: 'pairing', screenId: null, manifestVersion: null, online: true });
    expect(s.renderer).toBeUndefined();
    expect(s.regions).toBeUndefined();
    expect(await notReloaded(page)).toBe(true);
    const view = await pairingScreen(page);
    expect(view.shown).toBe(true);
    expect(view.dataCode).toBe(fresh);
    expect(await pairings()).toContainEqual(expect.objectContaining({ code: fresh }));

    expect(await stored(page, 'deviceToken')).toBeNull();
    expect(await stored(page, 'manifest')).toBeNull();
    expect(typeof (await stored(page, 'pairingSecret'))).toBe('string');
    await expect.poll(() => page.evaluate(async () => (await (await caches.open('zonecast-media-v1')).keys()).length), { timeout: 10_000 }).toBe(0);
    // Nothing of the old manifest comes back on its own.
    await page.waitForTimeout(1500);
    expect((await playerState(page)).manifestVersion).toBeNull();
    expect(before.manifestVersion).toBeTruthy();
    code = fresh;
  });

  it('can be re-paired to the same screen, and learns of a revocation made while it was off at its next start', async () => {
    await markNotReloaded(page);
    await t.api('POST', '/api/pairing/claim', { code, screenId });
    await playingAs(page, screenId);
    expect(await notReloaded(page)).toBe(true);
    const revoked = (await stored(page, 'deviceToken')) as string;

    // The player is off (its page closed) when staff revoke it; the profile keeps its token and manifest.
    await page.close();
    await t.api('POST', `/api/screens/${screenId}/revoke`);
    page = await context.newPage();
    page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
    await page.goto(`${t.url}/player/`);
    code = await pairingCodeOf(page);
    expect(await playerState(page)).toMatchObject({ mode: 'pairing', screenId: null, manifestVersion: null });
    expect(await stored(page, 'deviceToken')).toBeNull();

    // Paired again as a new screen; a kiosk start address still carrying the revoked token does not undo that.
    const res = await t.api('POST', '/api/pairing/claim', { code, screen: screenInput('城关街道第二块屏', 1920, 1080) });
    screenId = (res.screen as { id: string }).id;
    await playingAs(page, screenId);
    await page.goto(`${t.url}/player/?token=${encodeURIComponent(revoked)}`);
    await playingAs(page, screenId);
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
  });

  it('stays paired and keeps playing when the server goes away, while an unpaired player keeps its code', async () => {
    const before = await playingAs(page, screenId);
    const waiting = await openUnpairedPlayer(browser, t.url);
    // Only the app: t.close() would also delete the data dir.
    await t.app.close();
    await page.waitForFunction(() => (globalThis as unknown as Z).zonecast?.state().online === false, null, { timeout: 30_000 });
    // Long enough for a few reconnection attempts to fail.
    await page.waitForTimeout(8000);
    const s = await playerState(page);
    expect(s).toMatchObject({ mode: 'playing', screenId, manifestVersion: before.manifestVersion, renderer: 'webgl', online: false });
    // Still drawing: pixi's FPS is a smoothed figure that a loaded machine can round to 0 for a moment.
    await page.waitForFunction(() => ((globalThis as unknown as Z).zonecast?.state().fps ?? 0) > 0, null, { timeout: 15_000 });
    expect(await page.evaluate(() => document.getElementById('pairing'))).toBeNull();
    expect(typeof (await stored(page, 'deviceToken'))).toBe('string');
    expect(await stored(page, 'manifest')).toMatchObject({ version: before.manifestVersion });

    try {
      expect(await playerState(waiting.page)).toMatchObject({ mode: 'pairing', pairingCode: waiting.code, online: false });
      const view = await pairingScreen(waiting.page);
      expect(view.dataCode).toBe(waiting.code);
      expect(view.status?.text).toBe('正在连接服务器… Connecting to the server…');
    } finally {
      await waiting.context.close();
    }
  });
});
