import { createStore, delMany, get, set } from 'idb-keyval';
import { Container, ImageSource, Texture, UPDATE_PRIORITY } from 'pixi.js';
import { ALERT_COLOURS, ALERT_POLICY, alertPresentation, type AlertAck, type AlertSeverity, type AlertShow, type ManifestAsset } from '../../content/index.js';
import { prefetchAssets } from './assets.js';
import { MEDIA_CACHE } from './cache-names.js';
import { AlertView, alertGlyphs } from './renderer/alert-view.js';
import { loadGlyphs } from './renderer/fonts.js';
import type { ZoneCastRenderer } from './renderer/index.js';
import type { AlertState } from './state.js';

// The player's own key-value store (see identity.ts): alerts live next to the manifest.
const store = createStore('zonecast-player', 'kv');
const ALERTS_KEY = 'alerts';
const ACKS_KEY = 'alertAcks';

/** Alerts that share the screen take turns of at least this long (longer when one needs it to be read through once). */
export const ALERT_TURN_MS = 15_000;
/** How long an alert waits for its font subsets and its picture before it shows without what is missing. */
const PREPARE_MS = { glyphs: 4000, image: 5000 } as const;
/** How often unanswered acknowledgements are sent again. */
const ACK_RETRY_MS = 15_000;
/** Acknowledgements kept while offline; the oldest go first past this. */
const MAX_QUEUED_ACKS = 200;

const SEVERITY_RANK: Record<AlertSeverity, number> = { extreme: 0, severe: 1, moderate: 2, minor: 3 };

/** An alert the player holds, with when its first frame was drawn (server-corrected clock). */
interface Held {
  readonly alert: AlertShow;
  displayedAt: number | null;
}

/** The alert on screen: its view, since when it has the screen, and whether a frame with it was rendered. */
interface Shown {
  readonly key: string;
  readonly alertId: string;
  readonly view: AlertView;
  /** From its first rendered frame (null before), so that a banner's pause and a page's time are all seen. */
  since: number | null;
  readonly fit: string;
  readonly image: Texture | null;
  drawn: boolean;
}

const viewKey = (a: Pick<AlertShow, 'alertId' | 'revision'>) => `${a.alertId}@${a.revision}`;

/**
 * The order in which alerts take the screen: takeovers before banners, graver before lesser,
 * newer before older.
 */
export function alertPrecedence(a: AlertShow, b: AlertShow): number {
  const p = (x: AlertShow) => (x.presentation === 'takeover' ? 0 : 1);
  return p(a) - p(b) || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.issuedAt - a.issuedAt || (a.alertId < b.alertId ? -1 : 1);
}

/** The media-cache entry for an alert's picture, so that the verified prefetcher can fetch it. */
function imageAsset(image: NonNullable<AlertShow['image']>): ManifestAsset {
  const ext = /\.(\w+)(?:\?|$)/.exec(image.url)?.[1]?.toLowerCase() ?? '';
  const mime = { webp: 'image/webp', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', avif: 'image/avif' }[ext] ?? 'application/octet-stream';
  return { mediaHash: image.sha256, box: `${image.width}x${image.height}`, sha256: image.sha256, url: image.url, mime, bytes: 0, width: image.width, height: image.height };
}

/** A picture from the verified media cache only: an image that failed its SHA-256 check is never drawn. */
async function loadImage(url: string): Promise<Texture | null> {
  const res = await (await caches.open(MEDIA_CACHE)).match(url);
  if (!res) return null;
  const bitmap = await createImageBitmap(await res.blob());
  // Not through Assets or Texture.from, whose caches would keep it after the alert is gone.
  return new Texture({ source: new ImageSource({ resource: bitmap }) });
}

function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([p, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ms))]);
}

export interface AlertLayerOptions {
  /** The server-corrected clock (epoch ms): alerts leave at their expiresAt by it, offline too. */
  readonly now: () => number;
  /** Sends one acknowledgement; true once the server answered, false to send it again later. */
  readonly send: (ack: AlertAck) => Promise<boolean>;
  /** There are alerts to draw and no renderer is attached yet. */
  readonly needRenderer?: () => void;
}

/**
 * Urgent alerts over everything else: drawn in a container at the top of the renderer's stage,
 * so that they are in the same frame as the content (and in a screenshot of the canvas), and
 * drawn outside opening hours too (the engine keeps rendering its idle screen then). Alerts are
 * kept in IndexedDB, so that they come back after a restart without the server, and leave at
 * their expiry by the corrected clock or on the all clear.
 *
 * Several alerts: takeovers come before banners, and while any takeover is active no banner
 * shows (it waits, and is acknowledged as displayed only once it really is). Within the
 * showing kind, one alert at a time has the screen: a newly arrived one at once, then they take
 * turns of ALERT_TURN_MS, graver and newer first.
 *
 * Acknowledgements ('displayed' after the first rendered frame with the alert; 'received', with
 * the time it arrived, only for an alert not displayed within ALERT_POLICY.receivedAckAfterMs)
 * are queued in IndexedDB until the server answers them.
 */
