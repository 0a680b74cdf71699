import { io, type Socket } from 'socket.io-client';
import { Workbox } from 'workbox-window';
import {
  MANIFEST_SCHEMA_VERSION,
  RECONNECT_POLICY,
  SOCKET_PATH,
  type ClientToServerEvents,
  type Manifest,
  type PlayerReport,
  type ServerToClientEvents,
} from '../../content/index.js';
import { askPersistentStorage, prefetchAssets, pruneAssets, withoutFailedItems } from './assets.js';
import { ServerClock } from './clock.js';
import { loadClockOffset, loadIdentity, loadLastManifest, saveClockOffset, saveLastManifest, type Placement } from './identity.js';
import { ZoneCastRenderer } from './renderer/index.js';
import { isPatternKind } from './renderer/pattern.js';
import type { PlayerState, ZoneCastHandle } from './state.js';

declare global {
  interface Window {
    zonecast: ZoneCastHandle;
  }
}

declare const __ZONECAST_BUILD__: string;

const url = new URL(location.href);
const canvas = document.getElementById('stage') as HTMLCanvasElement;
const notice = document.getElementById('notice') as HTMLDivElement;
const rate = Number(url.searchParams.get('clockRate') ?? '1');
const clock = new ServerClock(rate > 0 ? rate : 1, Number(url.searchParams.get('clockStart') ?? Date.now()));
// `?pattern=checker`: a calibration pattern instead of content, for aligning the sending card.
const pattern = url.searchParams.get('pattern');
// `?renderer=canvas`: pixi's canvas renderer only, for a PC whose WebGL misdraws.
const preference = url.searchParams.get('renderer') === 'canvas' ? (['canvas'] as const) : undefined;
/** How long a new manifest may wait for its assets before it is applied without the failing items. */
const assetDeadlineMs = Number(url.searchParams.get('assetDeadline') ?? 120_000);
/** How soon a manifest applied without failing items tries for the full one again (sooner with a short deadline). */
const assetRetryMs = Math.min(30_000, assetDeadlineMs);
let renderer: ZoneCastRenderer | null = null;
let creating: Promise<ZoneCastRenderer> | null = null;
let screenId: string | null = null;
let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
let placement: Placement = { x: 0, y: 0 };
/** The newest manifest the server sent; older ones still preparing give way to it. */
let wanted: Manifest | null = null;
let applied: Manifest | null = null;
const reports: PlayerReport[] = [];
let updateWaiting = false;

function say(text: string | null): void {
  notice.textContent = text ?? '';
  notice.style.display = text ? 'grid' : 'none';
}

/**
 * One canvas pixel per device pixel, whatever the OS display scaling, at the configured offset.
 * Layout rounds lengths to 1/64 CSS px, so at a ratio of 1.25 or 1.5 a box of `37 / 1.25` px
 * lands at 36.99 device px and the browser blends its edges and may drop a row. A transform is
 * not rounded: the canvas is laid out at its size in device pixels (whole CSS px) and scaled
 * down by the ratio, so it lands on whole device pixels.
 */
function place(width: number, height: number): void {
  const dpr = window.devicePixelRatio || 1;
  canvas.style.left = '0px';
  canvas.style.top = '0px';
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.style.transformOrigin = '0 0';
  canvas.style.transform = `scale(${1 / dpr}) translate(${placement.x}px, ${placement.y}px)`;
}

/** Sends a report now, or keeps it until the socket is back. */
function report(r: PlayerReport): void {
  reports.push(r);
  if (reports.length > 20) reports.shift();
  if (socket?.connected) void socket.timeout(10_000).emitWithAck('screen:report', r).catch(() => undefined);
}

/** Hands a manifest whose assets are all cached to the renderer, and remembers it. */
async function apply(m: Manifest): Promise<void> {
  if (!renderer) {
    creating ??= ZoneCastRenderer.create({
      canvas,
      width: m.screen.width,
      height: m.screen.height,
      now: () => clock.now(),
      preference,
      // Once a manifest is on screen, files that neither it nor the one being prepared needs go.
      onSwap: (shown) => void pruneAssets(wanted && wanted.version !== shown.version ? [shown, wanted] : [shown]),
    }).then((r) => {
      if (isPatternKind(pattern)) r.showPattern(pattern);
      return r;
    });
    renderer = await creating;
  }
  place(m.screen.width, m.screen.height);
  await renderer.setManifest(m);
  applied = m;
}

/**
 * Takes a manifest from the server: checks its schema, prefetches and verifies its assets, then
 * applies it. Assets that keep failing do not hold it back past the deadline: it is applied
 * without the items that need them, the failure is reported, and the full one is tried again.
 */
