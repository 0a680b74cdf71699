import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoScreen } from '../../server/seed/demo.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium, openPlayer, playerState } from '../helpers/browser.js';

// An odd offset, so that at 1.25 and 1.5 the CSS position (29.6 px, 24.67 px) is fractional.
const X = 37;
const Y = 23;

let t: TestApp;
let browser: Browser;
let screen: DemoScreen;

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  const found = t.demo.find((s) => s.width === 768 && s.height === 256);
  if (!found) throw new Error('the demo city has no 768×256 screen');
  screen = found;
  await t.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

interface Shot {
  readonly width: number;
  readonly height: number;
  /** [r, g, b] of the device pixel at (x, y). */
  at(x: number, y: number): [number, number, number];
}

/** A screenshot of the page in device pixels, decoded. */
async function shoot(page: Page): Promise<Shot> {
  const png = await page.screenshot({ scale: 'device', animations: 'disabled', caret: 'initial' });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at(x, y) {
      const i = (y * info.width + x) * info.channels;
      return [data[i] ?? -1, data[i + 1] ?? -1, data[i + 2] ?? -1];
    },
  };
}

/** Opens the player with the checker pattern at (X, Y) and waits until the pattern is drawn. */
async function openPattern(deviceScaleFactor: number, query = '') {
  const opened = await openPlayer(browser, t.url, screen.token, {
    context: { deviceScaleFactor, viewport: { width: 1000, height: 600 } },
    query: `x=${X}&y=${Y}&pattern=checker${query}`,
  });
  await opened.page.waitForSelector('canvas#stage[data-pattern="checker"]', { state: 'attached', timeout: 60_000 });
  return opened;
}

/**
 * Checks the screen rectangle of a screenshot against a 1-pixel checkerboard that is white at its
 * top-left, and the ring of pixels just outside it against the black page. Returns what differs,
 * so that a failure says where and how (an empty list passes).
 */
function checkerFaults(shot: Shot, w: number, h: number): string[] {
  const faults: string[] = [];
  let grey = 0;
  let wrong = 0;
  let sameAsRight = 0;
  let sameAsBelow = 0;
  const level = (x: number, y: number) => shot.at(x, y)[0];
  for (let y = Y; y < Y + h; y++) {
    for (let x = X; x < X + w; x++) {
      const [r, g, b] = shot.at(x, y);
      const expected = (x - X + y - Y) % 2 === 0 ? 255 : 0;
      if ((r !== 0 && r !== 255) || g !== r || b !== r) {
        if (grey++ < 5) faults.push(`not pure black or white at (${x}, ${y}): ${r},${g},${b}`);
      } else if (r !== expected) {
        if (wrong++ < 5) faults.push(`checker phase wrong at (${x}, ${y}): ${r}, expected ${expected}`);
      }
      if (x + 1 < X + w && level(x + 1, y) === r) sameAsRight++;
      if (y + 1 < Y + h && level(x, y + 1) === r) sameAsBelow++;
    }
  }
  if (grey) faults.push(`${grey} pixels neither black nor white`);
  if (wrong) faults.push(`${wrong} pixels out of checker phase`);
  if (sameAsRight) faults.push(`${sameAsRight} pixels equal to their right neighbour`);
  if (sameAsBelow) faults.push(`${sameAsBelow} pixels equal to the one below`);
  let outside = 0;
  const ring: [number, number][] = [];
  for (let x = X - 1; x <= X + w; x++) ring.push([x, Y - 1], [x, Y + h]);
  for (let y = Y; y < Y + h; y++) ring.push([X - 1, y], [X + w, y]);
  for (const [x, y] of ring) {
    const px = shot.at(x, y);
    if (px.some((c) => c !== 0) && outside++ < 5) faults.push(`page background (black) expected at (${x}, ${y}): ${px.join(',')}`);
  }
  if (outside) faults.push(`${outside} pixels just outside the rectangle are not the page background`);
  return faults;
}

describe('the player draws one canvas pixel per device pixel', () => {
  for (const deviceScaleFactor of [1, 1.25, 1.5]) {
    it(`keeps a 1-pixel checkerboard at offset ${X},${Y} sharp at device scale factor ${deviceScaleFactor}, with WebGL`, async () => {
      const { context, page } = await openPattern(deviceScaleFactor);
      try {
        expect((await playerState(page)).renderer).toBe('webgl');
        const shot = await shoot(page);
        expect([shot.width, shot.height]).toEqual([Math.round(1000 * deviceScaleFactor), Math.round(600 * deviceScaleFactor)]);
        expect(checkerFaults(shot, screen.width, screen.height)).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('draws the checkerboard just as exactly with ?renderer=canvas at device scale factor 1.25', async () => {
    const { context, page } = await openPattern(1.25, '&renderer=canvas');
    try {
      expect((await playerState(page)).renderer).toBe('canvas');
      const shot = await shoot(page);
      expect(checkerFaults(shot, screen.width, screen.height)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