export class AlertLayer {
  private readonly held = new Map<string, Held>();
  private acks: AlertAck[] = [];
  /** 'received' acknowledgements waiting to see whether 'displayed' comes first, by alert revision. */
  private readonly pendingReceived = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly layer = new Container({ label: 'alerts' });
  private renderer: ZoneCastRenderer | null = null;
  private shown: Shown | null = null;
  /** Views ready to build: the font subsets are in, and the picture is loaded (or given up on). */
  private readonly prepared = new Map<string, { image: Texture | null }>();
  private readonly preparing = new Set<string>();
  private readonly images = new Map<string, Promise<void>>();
  private screen = { timeZone: 'Asia/Shanghai', minFontPx: 16 };
  private saving: Promise<unknown> = Promise.resolve();
  private flushing = false;
  private readonly retry: ReturnType<typeof setInterval>;
  private readonly tick = () => this.frame();
  private readonly rendered = { postrender: () => this.afterRender() };

  constructor(private readonly opts: AlertLayerOptions) {
    this.retry = setInterval(() => void this.flush(), ACK_RETRY_MS);
  }

  /** Alerts held (active, not yet expired). */
  get size(): number {
    return this.held.size;
  }

  /** Brings back the alerts and unanswered acknowledgements of the last run, before any server is reached. */
  async restore(): Promise<void> {
    const [alerts, acks] = await Promise.all([get<Held[]>(ALERTS_KEY, store), get<AlertAck[]>(ACKS_KEY, store)]).catch(() => [undefined, undefined] as const);
    const now = this.opts.now();
    for (const h of alerts ?? []) {
      const mine = this.held.get(h.alert.alertId);
      if (h.alert.expiresAt > now && (!mine || mine.alert.revision < h.alert.revision)) this.held.set(h.alert.alertId, { alert: h.alert, displayedAt: h.displayedAt });
    }
    this.acks = [...(acks ?? []), ...this.acks];
    for (const h of this.held.values()) if (h.alert.image) void this.fetchImage(h.alert.image);
    if (this.held.size > 0) this.opts.needRenderer?.();
  }

  /** Takes an alert from the server: a new one, a newer revision of one held, or a repeat. */
  show(a: AlertShow): void {
    if (!(a.severity in ALERT_COLOURS)) return;
    const alert: AlertShow = a.presentation === 'takeover' || a.presentation === 'banner' ? a : { ...a, presentation: alertPresentation(a.severity) };
    const now = this.opts.now();
    const had = this.held.get(alert.alertId);
    if (had && had.alert.revision > alert.revision) return;
    if (had && had.alert.revision === alert.revision) {
      // The server sends again until it hears 'displayed' (and on every reconnection): answer
      // with where this player is, in case the earlier answer was lost.
      if (had.displayedAt !== null) this.enqueue({ alertId: alert.alertId, revision: alert.revision, stage: 'displayed', at: had.displayedAt });
      else {
        clearTimeout(this.pendingReceived.get(viewKey(alert)));
        this.pendingReceived.delete(viewKey(alert));
        this.enqueue({ alertId: alert.alertId, revision: alert.revision, stage: 'received', at: now });
      }
      return;
    }
    if (alert.expiresAt <= now) return;
    this.held.set(alert.alertId, { alert, displayedAt: null });
    this.persist();
    this.receivedLater(alert, now);
    if (alert.image) void this.fetchImage(alert.image);
    this.prepare(alert);
    if (!this.renderer) this.opts.needRenderer?.();
  }

  /** The all clear: the alert leaves the screen with the next frame. */
  clear(alertId: string): void {
    if (this.held.delete(alertId)) this.persist();
  }

  /** Forgets every alert and acknowledgement (the screen was unpaired). */
  async forget(): Promise<void> {
    this.held.clear();
    this.acks = [];
    for (const timer of this.pendingReceived.values()) clearTimeout(timer);
    this.pendingReceived.clear();
    this.drop();
    for (const p of this.prepared.values()) p.image?.destroy(true);
    this.prepared.clear();
    await this.write(() => delMany([ALERTS_KEY, ACKS_KEY], store));
  }

  /** The screen's time zone and legible size, from its manifest; views are redrawn when they change. */
  setScreen(screen: { timeZone: string; minFontPx: number }): void {
    this.screen = screen;
  }