async function accept(m: Manifest): Promise<void> {
  if (m.schemaVersion > MANIFEST_SCHEMA_VERSION) {
    report({ kind: 'schema-mismatch', manifestVersion: m.version, got: m.schemaVersion, supported: MANIFEST_SCHEMA_VERSION });
    return;
  }
  if (wanted?.version === m.version || applied?.version === m.version) return;
  wanted = m;
  const { failed } = await prefetchAssets(m.assets, Date.now() + assetDeadlineMs);
  if (wanted !== m) return;
  const usable = withoutFailedItems(m, new Set(failed.keys()));
  if (failed.size > 0) {
    report({ kind: 'assets-failed', manifestVersion: m.version, failures: [...failed].map(([u, error]) => ({ url: u, error })) });
    setTimeout(() => {
      if (wanted === m) {
        wanted = null;
        void accept(m);
      }
    }, assetRetryMs);
  }
  await apply(usable);
  await saveLastManifest(usable);
}

function connect(token: string): void {
  socket = io({ path: SOCKET_PATH, auth: { token }, transports: ['websocket'], ...RECONNECT_POLICY });
  const s = socket;
  const beat = async () => {
    const sentAt = Date.now();
    try {
      const res = await s.timeout(10_000).emitWithAck('screen:heartbeat', { manifestVersion: applied?.version ?? null, clientTime: sentAt });
      if (res.ok) {
        clock.sample(res.data.serverTime, sentAt, Date.now());
        void saveClockOffset(clock.offset);
      }
    } catch {
      // A missed heartbeat is retried on the next interval.
    }
  };
  s.on('screen:welcome', async (w) => {
    screenId = w.screenId;
    clock.sample(w.serverTime, Date.now(), Date.now());
    void beat();
    say(null);
    for (const r of reports.splice(0)) report(r);
    if (applied?.version !== w.manifestVersion && wanted?.version !== w.manifestVersion) {
      const res = await s.timeout(30_000).emitWithAck('manifest:fetch').catch(() => null);
      if (res?.ok) await accept(res.data);
    }
  });
  s.on('manifest:changed', (change) => void accept(change.manifest));
  s.on('disconnect', (reason) => {
    // A server that says goodbye (an older server's shutdown, a moved screen) is not retried
    // by socket.io; come back after a random pause, so that screens do not return together.
    if (reason === 'io server disconnect') setTimeout(() => s.connect(), 1000 + Math.random() * 12_000);
  });
  s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    if (err.data?.code === 'DEVICE_TOKEN_INVALID') {
      s.disconnect();
      say('设备令牌无效,请联系管理员重新配对\nInvalid device token — ask an administrator to pair this screen again');
    }
  });
  setInterval(() => void beat(), 30_000);
}

/**
 * The service worker keeps the app shell and the verified media for offline starts. A new app
 * version waits until the screen is between items (or closed), then takes over with a reload
 * that starts straight from the cached manifest.
 */
function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  const wb = new Workbox('/player/sw.js', { scope: '/player/' });
  wb.addEventListener('waiting', () => {
    updateWaiting = true;
    const at = renderer?.nextBoundary() ?? Date.now();
    setTimeout(() => {
      wb.addEventListener('controlling', () => location.reload());
      wb.messageSkipWaiting();
    }, Math.max(0, at - clock.now()));
  });
  void wb.register();
  // Long-running screens look for a new app version every hour.
  setInterval(() => void wb.update(), 3_600_000);
}

window.zonecast = {
  state(): PlayerState {
    const r = renderer?.state();
    return {
      ...r,
      screenId,
      online: socket?.connected ?? false,
      clockOffsetMs: clock.offset,
      manifestVersion: r?.manifestVersion ?? null,
      build: __ZONECAST_BUILD__,
      updateWaiting,
      reports: [...reports],
    };
  },
};

async function start(): Promise<void> {
  registerServiceWorker();
  void askPersistentStorage();
  const identity = await loadIdentity(url);
  placement = identity.placement;
  const offset = await loadClockOffset();
  if (offset !== null) clock.seed(offset);
  const last = await loadLastManifest();
  if (last) {
    applied = last;
    await apply(last);
  }
  if (!identity.token) {
    say('本屏幕尚未配对 This screen is not paired yet');
    return;
  }
  const onDpr = () => {
    const s = renderer?.app.renderer;
    if (s) place(s.width, s.height);
    matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', onDpr, { once: true });
  };
  onDpr();
  window.addEventListener('resize', onDpr);
  connect(identity.token);
}

void start();
