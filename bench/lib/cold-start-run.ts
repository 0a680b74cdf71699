import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { PlayerState, ZoneCastHandle } from '../../player/src/state.js';
import { CHROMIUM_ARGS } from '../../test/helpers/browser.js';

/** A player's browser profile, and how that browser reaches and trusts the server. */
export interface PlayerProfile {
  readonly userDataDir: string;
  /** The server's name; Chromium maps it to 127.0.0.1, as a LAN's DNS would to the server. */
  readonly host: string;
  /** Base64 SHA-256 of the server certificate's public key, trusted by Chromium. */
  readonly spki: string;
  readonly width: number;
  readonly height: number;
}

/** One cold start: a fresh browser process on the profile, up to the player's first content frame. */
export interface ColdStartSample {
  /** Navigation start → the first frame that drew content (`zonecast:first-frame`). */
  readonly firstFrameMs: number;
  /** Just before the browser launch → that frame, on the wall clock. */
  readonly launchToFirstFrameMs: number;
  /** Navigation start → the app shell's HTML received (from the service worker's precache). */
  readonly shellMs: number;
  /** The service worker answered the navigation. */
  readonly controlled: boolean;
  /** The player's state once the check was made (online, for an online start). */
  readonly state: PlayerState;
}

/** The page's own timing, read after the first frame. */
interface PageTiming {
  readonly firstFrame: number | null;
  readonly timeOrigin: number;
  readonly shell: number | null;
  readonly controlled: boolean;
}

// What the page functions below use of the DOM (bench/ is typechecked without DOM types).
interface InPage {
  readonly performance: {
    readonly timeOrigin: number;
    getEntriesByName(name: string): readonly { readonly startTime: number }[];
    getEntriesByType(type: 'navigation'): readonly { readonly responseEnd: number }[];
  };
  readonly navigator: { readonly serviceWorker?: { readonly controller: unknown } };
  readonly zonecast?: ZoneCastHandle;
}

/** Launches Debian's Chromium on the profile, resolving `host` to loopback and trusting its key. */
export function launchProfile(p: PlayerProfile): Promise<BrowserContext> {
  return chromium.launchPersistentContext(p.userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${p.host} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${p.spki}`],
    viewport: { width: p.width, height: p.height },
  });
}

/** The first page of a persistent context (Chromium opens one with the window). */
export async function firstPage(context: BrowserContext): Promise<Page> {
  return context.pages()[0] ?? (await context.newPage());
}

/** `window.zonecast.state()`. */
export function playerState(page: Page): Promise<PlayerState> {
  return page.evaluate(() => {
    const handle = (globalThis as unknown as InPage).zonecast;
    if (!handle) throw new Error('window.zonecast is missing');
    return handle.state();
  });
}

/** What a later start without the server depends on. */
export interface OfflineReadiness {
  /** The state of the active service worker (it precaches the app shell before it activates). */
  readonly worker: string | null;
  /** The URLs in the verified media cache, sorted. */
  readonly cached: readonly string[];
  /** The version of the manifest saved in IndexedDB for a start without the server. */
  readonly savedVersion: string | null;
}

/**
 * Reads the service worker, the media cache and the saved manifest of a player page. Plain
 * JavaScript in a string: bench/ has no DOM types, and tsx would wrap named functions in a
 * `__name` helper that the page does not have.
 */
export function offlineReadiness(page: Page, mediaCache: string): Promise<OfflineReadiness> {
  return page.evaluate(`(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    const cached = (await (await caches.open(${JSON.stringify(mediaCache)})).keys()).map((r) => r.url).sort();
    const savedVersion = await new Promise((resolve, reject) => {
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
          resolve(get.result?.version ?? null);
        };
      };
    });
    return { worker: registration?.active?.state ?? null, cached, savedVersion };
  })()`);
}

/**
 * Starts the browser on the warmed profile, opens `url` and waits for the player's first content
 * frame; then, for an online start, until its socket is connected. The browser is closed before
 * this returns, whatever happens.
 */
export async function coldStart(profile: PlayerProfile, url: string, opts: { online: boolean; timeoutMs: number }): Promise<ColdStartSample> {
  const launchAt = Date.now();
  const context = await launchProfile(profile);
  try {
    const page = await firstPage(context);
    await page.goto(url, { waitUntil: 'commit', timeout: opts.timeoutMs });
    // Polling at an interval rather than every animation frame, so as not to load the page it times.
    await page.waitForFunction(() => (globalThis as unknown as InPage).performance.getEntriesByName('zonecast:first-frame').length > 0, null, {
      timeout: opts.timeoutMs,
      polling: 100,
    });
    const timing: PageTiming = await page.evaluate(() => {
      const g = globalThis as unknown as InPage;
      return {
        firstFrame: g.performance.getEntriesByName('zonecast:first-frame')[0]?.startTime ?? null,
        timeOrigin: g.performance.timeOrigin,
        shell: g.performance.getEntriesByType('navigation')[0]?.responseEnd ?? null,
        controlled: Boolean(g.navigator.serviceWorker?.controller),
      };
    });
    if (timing.firstFrame === null || timing.shell === null) throw new Error('the page has no first-frame mark or navigation timing');
    if (opts.online) {
      await page.waitForFunction(() => (globalThis as unknown as InPage).zonecast?.state().online === true, null, { timeout: opts.timeoutMs, polling: 100 });
    }
    return {
      firstFrameMs: timing.firstFrame,
      launchToFirstFrameMs: timing.timeOrigin + timing.firstFrame - launchAt,
      shellMs: timing.shell,
      controlled: timing.controlled,
      state: await playerState(page),
    };
  } finally {
    await context.close();
  }
}
