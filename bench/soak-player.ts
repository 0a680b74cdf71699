/**
 * npm run soak:player — runs a real player through 2,000 item changes on a fast clock and
 * compares its memory at the start and at the end: neither the JS heap nor the texture count may
 * grow by more than 10%.
 *
 * The server is a child process with a fresh DATA_DIR; the soak creates one screen through the
 * REST API whose regions rotate images (textures loaded and unloaded on every pass), paged
 * policies, notices, guides, a ticker and a clock. The player, built from the current source into
 * dist/player, runs in Debian's Chromium (SwiftShader WebGL) with `?clockRate=`, so its slots
 * pass that many times faster than real time. A probe in the page counts item changes on every
 * animation frame and live WebGL textures by wrapping createTexture/deleteTexture.
 *
 * The start reading follows a warm-up long enough for the player's bounded caches to fill and for
 * pixi's own GC (every 30 s, of what has gone unused for 60 s) to have run: before that the heap
 * grows by design, and a comparison with it would measure the warm-up, not a leak. Both readings
 * watch every frame of whole periods of the rotation and keep the fewest and the most textures
 * seen; the fewest is the floor that a leaked texture would raise, while the most depends on which
 * crossfades and prefetches a frame happens to catch. Then the JS heap, the median of three
 * readings after forced full GCs. In between, the heap is read every 500 changes for its trend.
 * The gates are the JS heap and `state().textures` (at its fewest); live WebGL textures are only
 * reported, as they include pixi's text-texture pool, whose high-water mark rises with uneven
 * frame rates without anything leaking.
 *
 * Knobs (defaults give the published figures): SOAK_CHANGES=2000 (between the two readings),
 * SOAK_WARMUP=600 and SOAK_WARMUP_S=90 (changes and seconds before the first, whichever is
 * later), SOAK_RATE=20 (clock speed-up), SOAK_MAX_GROWTH=10 (percent), SOAK_LIMIT_S=560 (then
 * it stops and reports what it has; 30 s later it exits whatever it is doing),
 * SOAK_PLAYER_DIR=<dir> (serve a player built elsewhere, e.g. with a candidate fix, instead of
 * building dist/player). Only a run with the defaults rewrites bench/results/soak-player.md.
 * Exit code 1 when a figure grew too much, the page threw, the player stalled or the run failed.
 */
import { fileURLToPath } from 'node:url';
import { saveResults } from './lib/results.js';
import type { Browser, CDPSession, Page } from 'playwright-core';
import type { PlayerState, ZoneCastHandle } from '../player/src/state.js';
import { launchChromium } from '../test/helpers/browser.js';
import { login } from './lib/api.js';
import { sleep } from './lib/async.js';
import { describeMachine, loadAverage } from './lib/machine.js';
import { readMemory, type MemoryReading } from './lib/page-memory.js';
import { buildPlayer, playerRevision, servePlayerFrom } from './lib/player-build.js';
import { BENCH_ADMIN, startServer, type ServerProcess } from './lib/server-process.js';
import { seedSoakFixture, type SoakFixture } from './lib/soak-fixture.js';
import { closeWindow, installProbe, openWindow, probeSnapshot, type ProbeSnapshot, type ProbeWindow } from './lib/soak-probe.js';

function envNumber(name: string, dflt: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${v}"`);
  return n;
}

const CHANGES = Math.round(envNumber('SOAK_CHANGES', 2000, 1));
const WARMUP = Math.round(envNumber('SOAK_WARMUP', 600, 0));
const WARMUP_S = envNumber('SOAK_WARMUP_S', 90, 0);
const RATE = envNumber('SOAK_RATE', 20, 1);
const MAX_GROWTH = envNumber('SOAK_MAX_GROWTH', 10, 0);
const LIMIT_MS = envNumber('SOAK_LIMIT_S', 560, 60) * 1000;
const PLAYER_DIR = process.env.SOAK_PLAYER_DIR || null;
const IS_DEFAULT_RUN = CHANGES === 2000 && WARMUP === 600 && WARMUP_S === 90 && RATE === 20 && MAX_GROWTH === 10 && PLAYER_DIR === null;
const RESULTS_FILE = fileURLToPath(new URL('./results/soak-player.md', import.meta.url));

