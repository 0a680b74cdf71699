import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionShowing, type Manifest, type ManifestRegion } from '../../content/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { CHROMIUM_ARGS, playerState } from '../helpers/browser.js';

/** A name that is not localhost: Chromium resolves it to loopback, as a LAN's DNS would to the server. */
const HOST = 'zonecast.test';
/** The smallest demo wall: policies, an image, a video, notices, a ticker and a clock. */
const SCREEN = 'scr-potou';
const MEDIA_CACHE = 'zonecast-media-v1';

let t: TestApp;
let dir = '';
let profile = '';
let spki = '';
let origin = '';
let port = 0;
let token = '';
/** The manifest the player held when its browser was closed; null until the online run has warmed the profile. */
let warmed: Manifest | null = null;

/**
 * A self-signed certificate for HOST, and the base64 SHA-256 of its public key: Chromium trusts
 * that key through --ignore-certificate-errors-spki-list (only with a user data dir, as here),
 * and, unlike a page that merely ignores certificate errors, lets it register a service worker.
 */
async function makeCertificate(into: string): Promise<string> {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${HOST}`,
    '-addext', `subjectAltName=DNS:${HOST}`,
    '-keyout', path.join(into, 'key.pem'), '-out', path.join(into, 'cert.pem'),
  ], { stdio: 'ignore' });
  const der = new X509Certificate(await readFile(path.join(into, 'cert.pem'))).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** A browser start with the player's own profile, as a kiosk PC starts it after a power cut. */
function launchProfile(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`],
    viewport: { width: 800, height: 300 },
  });
}

async function firstPage(context: BrowserContext): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
  return page;
}

/** What a later start without the server depends on: the worker, the verified media and the saved manifest. */
function offlineReadiness(page: Page): Promise<{ worker: string | null; cached: string[]; savedVersion: string | null }> {
  return page.evaluate(async (cacheName) => {
    const registration = await navigator.serviceWorker.getRegistration();
    const cached = (await (await caches.open(cacheName)).keys()).map((r) => r.url).sort();
    const savedVersion = await new Promise<string | null>((resolve, reject) => {
      const open = indexedDB.open('zonecast-player');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('kv')) {
          db.close();
          return resolve(null);
        }
        const get = db.transaction('kv').objectStore('kv').get('manifest');
        get.onerror = () => reject(get.error);
        get.onsuccess = () => {
          db.close();
          resolve((get.result as { version?: string } | undefined)?.version ?? null);
        };
      };
    });
    return { worker: registration?.active?.state ?? null, cached, savedVersion };
  }, MEDIA_CACHE);
}

/** Resolves once nothing accepts TCP connections on the port any more. */
function refusesConnections(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(p, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** The screen rectangle of a page, as raw RGB pixels. */
async function regionPixels(page: Page, r: ManifestRegion): Promise<Buffer> {
  const png = await page.screenshot({ clip: { x: r.x, y: r.y, width: r.width, height: r.height } });
  return sharp(png).removeAlpha().raw().toBuffer();
}

/** Pixels clearly brighter than the dark theme's background: text, pictures. */
function litPixels(px: Buffer): number {
  let n = 0;
  for (let i = 0; i < px.length; i += 3) if ((px[i] ?? 0) + (px[i + 1] ?? 0) + (px[i + 2] ?? 0) > 300) n++;
  return n;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'zonecast-offline-start-'));
  profile = path.join(dir, 'profile');
  spki = await makeCertificate(dir);
  t = await buildTestApp({ demo: true, env: { TLS_CERT: path.join(dir, 'cert.pem'), TLS_KEY: path.join(dir, 'key.pem') } });
  // Always open, so that the test means the same at night and at weekends.
  const screen = await t.app.inject({ method: 'GET', url: `/api/screens/${SCREEN}`, headers: { cookie: t.admin.cookie } });
  expect(screen.statusCode, screen.body).toBe(200);
  const { id: _id, createdAt: _created, updatedAt: _updated, ...fields } = JSON.parse(screen.body) as Record<string, unknown>;
  const put = await t.app.inject({ method: 'PUT', url: `/api/screens/${SCREEN}`, headers: { cookie: t.admin.cookie }, payload: { ...fields, openingHours: [] } });
  expect(put.statusCode, put.body).toBe(200);
  token = t.demo.find((s) => s.id === SCREEN)?.token ?? '';
  port = Number(new URL(await t.listen()).port);
  origin = `https://${HOST}:${port}`;
});

afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a player on an HTTPS name that is not localhost', () => {
  it('plays from a server started with TLS_CERT and TLS_KEY, and keeps what an offline start needs', async () => {
    expect(t.url).toMatch(/^https:/);
    const manifest = (await t.api('GET', `/api/screens/${SCREEN}/manifest`)) as unknown as Manifest;
    const context = await launchProfile();
    try {
      const page = await firstPage(context);
      await page.goto(`${origin}/player/?token=${encodeURIComponent(token)}`);
      await page.waitForFunction(() => (globalThis as unknown as { zonecast?: { state(): { online: boolean; manifestVersion: string | null } } }).zonecast?.state().manifestVersion, null, { timeout: 60_000 });
      const s = await playerState(page);
      expect(s).toMatchObject({ screenId: SCREEN, online: true, manifestVersion: manifest.version });
      expect(await page.evaluate(() => [location.protocol, location.hostname, isSecureContext])).toEqual(['https:', HOST, true]);
      // The worker precaches the app shell (with every font subset) before it activates.
      const wanted = manifest.assets.map((a) => new URL(a.url, origin).href).sort();
      expect(wanted.length).toBeGreaterThan(0);
      await expect.poll(() => offlineReadiness(page), { timeout: 90_000, interval: 500 }).toEqual({ worker: 'activated', cached: wanted, savedVersion: manifest.version });
      warmed = manifest;
    } finally {
      await context.close();
    }
  });

  it('starts again with the same profile while the server is down and shows what the rules say, from its caches', async () => {
    if (!warmed) throw new Error('needs the profile the previous test warmed');
    const manifest = warmed;
    await t.app.close();
    expect(await refusesConnections(port)).toBe(true);

    const context = await launchProfile();
    try {
      const page = await firstPage(context);
      await page.goto(`${origin}/player/`);
      await page.waitForFunction(() => (globalThis as unknown as { zonecast?: { state(): { manifestVersion: string | null } } }).zonecast?.state().manifestVersion, null, { timeout: 60_000 });
      const s = await playerState(page);
      expect(s.manifestVersion).toBe(manifest.version);
      expect(s.online).toBe(false);
      expect(await page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);

      const regions = (manifest.layout?.regions ?? []).filter((r) => !r.widget);
      expect(regions.length).toBeGreaterThan(1);
      // The renderer's regions are as of its last frame, a little before `now`: samples close
      // after a slot boundary are not comparable and are skipped.
      let compared = 0;
      for (let i = 0; i < 8 && compared < 4; i++) {
        const sample = await playerState(page);
        const now = sample.now ?? 0;
        const comparable = regions.every((r) => regionShowing(r, now, manifest.timeZone)?.slotStart === regionShowing(r, now - 1000, manifest.timeZone)?.slotStart);
        if (comparable) {
          for (const r of regions) {
            const expected = regionShowing(r, now, manifest.timeZone);
            expect(sample.regions?.[r.id], `region ${r.id}`).toMatchObject({ itemId: expected?.itemId ?? null, slotStart: expected?.slotStart ?? null });
          }
          compared++;
        }
        await page.waitForTimeout(700);
      }
      expect(compared).toBeGreaterThanOrEqual(3);

      // Notices and the three affairs always have items: wait until that region is past its
      // crossfade and not about to change, then look at its pixels.
      const side = regions.find((r) => r.id === 'side');
      if (!side) throw new Error('the demo layout has no side region');
      await page.waitForFunction(
        ({ id, from, to }) => {
          const r = (globalThis as unknown as { zonecast: { state(): { now?: number; regions?: Record<string, { slotStart: number | null }> } } }).zonecast.state();
          const start = r.regions?.[id]?.slotStart;
          return start != null && (r.now ?? 0) - start > from && (r.now ?? 0) - start < to;
        },
        { id: side.id, from: 800, to: 8000 },
        { timeout: 60_000, polling: 100 },
      );
      expect(litPixels(await regionPixels(page, side))).toBeGreaterThan(side.width * side.height * 0.01);
    } finally {
      await context.close();
    }
  });
});
