import { io, type Socket } from 'socket.io-client';
import {
  PAIRING_POLICY,
  RECONNECT_POLICY,
  SOCKET_PATH,
  type ClientToServerEvents,
  type PairingClaimed,
  type PairingCode,
  type ServerToClientEvents,
} from '../../content/index.js';
import type { ServerClock } from './clock.js';
import type { Placement } from './identity.js';
import { FONT_FAMILY } from './renderer/font-family.js';

/** Every string of the pairing screen, Chinese with English beneath (the player has no i18n library). */
export const PAIRING_TEXT = {
  title: { zh: '配对码', en: 'Pairing code' },
  server: { zh: '服务器地址', en: 'Server address' },
  instruction: { zh: '请在管理后台 → 屏幕配对 中输入此配对码', en: 'Enter this code in the composer under Pair a screen' },
  validFor: { zh: '剩余有效时间', en: 'Valid for' },
  renewing: { zh: '正在获取新的配对码…', en: 'Getting a new code…' },
  connecting: { zh: '正在连接服务器…', en: 'Connecting to the server…' },
  paired: { zh: '配对成功,正在加载节目…', en: 'Paired — loading the programme…' },
} as const;

/*
 * Sizes follow the overlay (a size container), so one stylesheet serves a 768×256 wall and a
 * 1920×1080 one: stacked on ordinary screens, code left and details right on wide strips.
 * Every size is multiplied by --k, which fit() lowers if some address or screen shape
 * still makes the content overflow.
 */
const STYLE = `
.zc-pairing { position: fixed; right: 0; bottom: 0; z-index: 10; container-type: size; --k: 1;
  background: #05080f; color: #f2f5f8; font-family: '${FONT_FAMILY}', sans-serif; overflow: hidden; cursor: none; }
.zc-pairing__body { box-sizing: border-box; width: 100%; height: 100%; overflow: hidden; padding: 4cqh 4cqw;
  display: grid; align-content: space-evenly; justify-items: center; text-align: center; row-gap: 3cqh; }
.zc-pairing__main, .zc-pairing__side { display: grid; justify-items: center; min-width: 0; max-width: 100%; }
.zc-pairing__main { row-gap: 1.5cqh; }
.zc-pairing__side { row-gap: 1cqh; }
.zc-pairing__body div { line-height: 1.3; }
.zc-pairing__title { font-size: calc(var(--k) * min(5.5cqh, 3.4cqw)); color: #9fb3c8; }
.zc-pairing__code { display: flex; column-gap: 0.32em; white-space: nowrap; font-weight: 700; letter-spacing: 0.04em;
  font-variant-numeric: tabular-nums; color: #ffd54f; font-size: calc(var(--k) * min(32cqh, 18cqw)); }
.zc-pairing__body .zc-pairing__code { line-height: 1.05; }
.zc-pairing__status { font-size: calc(var(--k) * min(4.4cqh, 2.8cqw)); color: #9fb3c8; font-variant-numeric: tabular-nums; }
.zc-pairing__label { font-size: calc(var(--k) * min(3.8cqh, 2.4cqw)); color: #9fb3c8; }
.zc-pairing__server { font-size: calc(var(--k) * min(6.5cqh, 3.8cqw)); font-weight: 700; overflow-wrap: anywhere; }
.zc-pairing__zh { font-size: calc(var(--k) * min(4.8cqh, 3cqw)); }
.zc-pairing__en { font-size: calc(var(--k) * min(3.9cqh, 2.5cqw)); color: #c5d1dc; }
.zc-pairing[data-state='offline'] .zc-pairing__code, .zc-pairing[data-state='expired'] .zc-pairing__code { opacity: 0.35; }
@container (min-aspect-ratio: 2/1) {
  .zc-pairing__body { grid-template-columns: auto minmax(0, 1fr); column-gap: 5cqw; align-content: center; align-items: center;
    padding: 6cqh 4cqw; justify-items: start; text-align: left; }
  .zc-pairing__main, .zc-pairing__side { justify-items: start; }
  .zc-pairing__title { font-size: calc(var(--k) * min(9cqh, 3cqw)); }
  .zc-pairing__code { font-size: calc(var(--k) * min(56cqh, 13.5cqw)); }
  .zc-pairing__status { font-size: calc(var(--k) * min(8cqh, 2.4cqw)); }
  .zc-pairing__label { font-size: calc(var(--k) * min(7cqh, 2cqw)); }
  .zc-pairing__server { font-size: calc(var(--k) * min(10cqh, 2.8cqw)); }
  .zc-pairing__zh { font-size: calc(var(--k) * min(8.5cqh, 2.5cqw)); }
  .zc-pairing__en { font-size: calc(var(--k) * min(7cqh, 2.1cqw)); }
}
`;

