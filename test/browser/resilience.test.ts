import { execFile } from 'node:child_process';
import { cp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionShowing, type Manifest, type PlayerReport } from '../../content/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { itemBase, publishContent, publishers, textItem, type Publishers } from '../helpers/fixtures.js';
import { launchChromium, playerState } from '../helpers/browser.js';

const W = 320;
const H = 160;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** How long the player lets a manifest wait for its assets in these tests (`?assetDeadline=`). */
const ASSET_DEADLINE_MS = 4000;
/** The player the global setup built, which the other test files are served meanwhile. */
const BUILT_DIST = path.join(ROOT, 'dist/player');
/** This file's own copy of it, which its server serves (ZONECAST_PLAYER_DIR) and the update test replaces. */
const PLAYER_DIST = path.join(ROOT, 'dist/player-resilience');
/** The next app version (build test-update-2), built beside it while the other tests run. */
const NEXT_DIST = path.join(ROOT, 'dist/player-resilience-next');
/** The copy, moved aside when the next version takes its place. */
const KEPT_DIST = path.join(ROOT, 'dist/player-resilience-kept');

let t: TestApp;
let browser: Browser;
const tokens: Record<string, string> = {};
const hashes: Record<string, string> = {};
let who: Publishers;

const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<unknown> => t.api(method, url, payload);

const base = itemBase;
const text = (id: string, body: string) => textItem(id, body);
const playlist = (id: string, entries: { contentId: string; durationS?: number }[]) => ({
  id, name: id, zoneId: 'city', mode: 'fixed', rule: null, defaultDurationS: 3, scheduleId: null, entries,
});
const manifestOf = async (id: string) => (await api('GET', `/api/screens/${id}/manifest`)) as Manifest;
const reportsOf = async (id: string) => (await api('GET', `/api/screens/${id}/reports`)) as { at: number; report: PlayerReport }[];

async function upload(name: string, colour: string): Promise<string> {
  const png = await sharp({ create: { width: 640, height: 320, channels: 3, background: colour } }).png().toBuffer();
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), `${name}.png`);
  const res = (await (await fetch(`${t.url}/api/media`, { method: 'POST', body: form, headers: { cookie: who.editor.cookie } })).json()) as { media: { hash: string } };
  return res.media.hash;
}

/** A screen of its own, with one full-size region playing its own fixed playlist. */
async function screenWith(id: string, entries: { contentId: string; durationS?: number }[]): Promise<void> {
  await api('POST', '/api/playlists', playlist(`pl-${id}`, entries));
  await api('POST', '/api/layouts', { id: `lay-${id}`, zoneId: 'city', name: id, width: W, height: H, background: '#000000', regions: [{ id: 'main', name: '主', x: 0, y: 0, width: W, height: H, playlistId: `pl-${id}` }] });
  const res = (await api('POST', '/api/screens', { id, zoneId: 'city', name: id, width: W, height: H, pixelPitchMm: 2.5, viewingDistanceM: 3, openingHours: [], layoutId: `lay-${id}` })) as { deviceToken: string };
  tokens[id] = res.deviceToken;
}

/** Builds the player as build `id` into `outDir`. */
const build = (id: string, outDir: string) =>
  promisify(execFile)(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'player/vite.config.ts', '--logLevel', 'warn', '--outDir', outDir], {
    cwd: ROOT,
    env: { ...process.env, ZONECAST_BUILD: id },
  });
let nextBuilt: Promise<unknown>;
/** The update test's player, opened early: installing its app shell and its first update check take a minute. */
let updatePlayer: Promise<{ context: BrowserContext; page: Page }>;

