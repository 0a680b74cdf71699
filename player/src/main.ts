import { io, type Socket } from 'socket.io-client';
import { Workbox } from 'workbox-window';
import {
  IDENTIFY_MS,
  MANIFEST_SCHEMA_VERSION,
  RECONNECT_POLICY,
  SOCKET_PATH,
  legibleCharHeightPx,
  type AlertAck,
  type ClientToServerEvents,
  type Manifest,
  type PairingClaimed,
  type PlayerReport,
  type ScreenCommand,
  type ServerToClientEvents,
} from '../../content/index.js';
import { AlertLayer } from './alerts.js';
import { IdentifyOverlay } from './identify.js';
import { askPersistentStorage, prefetchAssets, pruneAssets, withoutFailedItems } from './assets.js';
import { ServerClock } from './clock.js';
import {
  forgetScreen,
  loadClockOffset,
  loadIdentity,
  loadLastManifest,
  loadPairingSecret,
  savePairedToken,
  saveClockOffset,
  saveLastManifest,
  type Placement,
} from './identity.js';
import { PAIRING_TEXT, startPairing, type PairingSession } from './pairing.js';
import { ZoneCastRenderer } from './renderer/index.js';
import { isPatternKind } from './renderer/pattern.js';
import type { PlayerMode, PlayerState, ZoneCastHandle } from './state.js';

declare global {
  interface Window {
    zonecast: ZoneCastHandle;
  }
}

declare const __ZONECAST_BUILD__: string;

const url = new URL(location.href);
// A new canvas replaces this one when the screen is unpaired (pixi loses the old one's WebGL context).
let canvas = document.getElementById('stage') as HTMLCanvasElement;
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
/** How long `identify` shows the screen's name (shorter in tests with `?identifyMs=`). */
const identifyMs = Number(url.searchParams.get('identifyMs') ?? IDENTIFY_MS);
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
let mode: PlayerMode = 'starting';
/** The device token the screen plays with, while playing. */
let deviceToken: string | null = null;
let pairing: PairingSession | null = null;
let stopScreen: (() => void) | null = null;
/**
 * Bumped when the screen is unpaired: work begun for the old identity (a manifest still
 * downloading, a renderer being created) sees it changed and drops its result.
 */
let generation = 0;

/** Sends an alert acknowledgement; false when it must go again later (offline, no answer, a server fault). */
async function sendAlertAck(ack: AlertAck): Promise<boolean> {
  const s = socket;
  if (!s?.connected) return false;
  try {
    const res = await s.timeout(10_000).emitWithAck('alert:ack', ack);
    // Any other refusal (an alert the server no longer knows) would be refused again.
    return res.ok || res.code !== 'INTERNAL';
  } catch {
    return false;
  }
}

const alerts = new AlertLayer({ now: () => clock.now(), send: sendAlertAck, needRenderer: () => rendererForAlerts() });

/** The screen's rectangle in CSS pixels: the manifest's size at the placement, or the window before one. */
function screenBox(): { left: number; top: number; width: number; height: number } {
  const dpr = window.devicePixelRatio || 1;
  const size = applied?.screen ?? { width: window.innerWidth * dpr - placement.x, height: window.innerHeight * dpr - placement.y };
  return { left: placement.x / dpr, top: placement.y / dpr, width: size.width / dpr, height: size.height / dpr };
}

const identify = new IdentifyOverlay({ durationMs: identifyMs > 0 ? identifyMs : IDENTIFY_MS, box: screenBox });

/** Staff asked this screen to show who it is, or to reload (it restarts from its caches, alerts included). */
function onCommand(cmd: ScreenCommand): void {
  if (screenId !== null && cmd.screenId !== screenId) return;
  if (cmd.command === 'identify') identify.show(cmd);
  else if (cmd.command === 'reload') {
    identify.hide();
    location.reload();
  }
}