/** Whole periods of the screen's rotation each texture reading covers. */
const WINDOW_PERIODS = 4;
const HEAP_READINGS = 3;
/** Changes between the heap readings of the trend. */
const TREND_EVERY = 500;
/** No item change for this long means the player has stopped: the run fails rather than waits. */
const STALL_MS = 30_000;

const startedAt = Date.now();
const log = (msg: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);

/** One reading: textures over whole periods, then memory after forced GCs. */
interface Reading {
  readonly changes: number;
  readonly at: number;
  readonly playerNow: number;
  readonly window: ProbeWindow;
  readonly memory: MemoryReading;
  readonly heapSamples: readonly number[];
  readonly fps: number;
}

interface TrendPoint {
  readonly changes: number;
  readonly jsHeapUsed: number;
}

/** Everything a run found, complete or not. */
interface Outcome {
  /** Where the player came from: a commit of this tree, or SOAK_PLAYER_DIR. */
  readonly player: string;
  readonly fixture: SoakFixture;
  readonly chromium: string;
  readonly renderer: string;
  readonly start: Reading | null;
  readonly end: Reading | null;
  readonly trend: readonly TrendPoint[];
  readonly final: ProbeSnapshot | null;
  readonly pageErrors: readonly string[];
  /** Why the run stopped early (a stall, the time limit), if it did. */
  readonly stopped: string | null;
}

/** Per-second samples of the player's own FPS figure. */
const fpsSamples: number[] = [];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function growth(start: number, end: number): number {
  if (start === end) return 0;
  return start === 0 ? Number.POSITIVE_INFINITY : ((end - start) / start) * 100;
}

function fmtGrowth(g: number): string {
  if (!Number.isFinite(g)) return '+∞%';
  return `${g >= 0 ? '+' : ''}${g.toFixed(1)}%`;
}

/** Least-squares slope of heap against changes, in KB per 1,000 changes. */
function heapSlope(points: readonly TrendPoint[]): number {
  if (points.length < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.changes, 0) / points.length;
  const my = points.reduce((s, p) => s + p.jsHeapUsed, 0) / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.changes - mx) * (p.jsHeapUsed - my);
    den += (p.changes - mx) ** 2;
  }
  return den === 0 ? Number.NaN : ((num / den) * 1000) / 1024;
}

function playerState(page: Page): Promise<PlayerState> {
  return page.evaluate(() => (globalThis as unknown as { zonecast: ZoneCastHandle }).zonecast.state());
}

class Stopped extends Error {}

/** Polls once a second until the probe has counted `target` changes (and `minMs` passed), logging progress. */
async function waitForChanges(page: Page, target: number, what: string, minMs = 0): Promise<ProbeSnapshot> {
  let last = await probeSnapshot(page);
  let lastProgressAt = Date.now();
  let lastLogAt = Date.now();
  const t0 = Date.now();
  const c0 = last.changes;
  while (last.changes < target || Date.now() - t0 < minMs) {
    if (Date.now() - startedAt > LIMIT_MS) throw new Stopped(`${what}: the ${LIMIT_MS / 1000} s limit was reached at ${last.changes} changes`);
    await sleep(1000);
    const snap = await probeSnapshot(page);
    const st = await playerState(page);
    if (st.fps !== undefined) fpsSamples.push(st.fps);
    if (snap.changes > last.changes) lastProgressAt = Date.now();
    else if (Date.now() - lastProgressAt > STALL_MS) throw new Stopped(`${what}: the player stalled, no item change for ${STALL_MS / 1000} s after ${snap.changes} changes`);
    last = snap;
    if (Date.now() - lastLogAt >= 15_000) {
      lastLogAt = Date.now();
      const perS = (snap.changes - c0) / Math.max(1, (Date.now() - t0) / 1000);
      log(`  ${what}: ${snap.changes}/${target} changes, ${perS.toFixed(1)}/s, fps ${st.fps ?? '?'}, ${snap.glLive} WebGL textures, ${st.textures ?? '?'} held`);
    }
  }
  return last;
}