  /** Draws into this renderer's stage from its next frame on. */
  attach(r: ZoneCastRenderer): void {
    if (this.renderer === r) return;
    this.detach();
    this.renderer = r;
    r.app.stage.addChild(this.layer);
    // After the engine's own frame (NORMAL), before pixi renders (LOW).
    r.app.ticker.add(this.tick, undefined, UPDATE_PRIORITY.LOW + 1);
    r.app.renderer.runners.postrender.add(this.rendered);
  }

  /** Leaves the renderer (before it is destroyed); the alerts stay held. */
  detach(): void {
    const r = this.renderer;
    if (!r) return;
    this.drop();
    r.app.ticker.remove(this.tick);
    r.app.renderer.runners.postrender.remove(this.rendered);
    this.layer.removeFromParent();
    this.renderer = null;
  }

  /** The pictures of held alerts, which the media cache must keep. */
  assets(): ManifestAsset[] {
    return [...this.held.values()].flatMap((h) => (h.alert.image ? [imageAsset(h.alert.image)] : []));
  }

  /** Held alerts in order of precedence, for `window.zonecast.state()`. */
  state(): AlertState[] {
    // Asked between two frames, the answer already follows the clock.
    this.expire(this.opts.now());
    return [...this.held.values()]
      .sort((a, b) => alertPrecedence(a.alert, b.alert))
      .map(({ alert, displayedAt }) => ({
        alertId: alert.alertId,
        revision: alert.revision,
        severity: alert.severity,
        presentation: alert.presentation,
        expiresAt: alert.expiresAt,
        displayedAt,
        showing: this.shown?.key === viewKey(alert) && this.shown.drawn,
      }));
  }

  /** Sends queued acknowledgements in order until one goes unanswered. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let next = this.acks[0]; next; next = this.acks[0]) {
        if (!(await this.opts.send(next))) break;
        this.acks = this.acks.filter((a) => a !== next);
        this.persistAcks();
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Acknowledges 'received' only if the alert is still not displayed ALERT_POLICY.receivedAckAfterMs
   * after it arrived (with the time it arrived); 'displayed' says it arrived as well.
   */
  private receivedLater(alert: AlertShow, arrivedAt: number): void {
    const key = viewKey(alert);
    clearTimeout(this.pendingReceived.get(key));
    this.pendingReceived.set(
      key,
      setTimeout(() => {
        this.pendingReceived.delete(key);
        const h = this.held.get(alert.alertId);
        if (h && h.alert.revision === alert.revision && h.displayedAt === null) this.enqueue({ alertId: alert.alertId, revision: alert.revision, stage: 'received', at: arrivedAt });
      }, ALERT_POLICY.receivedAckAfterMs),
    );
  }

  private enqueue(ack: AlertAck): void {
    const same = (a: AlertAck) => a.alertId === ack.alertId && a.revision === ack.revision && a.stage === ack.stage;
    this.acks = [...this.acks.filter((a) => !same(a)), ack].slice(-MAX_QUEUED_ACKS);
    this.persistAcks();
    void this.flush();
  }

  /** Writes run one after another, so that the last state always wins. */
  private write(op: () => Promise<unknown>): Promise<void> {
    const p = this.saving.then(op).catch(() => undefined);
    this.saving = p;
    return p.then(() => undefined);
  }

  private persist(): void {
    void this.write(() => set(ALERTS_KEY, [...this.held.values()].map((h) => ({ alert: h.alert, displayedAt: h.displayedAt })), store));
  }

  private persistAcks(): void {
    void this.write(() => set(ACKS_KEY, this.acks, store));
  }

  /** Puts an alert's picture into the verified media cache (once per URL). */
  private fetchImage(image: NonNullable<AlertShow['image']>): Promise<void> {
    let p = this.images.get(image.url);
    if (!p) {
      p = prefetchAssets([imageAsset(image)], Date.now() + 60_000).then(
        ({ failed }) => {
          if (failed.size > 0) this.images.delete(image.url);
        },
        () => void this.images.delete(image.url),
      );
      this.images.set(image.url, p);
    }
    return p;
  }

  /** Loads what a view needs; a picture that comes late is put in when it arrives. */
  private prepare(a: AlertShow): void {
    const key = viewKey(a);
    if (this.prepared.has(key) || this.preparing.has(key)) return;
    this.preparing.add(key);
    const isHeld = () => this.held.get(a.alertId)?.alert.revision === a.revision;
    const image = a.image
      ? this.fetchImage(a.image)
          .then(() => loadImage(a.image?.url ?? ''))
          .catch(() => null)
      : Promise.resolve(null);
    void Promise.all([within(loadGlyphs(alertGlyphs(a)).catch(() => undefined), PREPARE_MS.glyphs, undefined), within(image, PREPARE_MS.image, null)]).then(([, texture]) => {
      this.preparing.delete(key);
      if (!isHeld()) return void texture?.destroy(true);
      this.prepared.set(key, { image: texture });
      if (!texture && a.image) {
        void image.then((late) => {
          const entry = this.prepared.get(key);
          if (late && entry && !entry.image && isHeld()) entry.image = late;
          else late?.destroy(true);
        });
      }
    });
  }