function say(text: string | null): void {
  notice.textContent = text ?? '';
  notice.style.whiteSpace = 'pre-line';
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

/** The renderer, created at this size if there is none yet (a manifest's swap resizes it). */
function ensureRenderer(width: number, height: number): Promise<ZoneCastRenderer> {
  if (creating) return creating;
  const p: Promise<ZoneCastRenderer> = ZoneCastRenderer.create({
    canvas,
    width,
    height,
    now: () => clock.now(),
    preference,
    onSwap: (shown) => {
      // Once a manifest is on screen, files that neither it nor the one being prepared needs go;
      // the pictures of alerts still up stay.
      const keep = wanted && wanted.version !== shown.version ? [shown, wanted] : [shown];
      void pruneAssets([...keep, { ...shown, assets: alerts.assets() }]);
    },
  }).then((created) => {
    // A renderer created for an identity since forgotten is destroyed by unpair(), not used.
    if (creating === p) {
      if (isPatternKind(pattern)) created.showPattern(pattern);
      alerts.attach(created);
    }
    return created;
  });
  creating = p;
  return p;
}

/**
 * An alert arrived (or came back from IndexedDB) before any manifest: draw it at once on a
 * renderer the size of the window, which the first manifest then resizes to the screen's.
 */
function rendererForAlerts(): void {
  if (mode !== 'playing' || creating) return;
  const gen = generation;
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(window.innerWidth * dpr) - placement.x);
  const height = Math.max(1, Math.round(window.innerHeight * dpr) - placement.y);
  place(width, height);
  void ensureRenderer(width, height).then((r) => {
    if (gen === generation) renderer ??= r;
  });
}

/** Hands a manifest whose assets are all cached to the renderer, and remembers it; false if the screen was unpaired meanwhile. */
async function apply(m: Manifest): Promise<boolean> {
  const gen = generation;
  let r = renderer;
  if (!r) {
    r = await ensureRenderer(m.screen.width, m.screen.height);
    if (gen !== generation) return false;
    renderer = r;
  }
  alerts.setScreen({ timeZone: m.timeZone, minFontPx: legibleCharHeightPx(m.screen.viewingDistanceM, m.screen.pixelPitchMm, m.screen.mmPerMetre) });
  place(m.screen.width, m.screen.height);
  await r.setManifest(m);
  if (gen !== generation) return false;
  applied = m;
  return true;
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
  const gen = generation;
  wanted = m;
  const { failed } = await prefetchAssets(m.assets, Date.now() + assetDeadlineMs);
  if (wanted !== m || gen !== generation) return;
  const usable = withoutFailedItems(m, new Set(failed.keys()));
  if (failed.size > 0) {
    report({ kind: 'assets-failed', manifestVersion: m.version, failures: [...failed].map(([u, error]) => ({ url: u, error })) });
    setTimeout(() => {
      if (wanted === m && gen === generation) {
        wanted = null;
        void accept(m);
      }
    }, assetRetryMs);
  }
  if ((await apply(usable)) && gen === generation) await saveLastManifest(usable);
}

/** Connects as a paired screen; returns what closes that connection for good. */
function connect(token: string): () => void {
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({ path: SOCKET_PATH, auth: { token }, transports: ['websocket'], forceNew: true, ...RECONNECT_POLICY });
  socket = s;
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
    void alerts.flush();
    if (applied?.version !== w.manifestVersion && wanted?.version !== w.manifestVersion) {
      const res = await s.timeout(30_000).emitWithAck('manifest:fetch').catch(() => null);
      if (res?.ok) await accept(res.data);
    }
  });
  s.on('manifest:changed', (change) => void accept(change.manifest));
  s.on('alert:show', (alert) => alerts.show(alert));
  s.on('alert:clear', (info) => alerts.clear(info.alertId));
  s.on('screen:revoked', () => unpair());
  s.on('screen:command', onCommand);
  const comeBack = (ms: number) =>
    setTimeout(() => {
      if (socket === s && !s.connected) s.connect();
    }, ms);
  s.on('disconnect', (reason) => {
    // A server that says goodbye (an older server's shutdown, a moved screen) is not retried
    // by socket.io; come back after a random pause, so that screens do not return together.
    if (reason === 'io server disconnect') comeBack(1000 + Math.random() * 12_000);
  });
  s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    // Only the server's explicit word unpairs a screen: a network failure or a server that is
    // down leaves it playing from its caches.
    if (err.data?.code === 'DEVICE_TOKEN_INVALID') return unpair();
    // Another refusal (a failure during the handshake) is not retried by socket.io itself.
    if (!s.active) comeBack(5000 + Math.random() * 25_000);
  });
  const beating = setInterval(() => void beat(), 30_000);
  return () => {
    clearInterval(beating);
    s.off();
    s.disconnect();
    if (socket === s) socket = null;
  };
}