type ViewState = 'connecting' | 'ready' | 'offline' | 'expired';

function div(className: string, text = '', id?: string): HTMLDivElement {
  const el = document.createElement('div');
  el.className = className;
  el.textContent = text;
  if (id) el.id = id;
  return el;
}

const both = (t: { zh: string; en: string }) => `${t.zh} ${t.en}`;

/** mm:ss (h:mm:ss past an hour) of a positive duration. */
function duration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(hh > 0 ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The pairing screen: a plain DOM overlay, crisp at any size and needing no WebGL before pairing. */
class PairingView {
  private readonly root = div('zc-pairing', '', 'pairing');
  private readonly body = div('zc-pairing__body');
  private readonly code = div('zc-pairing__code', '', 'pairing-code');
  private readonly status = div('zc-pairing__status', '', 'pairing-status');
  private readonly style = document.createElement('style');
  private readonly resize = new ResizeObserver(() => this.fit());
  private readonly onFonts = () => this.fit();
  private shown: { code: string | null; state: ViewState } = { code: null, state: 'connecting' };

  constructor(placement: Placement, serverAddress: string) {
    this.style.textContent = STYLE;
    document.head.append(this.style);
    // The screen's pixel rectangle starts at the placement, so the pairing screen starts there too.
    const dpr = window.devicePixelRatio || 1;
    this.root.style.left = `${placement.x / dpr}px`;
    this.root.style.top = `${placement.y / dpr}px`;
    const main = div('zc-pairing__main');
    main.append(div('zc-pairing__title', both(PAIRING_TEXT.title)), this.code, this.status);
    const side = div('zc-pairing__side');
    side.append(
      div('zc-pairing__label', both(PAIRING_TEXT.server)),
      div('zc-pairing__server', serverAddress, 'pairing-server'),
      div('zc-pairing__zh', PAIRING_TEXT.instruction.zh),
      div('zc-pairing__en', PAIRING_TEXT.instruction.en),
    );
    this.body.append(main, side);
    this.root.append(this.body);
    document.body.append(this.root);
    this.setCode(null);
    this.resize.observe(this.root);
    document.fonts.addEventListener('loadingdone', this.onFonts);
    void document.fonts.load(`700 16px "${FONT_FAMILY}"`, '0123456789').then(this.onFonts, () => undefined);
  }

  /** Shows the code (grouped 3 + 3) and what the screen is waiting for. */
  render(code: PairingCode | null, online: boolean, now: number): void {
    const left = code ? code.expiresAt - now : 0;
    const state: ViewState = !online ? (code ? 'offline' : 'connecting') : !code ? 'connecting' : left > 0 ? 'ready' : 'expired';
    if (code?.code !== this.shown.code) this.setCode(code?.code ?? null);
    this.root.dataset.state = state;
    const text =
      state === 'ready'
        ? `${PAIRING_TEXT.validFor.zh} ${duration(left)} · ${PAIRING_TEXT.validFor.en} ${duration(left)}`
        : both(state === 'expired' ? PAIRING_TEXT.renewing : PAIRING_TEXT.connecting);
    if (this.status.textContent !== text) this.status.textContent = text;
    if (state !== this.shown.state || code?.code !== this.shown.code) {
      this.shown = { code: code?.code ?? null, state };
      this.fit();
    }
  }

  remove(): void {
    this.resize.disconnect();
    document.fonts.removeEventListener('loadingdone', this.onFonts);
    this.root.remove();
    this.style.remove();
  }

  private setCode(code: string | null): void {
    const digits = code ?? '·'.repeat(PAIRING_POLICY.digits);
    const half = Math.ceil(digits.length / 2);
    const a = document.createElement('span');
    a.textContent = digits.slice(0, half);
    const b = document.createElement('span');
    b.textContent = digits.slice(half);
    // The space is for copying and reading aloud; the flex gap does the spacing.
    this.code.replaceChildren(a, ' ', b);
    this.code.dataset.code = code ?? '';
  }

  /** Lowers every size in steps until nothing overflows (a long address, an odd screen shape). */
  private fit(): void {
    let k = 1;
    this.root.style.setProperty('--k', '1');
    const over = () => this.body.scrollHeight > this.body.clientHeight + 1 || this.body.scrollWidth > this.body.clientWidth + 1;
    for (let i = 0; i < 16 && over(); i++) {
      k *= 0.9;
      this.root.style.setProperty('--k', k.toFixed(3));
    }
  }
}

/** A player waiting to be paired: its code on screen and the socket it waits on. */
export interface PairingSession {
  /** The code on screen, null until the server sent one. */
  readonly code: PairingCode | null;
  /** Whether the socket to the server is up. */
  readonly online: boolean;
  /** Closes the socket and removes the pairing screen. */
  stop(): void;
}

export interface PairingOptions {
  /** The player's pairing secret (see loadPairingSecret). */
  readonly secret: string;
  /** Corrected here from the server's health answer, so that the time left is right on a PC with a wrong clock. */
  readonly clock: ServerClock;
  readonly placement: Placement;
  /** Staff claimed the code: the session has stopped, and this is the device token to keep. */
  readonly onClaimed: (claim: PairingClaimed) => void;
}

/**
 * Shows the pairing screen and connects with the pairing secret: the server answers with a code
 * (the same one after a reload or reconnect), renews it when asked in the second half of its
 * life, and pushes the device token once staff claim it.
 */
export function startPairing(opts: PairingOptions): PairingSession {
  const { clock } = opts;
  const view = new PairingView(opts.placement, location.origin);
  const dpr = window.devicePixelRatio || 1;
  // The window in device pixels, for staff to prefill the screen size.
  const viewport = { width: Math.round(window.innerWidth * dpr), height: Math.round(window.innerHeight * dpr) };
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({
    path: SOCKET_PATH,
    auth: { pairingSecret: opts.secret, viewport },
    transports: ['websocket'],
    forceNew: true,
    ...RECONNECT_POLICY,
  });
  let code: PairingCode | null = null;
  let stopped = false;
  let renewTimer: ReturnType<typeof setTimeout> | undefined;

  const render = () => view.render(code, s.connected, clock.now());
  const ticking = setInterval(render, 1000);

  /** Asks for a new code a little after the server would start giving one (half the TTL left), or after `retryMs`. */
  function scheduleRenew(retryMs?: number): void {
    clearTimeout(renewTimer);
    if (!code || stopped) return;
    const due = code.expiresAt - PAIRING_POLICY.codeTtlMs / 2 + 2000 - clock.now();
    renewTimer = setTimeout(() => void renew(), retryMs ?? Math.max(1000, due));
  }

  async function renew(): Promise<void> {
    // Offline, the next connection brings the current code and schedules again.
    if (stopped || !s.connected) return;
    const before = code;
    const res = await s.timeout(10_000).emitWithAck('pairing:renew').catch(() => null);
    if (stopped) return;
    if (res?.ok) {
      code = res.data;
      render();
      // Unchanged: this clock is ahead of the server's; ask again in a minute.
      scheduleRenew(res.data.expiresAt === before?.expiresAt ? 60_000 : undefined);
    } else if (res?.code === 'PAIRING_CODE_INVALID') {
      // The server no longer knows this pairing: a new handshake with the same secret opens one.
      s.disconnect().connect();
    } else {
      scheduleRenew(30_000);
    }
  }

  /** One clock sample from the server's health answer (pairing sockets have no heartbeat). */
  async function sampleClock(): Promise<void> {
    const sentAt = Date.now();
    try {
      const res = await fetch('/api/health', { cache: 'no-store' });
      const body = (await res.json()) as { time?: unknown };
      if (typeof body.time === 'number') clock.sample(body.time, sentAt, Date.now());
    } catch {
      // The local clock (or a remembered offset) stands in until the next connection.
    }
  }

  const retryLater = () =>
    setTimeout(() => {
      if (!stopped && !s.connected) s.connect();
    }, 5000 + Math.random() * 10_000);

  s.on('connect', () => {
    void sampleClock().then(render);
    render();
  });
  s.on('pairing:code', (c) => {
    code = c;
    render();
    scheduleRenew();
  });
  s.on('pairing:claimed', (claim) => {
    stop();
    opts.onClaimed(claim);
  });
  s.on('disconnect', (reason) => {
    render();
    if (reason === 'io server disconnect') retryLater();
  });
  s.on('connect_error', () => {
    render();
    // A refusal by the server (not a network failure) is not retried by socket.io itself.
    if (!s.active) retryLater();
  });

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(ticking);
    clearTimeout(renewTimer);
    s.off();
    s.disconnect();
    view.remove();
  }

  render();
  return {
    get code() {
      return code;
    },
    get online() {
      return s.connected;
    },
    stop,
  };
}