async function takeReading(page: Page, cdp: CDPSession, fixture: SoakFixture, what: string): Promise<Reading> {
  const before = await probeSnapshot(page);
  const windowMs = Math.max(3000, (WINDOW_PERIODS * fixture.periodS * 1000) / RATE);
  const fps: number[] = [];
  await openWindow(page);
  const until = Date.now() + windowMs;
  while (Date.now() < until) {
    await sleep(Math.min(1000, until - Date.now()));
    const st = await playerState(page);
    if (st.fps !== undefined) fps.push(st.fps);
  }
  const window = await closeWindow(page);
  const samples: MemoryReading[] = [];
  for (let i = 0; i < HEAP_READINGS; i++) {
    if (i > 0) await sleep(1000);
    samples.push(await readMemory(cdp));
  }
  const heaps = samples.map((s) => s.jsHeapUsed);
  const memory = [...samples].sort((a, b) => a.jsHeapUsed - b.jsHeapUsed)[Math.floor(samples.length / 2)];
  if (!memory) throw new Error('no memory reading');
  const st = await playerState(page);
  log(
    `${what}: JS heap ${mb(memory.jsHeapUsed)} MB (readings ${heaps.map(mb).join(', ')}); over ${window.frames} frames ` +
      `${window.storeMin}–${window.storeMax} textures held, ${window.glMin}–${window.glMax} WebGL textures`,
  );
  return { changes: before.changes, at: Date.now(), playerNow: st.now ?? Number.NaN, window, memory, heapSamples: heaps, fps: median(fps) };
}

function evaluate(o: Outcome): { table: string; failures: string[] } {
  const failures: string[] = [];
  if (o.stopped) failures.push(o.stopped);
  if (o.pageErrors.length > 0) failures.push(`${o.pageErrors.length} uncaught error(s) in the page, first: ${o.pageErrors[0]}`);
  if (o.renderer !== 'webgl') failures.push(`the player ran on ${o.renderer}, not WebGL`);
  const { start, end } = o;
  if (!start || !end) {
    if (!o.stopped) failures.push('the run ended without both readings');
    const rows = [
      '| figure | start | end |',
      '|---|---:|---:|',
      `| JS heap after GC, MB | ${start ? mb(start.memory.jsHeapUsed) : '–'} | – |`,
      `| item changes so far | ${start?.changes ?? '–'} | ${o.final?.changes ?? '–'} (stopped) |`,
    ];
    return { table: rows.join('\n'), failures };
  }
  const gated = (name: string, a: number, b: number, fmt: (x: number) => string) => {
    const g = growth(a, b);
    const ok = g <= MAX_GROWTH;
    if (!ok) failures.push(`${name} grew ${fmtGrowth(g)} (${fmt(a)} → ${fmt(b)}), over ${MAX_GROWTH}%`);
    return `| ${name} | ${fmt(a)} | ${fmt(b)} | ${fmtGrowth(g)} | ${ok ? 'pass' : '**FAIL**'} |`;
  };
  const info = (name: string, a: number | string, b: number | string, g = '') => `| ${name} | ${a} | ${b} | ${g} | |`;
  const infoGrowth = (name: string, a: number, b: number) => info(name, mb(a), mb(b), fmtGrowth(growth(a, b)));
  const rows = [
    `| figure | start | end | growth | ≤ ${MAX_GROWTH}% |`,
    '|---|---:|---:|---:|---|',
    gated('JS heap after GC, MB (median of 3)', start.memory.jsHeapUsed, end.memory.jsHeapUsed, mb),
    gated('textures held, `state().textures`, fewest', start.window.storeMin, end.window.storeMin, String),
    info('textures held, most', start.window.storeMax, end.window.storeMax),
    info('WebGL textures live, fewest', start.window.glMin, end.window.glMin, fmtGrowth(growth(start.window.glMin, end.window.glMin))),
    info('WebGL textures live, most', start.window.glMax, end.window.glMax, fmtGrowth(growth(start.window.glMax, end.window.glMax))),
    infoGrowth('Blink heap after GC, MB', start.memory.embedderHeapUsed, end.memory.embedderHeapUsed),
    infoGrowth('ArrayBuffer backing stores, MB', start.memory.backingStorage, end.memory.backingStorage),
    info('DOM nodes', start.memory.domNodes, end.memory.domNodes),
    info('JS event listeners', start.memory.jsEventListeners, end.memory.jsEventListeners),
    info('item changes so far', start.changes, end.changes),
    info('frames in the reading', start.window.frames, end.window.frames),
    info('fps (median over the reading)', start.fps, end.fps),
  ];
  return { table: rows.join('\n'), failures };
}