  /** Which alert has the screen now (see the class comment), or null. */
  private choose(now: number): Held | null {
    const order = [...this.held.values()].sort((a, b) => alertPrecedence(a.alert, b.alert));
    const top = order[0];
    if (!top) return null;
    const group = order.filter((h) => h.alert.presentation === top.alert.presentation);
    const shown = this.shown;
    const current = shown ? group.find((h) => viewKey(h.alert) === shown.key) : undefined;
    // The one on screen keeps it until a frame with it has been drawn.
    if (current && shown && !shown.drawn) return current;
    const fresh = group.find((h) => h.displayedAt === null);
    if (fresh) return fresh;
    if (!current || !shown) return top;
    const turn = Math.max(ALERT_TURN_MS, shown.view.cycleMs);
    if (group.length === 1 || now - (shown.since ?? now) < turn) return current;
    return group[(group.indexOf(current) + 1) % group.length] ?? top;
  }

  /** Lets alerts go at their expiry by the corrected clock, whether or not the server is there. */
  private expire(now: number): void {
    let expired = false;
    for (const [id, h] of this.held) {
      if (h.alert.expiresAt <= now) {
        this.held.delete(id);
        expired = true;
      }
    }
    if (expired) this.persist();
  }

  private drop(): void {
    this.shown?.view.destroy();
    this.shown = null;
  }

  private frame(): void {
    const r = this.renderer;
    if (!r) return;
    const now = this.opts.now();
    this.expire(now);
    // Whatever the engine added since (a calibration pattern), alerts stay on top.
    const stage = r.app.stage;
    if (stage.children[stage.children.length - 1] !== this.layer) stage.addChild(this.layer);

    const { width, height } = r.app.renderer;
    const fit = `${width}x${height}|${this.screen.timeZone}|${this.screen.minFontPx}`;
    const heldKeys = new Set([...this.held.values()].map((h) => viewKey(h.alert)));
    // A cleared or expired alert goes with this frame, as does a view drawn for another size.
    if (this.shown && (!heldKeys.has(this.shown.key) || this.shown.fit !== fit || this.shown.image !== (this.prepared.get(this.shown.key)?.image ?? null))) {
      const { key, alertId, since } = this.shown;
      this.drop();
      const h = this.held.get(alertId);
      if (h && heldKeys.has(key)) this.build(h, since, fit, width, height);
    }
    const next = this.choose(now);
    if (next && this.shown?.key !== viewKey(next.alert)) {
      // Until the next is ready, the one showing (if still active) stays.
      if (this.prepared.has(viewKey(next.alert))) {
        this.drop();
        this.build(next, null, fit, width, height);
      } else this.prepare(next.alert);
    } else if (!next) this.drop();
    this.shown?.view.update(now, this.shown.since ?? now);
    this.layer.visible = this.shown !== null;

    for (const [key, p] of this.prepared) {
      if (!heldKeys.has(key) && this.shown?.key !== key) {
        p.image?.destroy(true);
        this.prepared.delete(key);
      }
    }
  }

  private build(h: Held, since: number | null, fit: string, width: number, height: number): void {
    const key = viewKey(h.alert);
    const image = this.prepared.get(key)?.image ?? null;
    const view = new AlertView(h.alert, { width, height, timeZone: this.screen.timeZone, minFontPx: this.screen.minFontPx, image });
    this.layer.addChild(view.container);
    this.shown = { key, alertId: h.alert.alertId, view, since, fit, image, drawn: false };
  }

  /** Right after pixi rendered a frame: the first one containing an alert acknowledges it as displayed. */
  private afterRender(): void {
    const s = this.shown;
    if (!s || s.drawn || !this.layer.visible || !this.layer.parent) return;
    const now = this.opts.now();
    s.drawn = true;
    s.since ??= now;
    const h = this.held.get(s.alertId);
    if (!h || viewKey(h.alert) !== s.key || h.displayedAt !== null) return;
    h.displayedAt = now;
    this.persist();
    clearTimeout(this.pendingReceived.get(s.key));
    this.pendingReceived.delete(s.key);
    this.enqueue({ alertId: h.alert.alertId, revision: h.alert.revision, stage: 'displayed', at: h.displayedAt });
  }

  /** Stops the retry timer (the layer is not used again). */
  destroy(): void {
    clearInterval(this.retry);
    for (const timer of this.pendingReceived.values()) clearTimeout(timer);
    this.pendingReceived.clear();
    this.detach();
  }
}