beforeAll(async () => {
  // The next version builds while the server starts and the other tests run.
  await Promise.all([PLAYER_DIST, KEPT_DIST].map((dir) => rm(dir, { recursive: true, force: true })));
  await cp(BUILT_DIST, PLAYER_DIST, { recursive: true });
  nextBuilt = rm(NEXT_DIST, { recursive: true, force: true }).then(() => build('test-update-2', NEXT_DIST));
  nextBuilt.catch(() => undefined);
  t = await buildTestApp({ env: { ZONECAST_PLAYER_DIR: PLAYER_DIST } });
  await t.listen();
  await api('POST', '/api/zones', { id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  who = await publishers(t, 'city');
  for (const [id, body] of [['t-old', '旧内容 政务公开'], ['t-new', '新内容 便民服务'], ['t-more', '又一条新内容']] as const) await publishContent(t, text(id, body), who);
  hashes['aborted'] = await upload('red', '#c62828');
  hashes['corrupt'] = await upload('blue', '#1565c0');
  for (const kind of ['aborted', 'corrupt'] as const) {
    await publishContent(t, { ...base, id: `img-${kind}`, kind: 'image', zoneId: 'city', title: kind, mediaHash: hashes[kind], fit: 'cover', caption: '' }, who);
  }
  await screenWith('scr-assets', [{ contentId: 't-old' }]);
  await screenWith('scr-schema', [{ contentId: 't-old' }]);
  await screenWith('scr-update', [{ contentId: 't-old' }, { contentId: 't-new' }]);
  browser = await launchChromium();
  // Installed, as a screen that has run before: its service worker active, and a first update
  // check made. Chromium fetches the script for a new registration's first check only about a
  // minute after the page started (measured: the sw.js request reached the server ~60 s after the
  // page loaded, whenever update() was called before that), so that minute passes meanwhile.
  updatePlayer = open(tokens['scr-update'] ?? '', { installed: true }).then(async (opened) => {
    await opened.page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration('/player/'))?.update();
    });
    return opened;
  });
  updatePlayer.catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await nextBuilt?.catch(() => undefined);
  await Promise.all([PLAYER_DIST, NEXT_DIST, KEPT_DIST].map((dir) => rm(dir, { recursive: true, force: true })));
});

type Handle = { zonecast?: { state(): { manifestVersion: string | null; build: string; firstFrameMs?: number | null; updateWaiting: boolean } } };

/** Waits (a minute at most) until the player's service worker is active. */
const serviceWorkerActive = (page: Page): Promise<boolean> =>
  page.evaluate(() => Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]));

/**
 * Opens a player in a fresh context, after `prepare` has set up routes on that context. With
 * `installed`, waits until its service worker is active too, as on a screen that has run before.
 */
async function open(
  token: string,
  opts: { query?: string; installed?: boolean; prepare?: (c: BrowserContext) => Promise<void> } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const { query, prepare } = opts;
  const context = await browser.newContext({ viewport: { width: 800, height: 400 } });
  await prepare?.(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
  await page.goto(`${t.url}/player/?token=${encodeURIComponent(token)}${query ? `&${query}` : ''}`);
  await page.waitForFunction(() => Boolean((globalThis as unknown as Handle).zonecast?.state().manifestVersion), null, { timeout: 60_000 });
  if (opts.installed) expect(await serviceWorkerActive(page), 'the service worker did not become active').toBe(true);
  return { context, page };
}

const waitForVersion = (page: Page, version: string, timeout = 60_000) =>
  page.waitForFunction((v: string) => (globalThis as unknown as Handle).zonecast?.state().manifestVersion === v, version, { timeout });

/** Whether the verified media cache holds each URL. */
const cached = (page: Page, urls: string[]) =>
  page.evaluate(async (us: string[]) => {
    const cache = await caches.open('zonecast-media-v1');
    return Promise.all(us.map(async (u) => Boolean(await cache.match(u))));
  }, urls);

/** The manifest the player kept in IndexedDB for an offline start. */
const keptManifest = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ version: string; items: Record<string, unknown>; assets: { url: string }[] } | null>((resolve, reject) => {
        const req = indexedDB.open('zonecast-player');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const get = req.result.transaction('kv').objectStore('kv').get('manifest');
          get.onerror = () => reject(get.error);
          get.onsuccess = () => resolve((get.result as { version: string; items: Record<string, unknown>; assets: { url: string }[] } | undefined) ?? null);
        };
      }),
  );

/** Lit pixels of the screen rectangle: content, not a blank screen. */
async function litShare(page: Page): Promise<number> {
  const px = await sharp(await page.screenshot({ clip: { x: 0, y: 0, width: W, height: H } })).removeAlpha().raw().toBuffer();
  let n = 0;
  for (let i = 0; i < px.length; i += 3) if ((px[i] ?? 0) + (px[i + 1] ?? 0) + (px[i + 2] ?? 0) > 120) n++;
  return n / (px.length / 3);
}

