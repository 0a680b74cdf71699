import { io, type Socket } from 'socket.io-client';
import { MANIFEST_SCHEMA_VERSION, SOCKET_PATH, type ClientToServerEvents, type Manifest, type ServerToClientEvents } from '../../content/index.js';
import { ServerClock } from './clock.js';
import { loadIdentity, loadLastManifest, saveLastManifest, type Placement } from './identity.js';
import { ZoneCastRenderer } from './renderer/index.js';
import { isPatternKind } from './renderer/pattern.js';
import type { PlayerState, ZoneCastHandle } from './state.js';

declare global {
  interface Window {
    zonecast: ZoneCastHandle;
  }
}

const url = new URL(location.href);
const canvas = document.getElementById('stage') as HTMLCanvasElement;
const notice = document.getElementById('notice') as HTMLDivElement;
const rate = Number(url.searchParams.get('clockRate') ?? '1');
const clock = new ServerClock(rate > 0 ? rate : 1, Number(url.searchParams.get('clockStart') ?? Date.now()));
// `?pattern=checker`: a calibration pattern instead of content, for aligning the sending card.
const pattern = url.searchParams.get('pattern');
// `?renderer=canvas`: pixi's canvas renderer only, for a PC whose WebGL misdraws.
const preference = url.searchParams.get('renderer') === 'canvas' ? (['canvas'] as const) : undefined;
let renderer: ZoneCastRenderer | null = null;
let creating: Promise<ZoneCastRenderer> | null = null;
let screenId: string | null = null;
let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
let placement: Placement = { x: 0, y: 0 };

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

async function show(m: Manifest): Promise<void> {
  if (m.schemaVersion > MANIFEST_SCHEMA_VERSION) {
    console.warn(`manifest schema ${m.schemaVersion} is newer than ${MANIFEST_SCHEMA_VERSION}; keeping the last good one`);
    return;
  }
  if (!renderer) {
    creating ??= ZoneCastRenderer.create({ canvas, width: m.screen.width, height: m.screen.height, now: () => clock.now(), preference }).then((r) => {
      if (isPatternKind(pattern)) r.showPattern(pattern);
      return r;
    });
    renderer = await creating;
  }
  place(m.screen.width, m.screen.height);
  await renderer.setManifest(m);
  await saveLastManifest(m);
}

function connect(token: string): void {
  socket = io({ path: SOCKET_PATH, auth: { token }, transports: ['websocket'], reconnectionDelay: 1000, reconnectionDelayMax: 30_000, randomizationFactor: 0.5 });
  const s = socket;
  const beat = async () => {
    const sentAt = Date.now();
    try {
      const res = await s.timeout(10_000).emitWithAck('screen:heartbeat', { manifestVersion: renderer?.state().manifestVersion ?? null, clientTime: sentAt });
      if (res.ok) clock.sample(res.data.serverTime, sentAt, Date.now());
    } catch {
      // A missed heartbeat is retried on the next interval.
    }
  };
  s.on('screen:welcome', async (w) => {
    screenId = w.screenId;
    clock.sample(w.serverTime, Date.now(), Date.now());
    void beat();
    say(null);
    const state = renderer?.state();
    if (state?.manifestVersion !== w.manifestVersion && state?.pendingVersion !== w.manifestVersion) {
      const res = await s.timeout(30_000).emitWithAck('manifest:fetch').catch(() => null);
      if (res?.ok) await show(res.data);
    }
  });
  s.on('manifest:changed', (change) => void show(change.manifest));
  s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    if (err.data?.code === 'DEVICE_TOKEN_INVALID') {
      s.disconnect();
      say('设备令牌无效,请联系管理员重新配对\nInvalid device token — ask an administrator to pair this screen again');
    }
  });
  setInterval(() => void beat(), 30_000);
}

window.zonecast = {
  state(): PlayerState {
    const r = renderer?.state();
    return { ...r, screenId, online: socket?.connected ?? false, clockOffsetMs: clock.offset, manifestVersion: r?.manifestVersion ?? null };
  },
};

async function start(): Promise<void> {
  const identity = await loadIdentity(url);
  placement = identity.placement;
  const last = await loadLastManifest();
  if (last) await show(last);
  if (!identity.token) {
    say('本屏幕尚未配对 This screen is not paired yet');
    return;
  }
  const dprQuery = () => matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
  const onDpr = () => {
    const s = renderer?.app.renderer;
    if (s) place(s.width, s.height);
    dprQuery().addEventListener('change', onDpr, { once: true });
  };
  dprQuery().addEventListener('change', onDpr, { once: true });
  window.addEventListener('resize', onDpr);
  connect(identity.token);
}

void start();
