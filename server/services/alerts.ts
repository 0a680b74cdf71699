import { randomBytes } from 'node:crypto';
import { Compile } from 'typebox/compile';
import {
  ALERT_POLICY,
  AlertAckSchema,
  AlertInputSchema,
  alertPresentation,
  alertStatus,
  ancestry,
  hasPermission,
  inSubtree,
  mediaUrl,
  rooms,
  type Alert,
  type AlertAck,
  type AlertInput,
  type AlertShow,
  type AuditActor,
  type Delivery,
  type ErrorCode,
  type Media,
  type User,
  type Zone,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { MediaService } from './media.js';
import type { IoServer } from './realtime.js';
import type { Data, StoredScreen, Store } from './store.js';

/**
 * Urgent alerts (紧急插播): what the composer and the CAP ingest call. Every change is one store
 * write (alert, delivery board, audit entry), followed by one emit to the target zones' rooms.
 */
export interface AlertService {
  create(input: AlertInput, opts: { actor: AuditActor; source: 'composer' | 'cap'; capRef: { sender: string; identifier: string } | null }): Promise<Alert>;
  /** Revision + 1, re-pushed to the targets; new target screens get deliveries, every delivery starts over. */
  amend(alertId: string, input: AlertInput, actor: AuditActor): Promise<Alert>;
  /** The all clear. */
  clear(alertId: string, actor: AuditActor): Promise<Alert>;
  findByCapRef(sender: string, identifier: string): Alert | undefined;
  /** What a (re)connecting screen must show. */
  activeFor(screenId: string, now?: number): AlertShow[];
  /** The delivery board, with acknowledgements that arrived but are not yet on disk. */
  deliveries(alertId: string): Delivery[];
  /** Re-emits to screens whose nextRetryAt has passed; idempotent; resolves with how many it re-sent to. */
  retryDue(now?: number): Promise<number>;
}

/** What the socket layer needs besides: acknowledgements, the send on connect, and shutdown. */
export interface AlertRuntime extends AlertService {
  /**
   * Records a player's acknowledgement at once (in memory, with its arrival time) and resolves
   * once it is durable, in a batch with others. Throws NOT_FOUND for an alert that is not this
   * screen's; an acknowledgement of an earlier revision resolves without changing anything.
   */
  recordAck(screenId: string, ack: unknown): Promise<void>;
  /** For a screen that just connected: the alerts to show (each counted as an attempt) and the ids to drop. */
  onConnect(screenId: string, now?: number): { show: AlertShow[]; clear: string[] };
  /** Writes what is still waiting in the acknowledgement batch. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

type Logger = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };

/** Acknowledgements and attempts are written together, at most this long after they arrive… */
export const ACK_BATCH_MS = 100;
/** …or as soon as this many are waiting. */
export const ACK_BATCH_MAX = 500;

/** A change to one delivery that waits in memory for the next batched write. */
type Update =
  | { readonly kind: 'ack'; readonly revision: number; readonly stage: AlertAck['stage']; readonly arrivedAt: number; readonly frameAt: number }
  | { readonly kind: 'attempt'; readonly revision: number; readonly at: number };

interface Pending {
  readonly alertId: string;
  readonly screenId: string;
  readonly zoneId: string;
  readonly update: Update;
}

interface Batch {
  readonly items: Pending[];
  readonly waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

const inputValidator = Compile(AlertInputSchema);
const ackValidator = Compile(AlertAckSchema);
const iso = (ms: number) => new Date(ms).toISOString();
const keyOf = (alertId: string, screenId: string) => `${alertId}\u0000${screenId}`;
/** Player clocks are trusted for the frame time, but not beyond what a Date can hold. */
const MAX_EPOCH_MS = 8.64e15;

/** A screen's place on a board before anything was sent to it. */
function blankDelivery(alertId: string, screenId: string, zoneId: string): Delivery {
  return { alertId, screenId, zoneId, state: 'pending', attempts: 0, lastAttemptAt: null, deliveredAt: null, displayedAt: null, frameAt: null, nextRetryAt: null };
}

/**
 * What an attempt or an acknowledgement makes of a delivery; the same object when nothing
 * changes. `displayed` never goes back; an acknowledgement flips `unreachable` too.
 */
export function applyUpdate(d: Delivery, u: Update): Delivery {
  if (u.kind === 'attempt') {
    const displayed = d.state === 'displayed';
    return {
      ...d,
      // A screen that connects is reachable again; it gets a fresh retry interval to answer.
      state: d.state === 'unreachable' ? 'pending' : d.state,
      attempts: d.attempts + 1,
      lastAttemptAt: iso(u.at),
      nextRetryAt: displayed ? null : iso(u.at + ALERT_POLICY.retryEveryMs),
    };
  }
  const arrived = iso(u.arrivedAt);
  if (u.stage === 'received') {
    if (d.state === 'delivered' || d.state === 'displayed') return d;
    return { ...d, state: 'delivered', deliveredAt: d.deliveredAt ?? arrived };
  }
  if (d.state === 'displayed') return d;
  return { ...d, state: 'displayed', deliveredAt: d.deliveredAt ?? arrived, displayedAt: arrived, frameAt: iso(u.frameAt), nextRetryAt: null };
}

const zoneMap = (data: Readonly<Data>): ReadonlyMap<string, Zone> => new Map(data.zones.map((z) => [z.id, z]));

/** Every screen in the targets' subtrees, once each. */
export function targetScreens(data: Readonly<Data>, targetZoneIds: readonly string[]): StoredScreen[] {
  const zones = zoneMap(data);
  const targets = new Set(targetZoneIds);
  return data.screens.filter((s) => ancestry(s.zoneId, zones).some((z) => targets.has(z.id)));
}

/** The deepest zone containing every target: where the alert's audit entry is filed (null across cities). */
function commonZone(data: Readonly<Data>, targetZoneIds: readonly string[]): string | null {
  const zones = zoneMap(data);
  const [first, ...rest] = targetZoneIds.map((id) => ancestry(id, zones).map((z) => z.id));
  if (!first) return null;
  return first.find((id) => rest.every((path) => path.includes(id))) ?? null;
}

/**
 * Why `user` may not watch an alert's delivery board (its API or socket), or null: staff who
 * read, acting in at least one of the alert's target zones.
 */
export function boardDenial(user: Pick<User, 'role' | 'zoneId' | 'disabled'> | undefined, alert: Alert | undefined, data: Readonly<Data>): ErrorCode | null {
  if (!user || !hasPermission(user, 'read')) return 'FORBIDDEN_ROLE';
  if (!alert) return 'NOT_FOUND';
  const zones = zoneMap(data);
  return alert.targetZoneIds.some((z) => inSubtree(user, z, zones)) ? null : 'FORBIDDEN_SCOPE';
}

/** The image for a box: its rendition when one was made, else the largest rendition, else the original. */
function imageFor(media: Media | undefined, box: { width: number; height: number } | null): AlertShow['image'] {
  if (!media) return null;
  const exact = box ? media.renditions.find((r) => r.box === `${box.width}x${box.height}`) : undefined;
  // Renditions are WebP, which every supported browser draws; an original may be TIFF or HEIC.
  const r = exact ?? [...media.renditions].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  if (r) return { url: mediaUrl(media.hash, r.file), sha256: r.sha256, width: r.width, height: r.height };
  return { url: mediaUrl(media.hash, media.originalFile), sha256: media.hash, width: media.width, height: media.height };
}

/** What a player gets for `alert`, with its image fitted to `box` (a screen's size). */
export function alertShow(alert: Alert, media: Media | undefined, box: { width: number; height: number } | null): AlertShow {
  return {
    alertId: alert.id,
    severity: alert.severity,
    presentation: alertPresentation(alert.severity),
    title: alert.title,
    text: alert.text,
    image: alert.mediaHash ? imageFor(media, box) : null,
    // The time of this revision: an amendment is a new issue of the same alert.
    issuedAt: Date.parse(alert.updatedAt),
    expiresAt: Date.parse(alert.expiresAt),
    revision: alert.revision,
  };
}

/** The largest of the target screens: one room emit carries one image, fitted to it. */
function largest(screens: readonly StoredScreen[]): { width: number; height: number } | null {
  let best: StoredScreen | undefined;
  for (const s of screens) if (!best || s.width * s.height > best.width * best.height) best = s;
  return best ? { width: best.width, height: best.height } : null;
}

/** The input's own fields, copied: what the alert stores of it. */
function fieldsOf(input: AlertInput): AlertInput {
  const { severity, title, text, mediaHash, targetZoneIds, ttlMinutes } = input;
  return { severity, title, text, mediaHash, targetZoneIds: [...targetZoneIds], ttlMinutes };
}

function checkInput(data: Readonly<Data>, input: AlertInput): void {
  if (!inputValidator.Check(input)) {
    const first = inputValidator.Errors(input)[0];
    throw new AppError('VALIDATION_FAILED', first ? `${first.instancePath || '/'} ${first.message}` : 'alert');
  }
  const zones = zoneMap(data);
  for (const id of input.targetZoneIds) if (!zones.has(id)) throw new AppError('REFERENCE_MISSING', `zones/${id}`);
  if (input.mediaHash !== null) {
    const m = data.media.find((x) => x.hash === input.mediaHash);
    if (!m) throw new AppError('REFERENCE_MISSING', `media/${input.mediaHash}`);
    if (!m.mime.startsWith('image/')) throw new AppError('ALERT_IMAGE_INVALID', m.mime);
  }
}

/** Creates the alert service: store-backed state, batched acknowledgements, one room emit per change. */
export function createAlerts(deps: { store: Store; media: MediaService; io: () => IoServer; log: Logger }): AlertRuntime {
  const { store, media, log } = deps;

  // Indexes over the committed snapshot, rebuilt when it changes (each write makes a new one).
  let indexed: Readonly<Data> | null = null;
  let alertById = new Map<string, Alert>();
  let deliveryByKey = new Map<string, Delivery>();
  let byAlert = new Map<string, Delivery[]>();
  let zones: ReadonlyMap<string, Zone> = new Map();
  let screenById = new Map<string, StoredScreen>();
  // The earliest nextRetryAt (ISO strings of one format sort as their instants do).
  let nextDue: string | null = null;
  function index(): Readonly<Data> {
    const data = store.read();
    if (data === indexed) return data;
    alertById = new Map(data.alerts.map((a) => [a.id, a]));
    zones = zoneMap(data);
    screenById = new Map(data.screens.map((s) => [s.id, s]));
    deliveryByKey = new Map();
    byAlert = new Map();
    nextDue = null;
    for (const d of data.deliveries) {
      deliveryByKey.set(keyOf(d.alertId, d.screenId), d);
      const list = byAlert.get(d.alertId);
      if (list) list.push(d);
      else byAlert.set(d.alertId, [d]);
      if (d.nextRetryAt !== null && (nextDue === null || d.nextRetryAt < nextDue)) nextDue = d.nextRetryAt;
    }
    indexed = data;
    return data;
  }

  // Changes that arrived but are not yet durable, per delivery, in order. The board shows them
  // at once; the store gets them in the next batch. Nothing here is needed for correctness
  // after a crash: a player is answered only once its acknowledgement is on disk, and re-sends.
  const unsaved = new Map<string, Pending[]>();
  let batch: Batch | null = null;
  let timer: NodeJS.Timeout | null = null;
  let inflight: Promise<void> | null = null;

  /** A delivery as the board shows it: the committed one with the changes still waiting. */
  function view(alert: Alert, screenId: string): Delivery | undefined {
    const key = keyOf(alert.id, screenId);
    let d = deliveryByKey.get(key);
    for (const p of unsaved.get(key) ?? []) {
      if (p.update.revision === alert.revision) d = applyUpdate(d ?? blankDelivery(p.alertId, p.screenId, p.zoneId), p.update);
    }
    return d;
  }

  function enqueue(p: Pending): Promise<void> {
    const key = keyOf(p.alertId, p.screenId);
    const list = unsaved.get(key);
    if (list) list.push(p);
    else unsaved.set(key, [p]);
    const b = (batch ??= { items: [], waiters: [] });
    b.items.push(p);
    const done = new Promise<void>((resolve, reject) => b.waiters.push({ resolve, reject }));
    if (b.items.length >= ACK_BATCH_MAX) kick();
    else timer ??= setTimeout(kick, ACK_BATCH_MS);
    return done;
  }

  /**
   * Starts writing the waiting batch unless a write is already under way: then the batch keeps
   * growing and goes out as soon as that write is done (a group commit), so a burst of
   * acknowledgements costs a few writes, not one per ACK_BATCH_MAX.
   */
  function kick(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (inflight || !batch) return;
    const b = batch;
    batch = null;
    inflight = writeBatch(b).finally(() => {
      inflight = null;
      if (!batch) return;
      if (batch.items.length >= ACK_BATCH_MAX) kick();
      else timer ??= setTimeout(kick, ACK_BATCH_MS);
    });
  }

  async function writeBatch(b: Batch): Promise<void> {
    try {
      await store.write((draft) => commitBatch(draft, b.items));
      for (const w of b.waiters) w.resolve();
    } catch (err) {
      log.error({ err, size: b.items.length }, 'alert acknowledgement batch not saved');
      for (const w of b.waiters) w.reject(err);
    } finally {
      // Durable now (or lost, and the players re-send): the board reads the store again.
      for (const item of b.items) {
        const key = keyOf(item.alertId, item.screenId);
        const list = unsaved.get(key);
        const i = list?.indexOf(item) ?? -1;
        if (list && i >= 0) list.splice(i, 1);
        if (list?.length === 0) unsaved.delete(key);
      }
    }
  }

  /** Writes everything waiting, now. */
  async function flush(): Promise<void> {
    while (batch || inflight) {
      kick();
      await inflight;
    }
  }

  /** Applies a batch on the draft: one write for many acknowledgements and attempts. */
  function commitBatch(draft: Data, items: readonly Pending[]): void {
    const alerts = new Map(draft.alerts.map((a) => [a.id, a]));
    const at = new Map<string, number>();
    draft.deliveries.forEach((d, i) => at.set(keyOf(d.alertId, d.screenId), i));
    let targeted: ((alert: Alert, screenId: string) => boolean) | null = null;
    for (const p of items) {
      const alert = alerts.get(p.alertId);
      // Meant for an earlier revision, which an amendment has replaced.
      if (!alert || alert.revision !== p.update.revision) continue;
      const key = keyOf(p.alertId, p.screenId);
      const i = at.get(key);
      if (i === undefined) {
        // A screen paired into a target zone after the alert went out; not one an amendment dropped.
        targeted ??= (() => {
          const zones = zoneMap(draft);
          const screens = new Map(draft.screens.map((s) => [s.id, s]));
          return (a: Alert, screenId: string) => {
            const s = screens.get(screenId);
            return s !== undefined && ancestry(s.zoneId, zones).some((z) => a.targetZoneIds.includes(z.id));
          };
        })();
        if (!targeted(alert, p.screenId)) continue;
        at.set(key, draft.deliveries.push(applyUpdate(blankDelivery(p.alertId, p.screenId, p.zoneId), p.update)) - 1);
      } else {
        const before = draft.deliveries[i] as Delivery;
        draft.deliveries[i] = applyUpdate(before, p.update);
      }
    }
  }

  function emitDeliveries(list: readonly Delivery[]): void {
    const io = deps.io();
    for (const d of list) io.to(rooms.alert(d.alertId)).emit('alert:delivery', d);
  }

  /** Makes sure the image has a rendition for every target screen size before it is announced. */
  async function prepareImage(hash: string | null, screens: readonly StoredScreen[]): Promise<void> {
    if (hash === null) return;
    const sizes = new Map(screens.map((s) => [`${s.width}x${s.height}`, s]));
    await Promise.all(
      [...sizes.values()].map((s) =>
        media.assetFor(hash, s.width, s.height).catch((err: unknown) => log.warn({ err, hash, width: s.width, height: s.height }, 'alert image rendition failed; sending another size')),
      ),
    );
  }

  const mediaOf = (data: Readonly<Data>, hash: string | null) => (hash === null ? undefined : data.media.find((m) => m.hash === hash));

  /** The one payload of a room emit: the image fitted to the largest target screen. */
  function roomShow(data: Readonly<Data>, alert: Alert): AlertShow {
    return alertShow(alert, mediaOf(data, alert.mediaHash), largest(targetScreens(data, alert.targetZoneIds)));
  }

  /** A delivery sent now: the first attempt. */
  function sent(alert: Alert, s: StoredScreen, now: number): Delivery {
    return applyUpdate(blankDelivery(alert.id, s.id, s.zoneId), { kind: 'attempt', revision: alert.revision, at: now });
  }

  function findActive(data: Readonly<Data>, alertId: string, now: number): Alert {
    const alert = data.alerts.find((a) => a.id === alertId);
    if (!alert) throw new AppError('NOT_FOUND', `alerts/${alertId}`);
    if (alertStatus(alert, now) !== 'active') throw new AppError('ALERT_NOT_ACTIVE', `${alertId} is ${alertStatus(alert, now)}`);
    return alert;
  }

  const actorName = (actor: AuditActor) => actor.userId ?? actor.kind;

  /** The alerts a screen must show at `now`, and the unexpired ones it must not. */
  function forScreen(screenId: string, now: number): { show: { alert: Alert; show: AlertShow; zoneId: string }[]; clear: string[] } {
    const data = index();
    const screen = screenById.get(screenId);
    if (!screen) return { show: [], clear: [] };
    const path = new Set(ancestry(screen.zoneId, zones).map((z) => z.id));
    const show: { alert: Alert; show: AlertShow; zoneId: string }[] = [];
    const clear: string[] = [];
    for (const alert of data.alerts) {
      // Players drop an expired alert by themselves, from expiresAt.
      if (Date.parse(alert.expiresAt) <= now) continue;
      const aimed = alert.targetZoneIds.some((z) => path.has(z));
      if (alertStatus(alert, now) === 'active' && aimed) {
        show.push({ alert, show: alertShow(alert, mediaOf(data, alert.mediaHash), screen), zoneId: screen.zoneId });
      } else if (aimed || alert.revision > 1) {
        // Cleared, or amended away from here (an earlier revision may have aimed here), while the
        // player was away and may still show it. Unknown ids are ignored by the player.
        clear.push(alert.id);
      }
    }
    return { show, clear };
  }

  return {
    async create(input, opts) {
      checkInput(store.read(), input);
      await prepareImage(input.mediaHash, targetScreens(store.read(), input.targetZoneIds));
      const { alert, data } = await store.write((draft) => {
        checkInput(draft, input);
        const { capRef } = opts;
        if (capRef && draft.alerts.some((a) => a.capRef?.sender === capRef.sender && a.capRef.identifier === capRef.identifier)) {
          throw new AppError('ALERT_DUPLICATE', `${capRef.sender} ${capRef.identifier}`);
        }
        const now = Date.now();
        const alert: Alert = {
          id: `alr-${randomBytes(6).toString('hex')}`,
          ...fieldsOf(input),
          source: opts.source,
          capRef: capRef ? { sender: capRef.sender, identifier: capRef.identifier } : null,
          revision: 1,
          createdBy: actorName(opts.actor),
          createdAt: iso(now),
          updatedAt: iso(now),
          expiresAt: iso(now + input.ttlMinutes * 60_000),
          clearedAt: null,
          clearedBy: null,
        };
        const screens = targetScreens(draft, alert.targetZoneIds);
        draft.alerts.push(alert);
        for (const s of screens) draft.deliveries.push(sent(alert, s, now));
        recordAudit(draft, {
          actor: opts.actor,
          action: 'alert.create',
          entity: 'alert',
          entityId: alert.id,
          zoneId: commonZone(draft, alert.targetZoneIds),
          after: alert,
          detail: `${screens.length} screens${capRef ? `; CAP ${capRef.sender} ${capRef.identifier}` : ''}`,
        });
        return { alert, data: draft };
      });
      // One emit for every target screen: a screen sits in the room of each zone above it.
      deps.io().to(alert.targetZoneIds.map(rooms.zone)).emit('alert:show', roomShow(data, alert));
      return alert;
    },

    async amend(alertId, input, actor) {
      checkInput(store.read(), input);
      findActive(store.read(), alertId, Date.now());
      await prepareImage(input.mediaHash, targetScreens(store.read(), input.targetZoneIds));
      const { alert, dropped, board, data } = await store.write((draft) => {
        checkInput(draft, input);
        const now = Date.now();
        const current = findActive(draft, alertId, now);
        const before = structuredClone(current);
        const alert: Alert = {
          ...current,
          ...fieldsOf(input),
          revision: current.revision + 1,
          updatedAt: iso(now),
          // An amendment is a new issue: its time to live runs from now.
          expiresAt: iso(now + input.ttlMinutes * 60_000),
        };
        draft.alerts[draft.alerts.indexOf(current)] = alert;
        const screens = new Map(targetScreens(draft, alert.targetZoneIds).map((s) => [s.id, s]));
        // Every target starts over: what a screen displayed was the earlier revision.
        const dropped = draft.deliveries.filter((d) => d.alertId === alertId && !screens.has(d.screenId)).map((d) => d.screenId);
        const board = [...screens.values()].map((s) => sent(alert, s, now));
        draft.deliveries = [...draft.deliveries.filter((d) => d.alertId !== alertId), ...board];
        recordAudit(draft, {
          actor,
          action: 'alert.amend',
          entity: 'alert',
          entityId: alertId,
          zoneId: commonZone(draft, alert.targetZoneIds),
          before,
          after: alert,
          detail: `revision ${alert.revision}; ${board.length} screens${dropped.length > 0 ? `; ${dropped.length} no longer targeted` : ''}`,
        });
        return { alert, dropped, board, data: draft };
      });
      const io = deps.io();
      io.to(alert.targetZoneIds.map(rooms.zone)).emit('alert:show', roomShow(data, alert));
      if (dropped.length > 0) io.to(dropped.map(rooms.screen)).emit('alert:clear', { alertId });
      emitDeliveries(board);
      return alert;
    },

    async clear(alertId, actor) {
      const alert = await store.write((draft) => {
        const now = Date.now();
        const current = findActive(draft, alertId, now);
        const before = structuredClone(current);
        const alert: Alert = { ...current, clearedAt: iso(now), clearedBy: actorName(actor), updatedAt: iso(now) };
        draft.alerts[draft.alerts.indexOf(current)] = alert;
        for (const d of draft.deliveries) if (d.alertId === alertId) d.nextRetryAt = null;
        recordAudit(draft, { actor, action: 'alert.clear', entity: 'alert', entityId: alertId, zoneId: commonZone(draft, alert.targetZoneIds), before, after: alert, detail: 'all clear' });
        return alert;
      });
      deps.io().to(alert.targetZoneIds.map(rooms.zone)).emit('alert:clear', { alertId });
      return alert;
    },

    findByCapRef(sender, identifier) {
      return store.read().alerts.find((a) => a.capRef?.sender === sender && a.capRef.identifier === identifier);
    },

    activeFor(screenId, now = Date.now()) {
      return forScreen(screenId, now).show.map((s) => s.show);
    },

    deliveries(alertId) {
      index();
      const alert = alertById.get(alertId);
      if (!alert) return [];
      const board = (byAlert.get(alertId) ?? []).map((d) => (unsaved.has(keyOf(alertId, d.screenId)) ? (view(alert, d.screenId) ?? d) : d));
      // Screens paired after the alert went out, whose first record is still in memory.
      for (const [key, list] of unsaved) {
        const first = list[0];
        if (!first || first.alertId !== alertId || deliveryByKey.has(key)) continue;
        const d = view(alert, first.screenId);
        if (d) board.push(d);
      }
      return board;
    },

    async retryDue(now = Date.now()) {
      index();
      // Most runs find nothing due: they should not write the store.
      if (nextDue === null || Date.parse(nextDue) > now) return 0;
      const { resend, changed, data } = await store.write((draft) => {
        const alerts = new Map(draft.alerts.map((a) => [a.id, a]));
        const resend = new Map<string, string[]>();
        const changed: Delivery[] = [];
        for (const d of draft.deliveries) {
          if (d.nextRetryAt === null || Date.parse(d.nextRetryAt) > now) continue;
          const alert = alerts.get(d.alertId);
          if (!alert || alertStatus(alert, now) !== 'active' || d.state === 'displayed') {
            d.nextRetryAt = null;
            continue;
          }
          // A 'displayed' that arrived but waits for its batch wins over a retry.
          const waiting = unsaved.get(keyOf(d.alertId, d.screenId)) ?? [];
          if (waiting.some((p) => p.update.kind === 'ack' && p.update.stage === 'displayed' && p.update.revision === alert.revision)) continue;
          if (d.attempts >= ALERT_POLICY.attemptsBeforeUnreachable) {
            d.state = 'unreachable';
            d.nextRetryAt = null;
          } else {
            d.attempts += 1;
            d.lastAttemptAt = iso(now);
            d.nextRetryAt = iso(now + ALERT_POLICY.retryEveryMs);
            const list = resend.get(d.alertId);
            if (list) list.push(d.screenId);
            else resend.set(d.alertId, [d.screenId]);
          }
          changed.push(d);
        }
        return { resend, changed, data: draft };
      });
      const io = deps.io();
      let count = 0;
      for (const [alertId, screenIds] of resend) {
        const alert = data.alerts.find((a) => a.id === alertId);
        if (!alert) continue;
        // One emit per alert, to the rooms of the screens that are due.
        io.to(screenIds.map(rooms.screen)).emit('alert:show', roomShow(data, alert));
        count += screenIds.length;
      }
      emitDeliveries(changed);
      return count;
    },

    async recordAck(screenId, raw) {
      const arrivedAt = Date.now();
      if (!ackValidator.Check(raw) || Math.abs(raw.at) > MAX_EPOCH_MS) throw new AppError('VALIDATION_FAILED', 'alert:ack');
      const ack = raw;
      index();
      const alert = alertById.get(ack.alertId);
      if (!alert) throw new AppError('NOT_FOUND', `alerts/${ack.alertId}`);
      const current = view(alert, screenId);
      let zoneId = current?.zoneId;
      if (zoneId === undefined) {
        // No delivery yet: a screen paired into a target zone after the alert went out.
        const screen = screenById.get(screenId);
        if (!screen || !ancestry(screen.zoneId, zones).some((z) => alert.targetZoneIds.includes(z.id))) {
          throw new AppError('NOT_FOUND', `alerts/${ack.alertId} for ${screenId}`);
        }
        zoneId = screen.zoneId;
      }
      // An earlier revision's acknowledgement: the current one was sent and will be answered.
      if (ack.revision !== alert.revision) return;
      const update: Update = { kind: 'ack', revision: ack.revision, stage: ack.stage, arrivedAt, frameAt: ack.at };
      const next = applyUpdate(current ?? blankDelivery(alert.id, screenId, zoneId), update);
      const key = keyOf(alert.id, screenId);
      // A repeat of what is already on disk needs no write.
      if (current && next === current && !unsaved.has(key)) return;
      const done = enqueue({ alertId: alert.id, screenId, zoneId, update });
      if (next !== current) emitDeliveries([next]);
      return done;
    },

    onConnect(screenId, now = Date.now()) {
      const { show, clear } = forScreen(screenId, now);
      const changed: Delivery[] = [];
      for (const s of show) {
        const update: Update = { kind: 'attempt', revision: s.alert.revision, at: now };
        const before = view(s.alert, screenId);
        changed.push(applyUpdate(before ?? blankDelivery(s.alert.id, screenId, s.zoneId), update));
        enqueue({ alertId: s.alert.id, screenId, zoneId: s.zoneId, update }).catch(() => undefined);
      }
      if (changed.length > 0) emitDeliveries(changed);
      return { show: show.map((s) => s.show), clear };
    },

    flush,

    close: flush,
  };
}