describe('player resilience', () => {
  it('applies a new manifest without the items whose assets keep failing, reports it, and takes the full one once they load', async () => {
    const attempts = { aborted: 0, corrupt: 0 };
    let blocked = true;
    // One asset never arrives; the other arrives with bytes that do not match its SHA-256.
    const failAssets = async (c: BrowserContext) => {
      await c.route(`**/media/${hashes['aborted']}/**`, (route: Route) => {
        attempts.aborted++;
        return blocked ? route.abort('connectionreset') : route.continue();
      });
      await c.route(`**/media/${hashes['corrupt']}/**`, async (route: Route) => {
        attempts.corrupt++;
        if (!blocked) return route.continue();
        const real = await route.fetch();
        const body = Buffer.from(await real.body());
        body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0xff;
        return route.fulfill({ response: real, body });
      });
    };
    const { context, page } = await open(tokens['scr-assets'] ?? '', { query: `assetDeadline=${ASSET_DEADLINE_MS}`, installed: true, prepare: failAssets });
    try {
      const before = await playerState(page);
      expect(before.regions?.main?.itemId).toBe('t-old');

      await api('PUT', '/api/playlists/pl-scr-assets', playlist('pl-scr-assets', [{ contentId: 'img-aborted' }, { contentId: 'img-corrupt' }, { contentId: 't-new' }]));
      const full = await manifestOf('scr-assets');
      const failing = full.assets.filter((a) => a.mediaHash === hashes['aborted'] || a.mediaHash === hashes['corrupt']).map((a) => a.url);
      expect(failing).toHaveLength(2);

      // Not frozen on the old manifest: after the deadline, the new one without the images.
      await waitForVersion(page, `${full.version}~partial`);
      for (let i = 0; i < 3; i++) {
        expect((await playerState(page)).regions?.main?.itemId).toBe('t-new');
        await page.waitForTimeout(1200);
      }
      const kept = await keptManifest(page);
      expect(kept?.version).toBe(`${full.version}~partial`);
      expect(Object.keys(kept?.items ?? {}).sort()).toEqual(['t-new']);
      expect(kept?.assets.map((a) => a.url)).toEqual([]);
      // The wrong bytes were neither cached as verified nor shown.
      expect(await cached(page, failing)).toEqual([false, false]);
      expect((await playerState(page)).textures).toBe(0);
      // Retried, with backoff, before giving up on this round.
      expect(attempts.aborted).toBeGreaterThan(1);
      expect(attempts.corrupt).toBeGreaterThan(1);

      await expect.poll(async () => (await reportsOf('scr-assets')).some((r) => r.report.kind === 'assets-failed'), { timeout: 15_000 }).toBe(true);
      const reported = (await reportsOf('scr-assets')).map((r) => r.report).find((r) => r.kind === 'assets-failed');
      if (reported?.kind !== 'assets-failed') throw new Error('no assets-failed report');
      expect(reported.manifestVersion).toBe(full.version);
      const errors = new Map(reported.failures.map((f) => [f.url, f.error]));
      expect([...errors.keys()].sort()).toEqual([...failing].sort());
      const corruptUrl = failing.find((u) => u.includes(hashes['corrupt'] ?? '-')) ?? '';
      expect(errors.get(corruptUrl)).toMatch(/SHA-256 mismatch/);

      // Once the assets come through, a later retry applies the full manifest.
      blocked = false;
      await waitForVersion(page, full.version, 90_000);
      expect(await cached(page, failing)).toEqual([true, true]);
      const region = full.layout?.regions.find((r) => r.id === 'main');
      if (!region) throw new Error('no main region');
      await page.waitForFunction(() => {
        const s = (globalThis as unknown as { zonecast: { state(): { regions?: Record<string, { itemId: string | null }>; textures?: number } } }).zonecast.state();
        return (s.regions?.main?.itemId ?? '').startsWith('img-') && (s.textures ?? 0) >= 1;
      }, null, { timeout: 30_000 });
      const s = await playerState(page);
      expect(s.regions?.main?.itemId).toBe(regionShowing(region, s.now ?? 0, full.timeZone)?.itemId);
    } finally {
      await context.close();
    }
  });

  it('keeps its last good manifest and reports the mismatch when a manifest has a newer schema', async () => {
    const rewritten: string[] = [];
    const newerSchema = async (c: BrowserContext) => {
      // Every manifest:changed push arrives as if from a newer server (schema 2); the first
      // manifest (the acknowledgement of manifest:fetch) is left alone.
      await c.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => server.send(m));
        server.onMessage((m) => {
          if (typeof m !== 'string' || !m.startsWith('42["manifest:changed"')) return ws.send(m);
          const [event, change] = JSON.parse(m.slice(2)) as [string, { version: string; manifest: { schemaVersion: number } }];
          change.manifest.schemaVersion = 2;
          rewritten.push(change.version);
          ws.send(`42${JSON.stringify([event, change])}`);
        });
      });
    };
    const { context, page } = await open(tokens['scr-schema'] ?? '', { prepare: newerSchema });
    try {
      const good = await manifestOf('scr-schema');
      await waitForVersion(page, good.version);
      await api('PUT', '/api/playlists/pl-scr-schema', playlist('pl-scr-schema', [{ contentId: 't-more' }]));
      const newer = await manifestOf('scr-schema');
      expect(newer.version).not.toBe(good.version);

      await expect.poll(async () => (await reportsOf('scr-schema')).map((r) => r.report), { timeout: 15_000 }).toContainEqual({
        kind: 'schema-mismatch', manifestVersion: newer.version, got: 2, supported: 1,
      });
      expect(rewritten).toContain(newer.version);
      const s = await playerState(page);
      expect(s.manifestVersion).toBe(good.version);
      expect(s.regions?.main?.itemId).toBe('t-old');
      expect((await keptManifest(page))?.version).toBe(good.version);
    } finally {
      await context.close();
    }
  });

  describe('app updates', () => {
    it('picks up a new app version at an item boundary, keeping its token and manifest, without a blank screen', async () => {
      // Installed: the running version's service worker is active before the new one appears.
      const { context, page } = await updatePlayer;
      try {
        const manifest = await manifestOf('scr-update');
        await waitForVersion(page, manifest.version);
        const before = await playerState(page);
        expect(before.build).not.toBe('test-update-2');
        type Page0 = { oldPage?: boolean; notWaitingAt?: number; zonecast: { state(): { updateWaiting: boolean; now?: number } } };
        await page.evaluate(() => {
          const g = globalThis as unknown as Page0;
          g.oldPage = true;
          g.notWaitingAt = g.zonecast.state().now;
        });

        // The new version goes live where the running one was served from.
        await nextBuilt;
        await rename(PLAYER_DIST, KEPT_DIST);
        await rename(NEXT_DIST, PLAYER_DIST);
        await page.evaluate(async () => {
          await (await navigator.serviceWorker.getRegistration('/player/'))?.update();
        });
        // The new version waits for the next item boundary before it takes over. It was found
        // after the last moment the page was seen not waiting, so that boundary is no earlier
        // than the end of the item showing then.
        const waiting = await page.waitForFunction(() => {
          const g = globalThis as unknown as Page0;
          const s = g.zonecast.state();
          if (s.updateWaiting) return g.notWaitingAt ?? null;
          g.notWaitingAt = s.now;
          return null;
        }, null, { timeout: 60_000, polling: 'raf' });
        const notWaitingAt = (await waiting.jsonValue()) as number;
        const region = manifest.layout?.regions.find((r) => r.id === 'main');
        if (!region) throw new Error('no main region');
        const boundary = regionShowing(region, notWaitingAt, manifest.timeZone)?.slotEnd ?? NaN;

        const reloaded = await page
          .waitForFunction(() => (globalThis as unknown as Handle).zonecast?.state().build === 'test-update-2', null, { timeout: 30_000 })
          .then(() => true, () => false);
        const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
        expect(reloaded, `the new version never took over the page (page controlled by the service worker: ${controlled})`).toBe(true);
        expect(await page.evaluate(() => (globalThis as unknown as Page0).oldPage ?? false)).toBe(false);
        // The reload began at the boundary, not in the middle of an item.
        const navigatedAt = await page.evaluate(() => performance.timeOrigin);
        expect(navigatedAt + before.clockOffsetMs).toBeGreaterThanOrEqual(boundary - 100);

        // As soon as the new version draws, an item is on screen: no blank canvas in between.
        await page.waitForFunction(() => (globalThis as unknown as Handle).zonecast?.state().firstFrameMs != null, null, { timeout: 30_000 });
        const after = await playerState(page);
        expect(after.manifestVersion).toBe(manifest.version);
        expect((await keptManifest(page))?.version).toBe(manifest.version);
        // What shows is what the rules say. Items last 3 s and the reload came at a boundary, so the
        // first frames fall near the next one: a read between a boundary and the frame after it is
        // taken again.
        const followsRules = async () => {
          const s = await playerState(page);
          return s.regions?.main?.itemId === regionShowing(region, s.now ?? 0, manifest.timeZone)?.itemId;
        };
        await expect.poll(followsRules, { timeout: 10_000 }).toBe(true);
        // And it plays on: the next item comes, as the rules say (a player stuck on one item of
        // the two would match them half of the time).
        const first = (await playerState(page)).regions?.main?.itemId;
        await expect.poll(async () => (await playerState(page)).regions?.main?.itemId, { timeout: 10_000 }).not.toBe(first);
        await expect.poll(followsRules, { timeout: 3_000 }).toBe(true);
        expect(await litShare(page)).toBeGreaterThan(0.005);
        // The token came from IndexedDB: the address bar has none since the first start.
        expect(new URL(page.url()).searchParams.has('token')).toBe(false);
        await page.waitForFunction(() => (globalThis as unknown as { zonecast: { state(): { online: boolean } } }).zonecast.state().online, null, { timeout: 30_000 });
        expect((await playerState(page)).screenId).toBe('scr-update');
      } finally {
        await context.close();
      }
    });
  });
});