let watchingDpr = false;

/** Keeps the canvas on whole device pixels when the window or the display scaling changes. */
function watchDpr(): void {
  if (watchingDpr) return;
  watchingDpr = true;
  const onDpr = () => {
    const s = renderer?.app.renderer;
    if (s) place(s.width, s.height);
    identify.layout();
    matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', onDpr, { once: true });
  };
  onDpr();
  window.addEventListener('resize', onDpr);
}

/** Plays as the screen this token belongs to: the cached manifest first (if any), then the server's. */
function play(token: string): void {
  mode = 'playing';
  deviceToken = token;
  watchDpr();
  stopScreen = connect(token);
}

/** Shows the pairing screen with this player's code and waits for staff to claim it. */
function beginPairing(): void {
  mode = 'pairing';
  const gen = generation;
  void loadPairingSecret().then((secret) => {
    if (mode !== 'pairing' || gen !== generation || pairing) return;
    pairing = startPairing({ secret, clock, placement, onClaimed: (claim) => void paired(claim) });
  });
}

/** Staff claimed the code: keep the token and play at once, without a reload. */
async function paired(claim: PairingClaimed): Promise<void> {
  pairing = null;
  say(`${PAIRING_TEXT.paired.zh}\n${PAIRING_TEXT.paired.en}`);
  try {
    await savePairedToken(claim.deviceToken);
  } catch {
    // Plays with the token in memory; after a restart the server hands out a new one for the kept secret.
  }
  play(claim.deviceToken);
}

/**
 * The server revoked this screen's token (an explicit `screen:revoked`, or a connection refused
 * with DEVICE_TOKEN_INVALID): stop playing, forget the token, the manifest and the media it
 * brought, and show the pairing screen with a fresh code. Nothing else unpairs a screen.
 */
function unpair(): void {
  if (mode !== 'playing') return;
  const revoked = deviceToken;
  generation++;
  stopScreen?.();
  stopScreen = null;
  deviceToken = null;
  screenId = null;
  wanted = null;
  applied = null;
  reports.length = 0;
  identify.hide();
  const old = creating;
  creating = null;
  renderer = null;
  alerts.detach();
  const fresh = document.createElement('canvas');
  fresh.id = canvas.id;
  canvas.replaceWith(fresh);
  canvas = fresh;
  void old?.then((r) => r.destroy()).catch(() => undefined);
  say(null);
  // Alerts are the old identity's too: a screen back at pairing shows none, even after a restart.
  void Promise.all([forgetScreen(revoked), alerts.forget()])
    .then(() => pruneAssets([]))
    .catch(() => undefined);
  beginPairing();
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
    const code = pairing?.code ?? null;
    return {
      ...r,
      mode,
      pairingCode: code?.code ?? null,
      pairingExpiresAt: code?.expiresAt ?? null,
      screenId,
      online: mode === 'pairing' ? (pairing?.online ?? false) : (socket?.connected ?? false),
      clockOffsetMs: clock.offset,
      manifestVersion: r?.manifestVersion ?? null,
      build: __ZONECAST_BUILD__,
      updateWaiting,
      reports: [...reports],
      alerts: alerts.state(),
      identifying: identify.active,
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
  if (!identity.token) return beginPairing();
  // Alerts first: they show even if no manifest was ever kept, and their pictures survive the
  // first swap's pruning.
  await alerts.restore();
  const last = await loadLastManifest();
  if (last) {
    applied = last;
    await apply(last);
  }
  play(identity.token);
  if (alerts.size > 0) rendererForAlerts();
}

void start();
