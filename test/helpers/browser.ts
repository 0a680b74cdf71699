import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { PlayerState, ZoneCastHandle } from '../../player/src/state.js';
import { TEST_PASSWORD } from './app.js';


/** Flags that keep Debian's Chromium quiet on a machine with no network but loopback. */
export const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--no-sandbox',
  '--autoplay-policy=no-user-gesture-required',
];

/** Launches Debian's Chromium; no test tool downloads a browser of its own. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Opens a player page for `token` in a fresh context and waits until it has drawn a manifest. */
export async function openPlayer(
  browser: Browser,
  baseUrl: string,
  token: string,
  opts: { context?: BrowserContextOptions; query?: string; waitForManifest?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...opts.context });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
  await page.goto(`${baseUrl}/player/?token=${encodeURIComponent(token)}${opts.query ? `&${opts.query}` : ''}`);
  if (opts.waitForManifest !== false) await page.waitForFunction(() => Boolean((globalThis as unknown as { zonecast?: ZoneCastHandle }).zonecast?.state().manifestVersion), null, { timeout: 60_000 });
  return { context, page };
}

/** `window.zonecast.state()` of a player page. */
export function playerState(page: Page): Promise<PlayerState> {
  return page.evaluate(() => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state());
}

/** Opens a player with no token in a fresh context and waits until its pairing screen shows a code. */
export async function openUnpairedPlayer(
  browser: Browser,
  baseUrl: string,
  opts: { context?: BrowserContextOptions } = {},
): Promise<{ context: BrowserContext; page: Page; code: string }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...opts.context });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[player page error] ${e.message}`));
  await page.goto(`${baseUrl}/player/`);
  return { context, page, code: await pairingCodeOf(page) };
}

/** Waits until a player shows a pairing code (other than `not`, e.g. the one it had before) and returns it. */
export async function pairingCodeOf(page: Page, not: string | null = null, timeout = 30_000): Promise<string> {
  const handle = await page.waitForFunction(
    (old) => {
      const s = (globalThis as unknown as { zonecast?: ZoneCastHandle }).zonecast?.state();
      return s?.mode === 'pairing' && s.pairingCode && s.pairingCode !== old ? s.pairingCode : null;
    },
    not,
    { timeout },
  );
  return (await handle.jsonValue()) as string;
}

/** Logs in to the composer as `username` (password TEST_PASSWORD) and waits for its menu. */
export async function loginComposer(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/composer/`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(TEST_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav-zones').waitFor({ timeout: 30_000 });
}

/**
 * A context already signed in to the composer with a session cookie (`TestApp.addUser` or
 * `sessionCookie`), for tests that are not about the login form: it saves loading the login page.
 */
export async function signedInContext(browser: Browser, baseUrl: string, cookie: string, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, ...options });
  const eq = cookie.indexOf('=');
  await context.addCookies([{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: baseUrl }]);
  return context;
}