async function run(): Promise<Outcome> {
  let server: ServerProcess | null = null;
  let browser: Browser | null = null;
  // A hard stop or a signal exits without the finally below: then the server's own exit hook
  // stops it, and playwright kills the browser it launched.
  try {
    const player = PLAYER_DIR ? `the build in ${PLAYER_DIR}` : `built from ${await playerRevision()}`;
    if (PLAYER_DIR) log(`serving the player from ${PLAYER_DIR}`);
    else {
      log(`building the player (${player})`);
      await buildPlayer();
    }
    log('starting the server');
    server = await startServer();
    const fixture = await seedSoakFixture(await login(server.url, BENCH_ADMIN.username, BENCH_ADMIN.password));
    log(`screen ${fixture.width}×${fixture.height}, rotation repeats every ${fixture.periodS} s of player time (${(fixture.periodS / RATE).toFixed(1)} s real at ×${RATE})`);
    for (const line of fixture.description) log(`  ${line}`);

    browser = await launchChromium([
      '--enable-precise-memory-info',
      '--js-flags=--expose-gc',
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ]);
    const chromium = browser.version();
    const context = await browser.newContext({
      viewport: { width: fixture.width, height: fixture.height },
      deviceScaleFactor: 1,
      ...(PLAYER_DIR ? { permissions: ['local-network-access'] } : {}),
    });
    if (PLAYER_DIR) await servePlayerFrom(context, server.url, PLAYER_DIR);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => {
      pageErrors.push(e.message);
      console.error(`[player page error] ${e.stack ?? e.message}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[player console] ${m.text()}`);
    });
    await installProbe(page);
    const cdp = await context.newCDPSession(page);
    await page.goto(`${server.url}/player/?token=${encodeURIComponent(fixture.token)}&clockRate=${RATE}`);
    await page.waitForFunction(() => Boolean((globalThis as unknown as { zonecast?: ZoneCastHandle }).zonecast?.state().manifestVersion), null, { timeout: 60_000 });
    const renderer = (await playerState(page)).renderer ?? 'none';
    log(`player up on ${renderer} in Chromium ${chromium}; warming up for ${WARMUP} changes and ${WARMUP_S} s`);

    let start: Reading | null = null;
    let end: Reading | null = null;
    const trend: TrendPoint[] = [];
    let stopped: string | null = null;
    try {
      await waitForChanges(page, WARMUP, 'warm-up', WARMUP_S * 1000);
      start = await takeReading(page, cdp, fixture, 'start');
      trend.push({ changes: start.changes, jsHeapUsed: start.memory.jsHeapUsed });
      const target = start.changes + CHANGES;
      for (let next = start.changes + TREND_EVERY; next < target; next += TREND_EVERY) {
        await waitForChanges(page, next, 'soak');
        const m = await readMemory(cdp);
        const at = (await probeSnapshot(page)).changes;
        trend.push({ changes: at, jsHeapUsed: m.jsHeapUsed });
        log(`  heap ${mb(m.jsHeapUsed)} MB at ${at} changes`);
      }
      await waitForChanges(page, target, 'soak');
      end = await takeReading(page, cdp, fixture, 'end');
      trend.push({ changes: end.changes, jsHeapUsed: end.memory.jsHeapUsed });
    } catch (e) {
      if (!(e instanceof Stopped)) throw e;
      stopped = e.message;
      log(stopped);
    }
    const final = await probeSnapshot(page).catch(() => null);
    return { player, fixture, chromium, renderer, start, end, trend, final, pageErrors, stopped };
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  setTimeout(() => {
    console.error(`soak: still running ${LIMIT_MS / 1000 + 30} s after the start, giving up`);
    process.exit(1);
  }, LIMIT_MS + 30_000).unref();

  const machine = describeMachine();
  const date = new Date().toISOString();
  const loadBefore = loadAverage();
  log(`soak:player on ${machine} (load average ${loadBefore})`);
  log(`${CHANGES} item changes after a warm-up of ${WARMUP} changes and ${WARMUP_S} s, clock ×${RATE}, growth limit ${MAX_GROWTH}%`);

  const o = await run();
  const { table, failures } = evaluate(o);
  const byRegion = Object.entries(o.final?.changesByRegion ?? {}).map(([r, n]) => `${r} ${n}`).join(', ');
  const lines: string[] = [];
  if (o.start && o.end) {
    const realS = (o.end.at - o.start.at) / 1000;
    const playerH = (o.end.playerNow - o.start.playerNow) / 3_600_000;
    lines.push(`${o.end.changes - o.start.changes} item changes between the readings in ${realS.toFixed(0)} s real, ${playerH.toFixed(1)} h of player clock.`);
  }
  if (o.trend.length > 1) {
    lines.push(
      `JS heap after GC every ~${TREND_EVERY} changes from the start reading: ${o.trend.map((p) => mb(p.jsHeapUsed)).join(', ')} MB ` +
        `(least-squares trend ${heapSlope(o.trend).toFixed(0)} KB per 1,000 changes).`,
    );
  }
  lines.push(
    `${o.final?.changes ?? '?'} item changes in all (${byRegion}); fps median ${median(fpsSamples)} (min ${fpsSamples.length > 0 ? Math.min(...fpsSamples) : '?'}); ` +
      `WebGL textures created ${o.final?.glCreated ?? '?'}, deleted ${o.final?.glDeleted ?? '?'}; uncaught page errors: ${o.pageErrors.length}.`,
  );
  const summary = lines.join(' ');
  const verdict =
    failures.length === 0
      ? `PASS: neither the JS heap nor the texture count grew by more than ${MAX_GROWTH}% over ${CHANGES} item changes.`
      : `FAIL:\n${failures.map((f) => `- ${f}`).join('\n')}`;
  const load = `1-minute load average ${loadBefore} at the start, ${loadAverage()} at the end`;
  console.log(`\n${table}\n\n${summary}\n\n${verdict}\n\nPlayer ${o.player}. Machine: ${machine}, Chromium ${o.chromium}; ${load}`);

  const doc = [
    '# soak:player — memory over 2,000 item changes',
    '',
    `Run ${date} with \`npm run soak:player\` on: ${machine}; Chromium ${o.chromium} (headless, ${o.renderer} on SwiftShader); ${load}.`,
    '',
    table,
    '',
    summary,
    '',
    verdict,
    '',
    `How: the server runs as a child process with a fresh \`DATA_DIR\`; the soak creates one always-open ${o.fixture.width}×${o.fixture.height} screen through the REST API and opens its player ` +
      `(${o.player}) with \`?clockRate=${RATE}\`. Its regions:`,
    '',
    ...o.fixture.description.map((d) => `- ${d}`),
    '',
    `The rotation repeats every ${o.fixture.periodS} s of player clock (${(o.fixture.periodS / RATE).toFixed(1)} s real). A probe in the page counts an item change ` +
      "whenever a region's (itemId, slotStart) differs from the previous animation frame's, and counts live WebGL textures by wrapping " +
      `\`createTexture\`/\`deleteTexture\`. The start reading follows at least ${WARMUP} changes and ${WARMUP_S} s, so that bounded caches (pixi's text ` +
      "metrics, Blink's shaping, compiled code) have filled and pixi's GC, which runs every 30 s over what has gone unused for 60 s, has run; the end " +
      `reading follows ${CHANGES} more changes. Each reading watches every frame of ${WINDOW_PERIODS} whole periods and keeps the fewest and the most ` +
      'textures seen, then the JS heap as the median of ' +
      `${HEAP_READINGS} readings each after two forced full collections (\`HeapProfiler.collectGarbage\`, \`Runtime.getHeapUsage\`). The gates are the ` +
      "issue's: the JS heap, and `state().textures`, the image textures the player's TextureStore holds (one prefetched for the next slot included), " +
      'taken at its fewest, the floor that a leaked texture would raise (about a third of each period holds no image at all). The WebGL count is ' +
      "reported but not gated: besides images it holds pixi's pool of text textures, which keeps every texture returned to it for reuse and so grows to " +
      'the most texts one frame has held at once, a high-water mark that a slow or uneven frame rate raises late in a run.',
    '',
  ].join('\n');
  await saveResults(RESULTS_FILE, doc, IS_DEFAULT_RUN, log);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error('soak:player failed:', err);
  process.exit(1);
});
