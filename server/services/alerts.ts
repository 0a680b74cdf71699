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
import type { DeliveryDraft, DeliveryStore } from './delivery-journal.js';
import type { MediaService } from './media.js';
import type { IoServer } from './realtime.js';
import type { Data, StoredScreen, Store } from './store.js';

/**
 * Urgent alerts (紧急插播): what the composer and the CAP ingest call. The alert and its audit
 * entry live in the store's document; the delivery boards in the delivery journal. A create or
 * an amendment journals the new board, commits the alert once the board is durable, then emits
 * once to the target zones' rooms, so that no alert is ever on disk without its board.
 */
export interface AlertService {
  create(input: AlertInput, opts: { actor: AuditActor; source: 'composer' | 'cap'; capRef: CapRef | null }): Promise<Alert>;
  /**
   * Revision + 1, re-pushed to the targets; new target screens get deliveries, every delivery
   * starts over. `capRef`: the CAP Update asking for it, which a later Update or Cancel may name.
   */
  amend(alertId: string, input: AlertInput, actor: AuditActor, capRef?: CapRef | null): Promise<Alert>;
  /** Records that CAP message `capRef` (an Update that changed nothing) belongs to `alertId`, for the messages after it. */
  linkCap(alertId: string, capRef: CapRef): Promise<void>;
  /** The all clear. */
  clear(alertId: string, actor: AuditActor): Promise<Alert>;
  /** The alert a CAP message started or amended. */
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

/** A CAP message by its `sender` and `identifier`. */
export interface CapRef {
  readonly sender: string;
  readonly identifier: string;
}

const linked = (data: Readonly<Data>, ref: CapRef) => data.capLinks.find((l) => l.sender === ref.sender && l.identifier === ref.identifier);

/** The alert a CAP message started (its `capRef`) or amended (a link). */
function capOwner(data: Readonly<Data>, ref: CapRef): Alert | undefined {
  const started = data.alerts.find((a) => a.capRef?.sender === ref.sender && a.capRef.identifier === ref.identifier);
  if (started) return started;
  const link = linked(data, ref);
  return link ? data.alerts.find((a) => a.id === link.alertId) : undefined;
}

/**
 * Acknowledgements and attempts are journaled together, in one append, once none has arrived for
 * this long: during a fan-in the answers, one socket write each, then wait until the burst has
 * passed instead of holding up the acknowledgements still arriving…
 */
export const ACK_QUIET_MS = 100;
/** …but no later than this after the first one waiting… */
export const ACK_BATCH_MS = 1000;
/** …and at once when this many are waiting. */
export const ACK_BATCH_MAX = 5000;

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
  /** When the first item and the latest arrived (epoch ms). */
  readonly firstAt: number;
  lastAt: number;
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
  // Screens share zones: each zone's lineage is walked once.
  const inside = new Map<string, boolean>();
  const covered = (zoneId: string) => {
    let yes = inside.get(zoneId);
    if (yes === undefined) inside.set(zoneId, (yes = ancestry(zoneId, zones).some((z) => targets.has(z.id))));
    return yes;
  };
  return data.screens.filter((s) => covered(s.zoneId));
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

/** Creates the alert service: alerts in the store, boards in the delivery journal, batched acknowledgements, one room emit per change. */
export function createAlerts(deps: { store: Store; deliveries: DeliveryStore; media: MediaService; io: () => IoServer; log: Logger }): AlertRuntime {
  const { store, deliveries: journal, media, log } = deps;

  // Indexes over the committed document, each rebuilt only when its collection changed (a write
  // shares the collections it did not touch with the document before it).
  let alertsOf: readonly Alert[] | null = null;
  let zonesOf: readonly Zone[] | null = null;
  let screensOf: readonly StoredScreen[] | null = null;
  let alertById = new Map<string, Alert>();
  let zones: ReadonlyMap<string, Zone> = new Map();
  let screenById = new Map<string, StoredScreen>();
  function index(): Readonly<Data> {
    const data = store.read();
    if (data.alerts !== alertsOf) {
      alertById = new Map(data.alerts.map((a) => [a.id, a]));
      alertsOf = data.alerts;
    }
    if (data.zones !== zonesOf) {
      zones = zoneMap(data);
      zonesOf = data.zones;
    }
    if (data.screens !== screensOf) {
      screenById = new Map(data.screens.map((s) => [s.id, s]));
      screensOf = data.screens;
    }
    return data;
  }
  // Only each alert's current board is needed: earlier revisions were replaced by an amendment,
  // and a later one is an amendment's board that a crash kept from being committed.
  for (const a of store.read().alerts) journal.forget(a.id, a.revision);

  // Changes that arrived but are not yet durable, per delivery, in order. The board shows them
  // at once; the journal gets them in the next batch. Nothing here is needed for correctness
  // after a crash: a player is answered only once its acknowledgement is on disk, and re-sends.
  const unsaved = new Map<string, Pending[]>();
  let batch: Batch | null = null;
  let timer: NodeJS.Timeout | null = null;
  let inflight: Promise<void> | null = null;

  /** A delivery as the board shows it: the committed one with the changes still waiting. */
  function view(alert: Alert, screenId: string): Delivery | undefined {
    const key = keyOf(alert.id, screenId);
    let d = journal.read().get(alert.id, alert.revision, screenId);
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
    const now = Date.now();
    const b = (batch ??= { items: [], waiters: [], firstAt: now, lastAt: now });
    b.items.push(p);
    b.lastAt = now;
    const done = new Promise<void>((resolve, reject) => b.waiters.push({ resolve, reject }));
    if (b.items.length >= ACK_BATCH_MAX) kick();
    else timer ??= setTimeout(due, ACK_QUIET_MS);
    return done;
  }

  /** The batch timer: writes once arrivals have paused for ACK_QUIET_MS, or the first has waited ACK_BATCH_MS. */
  function due(): void {
    timer = null;
    if (!batch) return;
    const now = Date.now();
    const wait = Math.min(batch.lastAt + ACK_QUIET_MS, batch.firstAt + ACK_BATCH_MS) - now;
    // One timer, moved on when it fires, rather than reset on every arrival.
    if (wait > 0) timer = setTimeout(due, wait);
    else kick();
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
      else timer ??= setTimeout(due, ACK_QUIET_MS);
    });
  }

  async function writeBatch(b: Batch): Promise<void> {
    try {
      await journal.write((draft) => commitBatch(draft, b.items));
      for (const w of b.waiters) w.resolve();
    } catch (err) {
      log.error({ err, size: b.items.length }, 'alert acknowledgement batch not saved');
      for (const w of b.waiters) w.reject(err);
    } finally {
      // Durable now (or lost, and the players re-send): the board reads the journal again.
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

  /** Whether `screenId` is in one of the alert's target zones (a screen paired after it went out). */
  function targeted(alert: Alert, screenId: string): boolean {
    const s = screenById.get(screenId);
    return s !== undefined && ancestry(s.zoneId, zones).some((z) => alert.targetZoneIds.includes(z.id));
  }

  /** Applies a batch on the journal's draft: one append for many acknowledgements and attempts. */
  function commitBatch(draft: DeliveryDraft, items: readonly Pending[]): void {
    index();
    for (const p of items) {
      const alert = alertById.get(p.alertId);
      // Meant for an earlier revision, which an amendment has replaced.
      if (!alert || alert.revision !== p.update.revision) continue;
      const before = draft.get(alert.id, alert.revision, p.screenId);
      if (before === undefined) {
        // A screen paired into a target zone after the alert went out; not one an amendment dropped.
        if (!targeted(alert, p.screenId)) continue;
        draft.put(alert.revision, applyUpdate(blankDelivery(p.alertId, p.screenId, p.zoneId), p.update));
      } else {
        const next = applyUpdate(before, p.update);
        if (next !== before) draft.put(alert.revision, next);
      }
    }
  }

  /**
   * Tells staff watching a board what changed on it. Nothing is built or sent for a board no one
   * watches, which during a fan-in is nearly every acknowledgement. (The in-memory adapter knows
   * every room of this process; a cluster adapter would have to broadcast regardless.)
   */
  function emitDeliveries(list: readonly Delivery[]): void {
    if (list.length === 0) return;
    const io = deps.io();
    for (const d of list) if (watched(d.alertId)) io.to(rooms.alert(d.alertId)).emit('alert:delivery', d);
  }

  /** Whether staff in this process watch an alert's board. */
  function watched(alertId: string): boolean {
    return (deps.io().of('/').adapter.rooms.get(rooms.alert(alertId))?.size ?? 0) > 0;
  }

  // Create, amend and clear of one alert run one after the other: an amendment's board is
  // journaled for the revision it computed before its alert is committed.
  const busy = new Map<string, Promise<unknown>>();
  function serial<T>(alertId: string, run: () => Promise<T>): Promise<T> {
    const next = (busy.get(alertId) ?? Promise.resolve()).then(run, run);
    const tail = next.catch(() => undefined);
    busy.set(alertId, tail);
    void tail.then(() => {
      if (busy.get(alertId) === tail) busy.delete(alertId);
    });
    return next;
  }

  /** Undoes a board journaled for an alert revision that was then not committed (best effort: no one reads it anyway). */
  /** The delivery board of the alert's revision, with acknowledgements that arrived but are not yet on disk. */
  function boardOf(alert: Alert): Delivery[] {
    const alertId = alert.id;
    const committed = journal.read().board(alertId, alert.revision);
    const board = [...committed.values()].map((d) => (unsaved.has(keyOf(alertId, d.screenId)) ? (view(alert, d.screenId) ?? d) : d));
    // Screens paired after the alert went out, whose first record is still in memory.
    for (const list of unsaved.values()) {
      const first = list[0];
      if (!first || first.alertId !== alertId || committed.has(first.screenId)) continue;
      const d = view(alert, first.screenId);
      if (d) board.push(d);
    }
    return board;
  }

  function discardBoard(alertId: string, revision: number): void {
    journal.write((draft) => draft.start(alertId, revision, [])).catch((err: unknown) => log.warn({ err, alertId, revision }, 'an uncommitted alert board stays in the journal'));
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

  /** A board sent now: each target screen's first attempt (what `applyUpdate` makes of a blank delivery, built at once). */
  function sentBoard(alert: Alert, screens: readonly StoredScreen[], now: number): Delivery[] {
    const lastAttemptAt = iso(now);
    const nextRetryAt = iso(now + ALERT_POLICY.retryEveryMs);
    return screens.map((s) => ({ ...blankDelivery(alert.id, s.id, s.zoneId), attempts: 1, lastAttemptAt, nextRetryAt }));
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

  /** Refuses a CAP message that has already started or amended an alert. */
  const assertNewCap = (data: Readonly<Data>, capRef: CapRef | null) => {
    if (capRef && capOwner(data, capRef) !== undefined) throw new AppError('ALERT_DUPLICATE', `${capRef.sender} ${capRef.identifier}`);
  };
  /** The audit detail's note of the CAP message behind a change. */
  const capDetail = (capRef: CapRef | null) => (capRef ? `; CAP ${capRef.sender} ${capRef.identifier}` : '');

  return {
    async create(input, opts) {
      const { capRef } = opts;
      const data = index();
      checkInput(data, input);
      assertNewCap(data, capRef);
      const screens = targetScreens(data, input.targetZoneIds);
      if (input.mediaHash !== null) await prepareImage(input.mediaHash, screens);
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
      // The board first, then the alert: should the alert not follow, the board is an orphan
      // no one reads. An alert is never on disk without its board.
      await journal.write((draft) => draft.start(alert.id, alert.revision, sentBoard(alert, screens, now)));
      try {
        await store.write((draft, base) => {
          checkInput(base, input);
          assertNewCap(base, capRef);
          draft.alerts.push(alert);
          recordAudit(draft, {
            actor: opts.actor,
            action: 'alert.create',
            entity: 'alert',
            entityId: alert.id,
            zoneId: commonZone(base, alert.targetZoneIds),
            after: alert,
            detail: `${screens.length} screens${capDetail(capRef)}`,
          });
        });
      } catch (err) {
        discardBoard(alert.id, alert.revision);
        throw err;
      }
      // One emit for every target screen: a screen sits in the room of each zone above it.
      deps.io().to(alert.targetZoneIds.map(rooms.zone)).emit('alert:show', alertShow(alert, mediaOf(store.read(), alert.mediaHash), largest(screens)));
      return alert;
    },

    async amend(alertId, input, actor, capRef = null) {
      const data = index();
      checkInput(data, input);
      findActive(data, alertId, Date.now());
      const screens = targetScreens(data, input.targetZoneIds);
      await prepareImage(input.mediaHash, screens);
      return serial(alertId, async () => {
        // The same CAP Update twice at once: the second finds the first's link here.
        assertNewCap(store.read(), capRef);
        const now = Date.now();
        const current = findActive(store.read(), alertId, now);
        const alert: Alert = {
          ...current,
          ...fieldsOf(input),
          revision: current.revision + 1,
          updatedAt: iso(now),
          // An amendment is a new issue: its time to live runs from now.
          expiresAt: iso(now + input.ttlMinutes * 60_000),
        };
        // Every target starts over: what a screen displayed was the earlier revision.
        const board = sentBoard(alert, screens, now);
        const targets = new Set(screens.map((s) => s.id));
        // Those the earlier revision reached, its acknowledgements still in memory included.
        const dropped = boardOf(current).flatMap((d) => (targets.has(d.screenId) ? [] : [d.screenId]));
        // As for a create: the board first, then the alert's new revision.
        await journal.write((draft) => draft.start(alertId, alert.revision, board));
        try {
          await store.write((draft, base) => {
            checkInput(base, input);
            assertNewCap(base, capRef);
            const latest = findActive(base, alertId, now);
            // Amendments of one alert run one at a time; only a direct edit of the document could do this.
            if (latest.revision !== current.revision) throw new AppError('CONFLICT', `${alertId} changed while it was amended`);
            draft.alerts[base.alerts.indexOf(latest)] = alert;
            // New to this alert: assertNewCap above.
            if (capRef) draft.capLinks.push({ sender: capRef.sender, identifier: capRef.identifier, alertId });
            recordAudit(draft, {
              actor,
              action: 'alert.amend',
              entity: 'alert',
              entityId: alertId,
              zoneId: commonZone(base, alert.targetZoneIds),
              before: latest,
              after: alert,
              detail: `revision ${alert.revision}; ${board.length} screens${dropped.length > 0 ? `; ${dropped.length} no longer targeted` : ''}${capDetail(capRef)}`,
            });
          });
        } catch (err) {
          discardBoard(alertId, alert.revision);
          throw err;
        }
        journal.forget(alertId, alert.revision);
        const io = deps.io();
        io.to(alert.targetZoneIds.map(rooms.zone)).emit('alert:show', alertShow(alert, mediaOf(store.read(), alert.mediaHash), largest(screens)));
        if (dropped.length > 0) io.to(dropped.map(rooms.screen)).emit('alert:clear', { alertId });
        emitDeliveries(board);
        return alert;
      });
    },

    async clear(alertId, actor) {
      return serial(alertId, async () => {
        const alert = await store.write((draft, base) => {
          const now = Date.now();
          const current = findActive(base, alertId, now);
          const alert: Alert = { ...current, clearedAt: iso(now), clearedBy: actorName(actor), updatedAt: iso(now) };
          draft.alerts[base.alerts.indexOf(current)] = alert;
          recordAudit(draft, { actor, action: 'alert.clear', entity: 'alert', entityId: alertId, zoneId: commonZone(base, alert.targetZoneIds), before: current, after: alert, detail: 'all clear' });
          return alert;
        });
        // The retries stop with the alert (retryDue skips what is not active); the board says so too.
        await journal
          .write((draft) => {
            for (const d of draft.board(alertId, alert.revision).values()) if (d.nextRetryAt !== null) draft.put(alert.revision, { ...d, nextRetryAt: null });
          })
          .catch((err: unknown) => log.warn({ err, alertId }, 'cleared alert: its board still shows retries'));
        deps.io().to(alert.targetZoneIds.map(rooms.zone)).emit('alert:clear', { alertId });
        return alert;
      });
    },

    async linkCap(alertId, capRef) {
      await store.write((draft, base) => {
        if (!base.alerts.some((a) => a.id === alertId)) throw new AppError('NOT_FOUND', `alerts/${alertId}`);
        if (!linked(base, capRef)) draft.capLinks.push({ sender: capRef.sender, identifier: capRef.identifier, alertId });
      });
    },

    findByCapRef(sender, identifier) {
      return capOwner(store.read(), { sender, identifier });
    },

    activeFor(screenId, now = Date.now()) {
      return forScreen(screenId, now).show.map((s) => s.show);
    },

    deliveries(alertId) {
      index();
      const alert = alertById.get(alertId);
      return alert ? boardOf(alert) : [];
    },

    async retryDue(now = Date.now()) {
      // Most runs find nothing due: they should not write.
      let due = false;
      for (const board of journal.read().retrying()) {
        for (const at of board.due.values()) if (at <= now) due = true;
        if (due) break;
      }
      if (!due) return 0;
      const { resend, changed } = await journal.write((draft) => {
        index();
        const resend = new Map<string, string[]>();
        const changed: Delivery[] = [];
        for (const { alertId, revision, due: times } of journal.read().retrying()) {
          const alert = alertById.get(alertId);
          // An orphan, or a board journaled for a revision not (yet) committed: not ours to touch.
          if (!alert || revision > alert.revision) continue;
          const active = revision === alert.revision && alertStatus(alert, now) === 'active';
          for (const [screenId, at] of times) {
            if (at > now) continue;
            const d = draft.get(alertId, revision, screenId);
            if (!d || d.nextRetryAt === null || Date.parse(d.nextRetryAt) > now) continue;
            if (!active || d.state === 'displayed') {
              draft.put(revision, { ...d, nextRetryAt: null });
              continue;
            }
            // A 'displayed' that arrived but waits for its batch wins over a retry.
            const waiting = unsaved.get(keyOf(alertId, screenId)) ?? [];
            if (waiting.some((p) => p.update.kind === 'ack' && p.update.stage === 'displayed' && p.update.revision === revision)) continue;
            let next: Delivery;
            if (d.attempts >= ALERT_POLICY.attemptsBeforeUnreachable) {
              next = { ...d, state: 'unreachable', nextRetryAt: null };
            } else {
              next = { ...d, attempts: d.attempts + 1, lastAttemptAt: iso(now), nextRetryAt: iso(now + ALERT_POLICY.retryEveryMs) };
              const list = resend.get(alertId);
              if (list) list.push(screenId);
              else resend.set(alertId, [screenId]);
            }
            draft.put(revision, next);
            changed.push(next);
          }
        }
        return { resend, changed };
      });
      const io = deps.io();
      const data = index();
      let count = 0;
      for (const [alertId, screenIds] of resend) {
        const alert = alertById.get(alertId);
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
        if (!screen || !targeted(alert, screenId)) throw new AppError('NOT_FOUND', `alerts/${ack.alertId} for ${screenId}`);
        zoneId = screen.zoneId;
      }
      // An earlier revision's acknowledgement: the current one was sent and will be answered.
      if (ack.revision !== alert.revision) return;
      const update: Update = { kind: 'ack', revision: ack.revision, stage: ack.stage, arrivedAt, frameAt: ack.at };
      const next = applyUpdate(current ?? blankDelivery(alert.id, screenId, zoneId), update);
      const changed = next !== current;
      // A repeat of what is already on disk needs no write.
      if (!changed && !unsaved.has(keyOf(alert.id, screenId))) return;
      const done = enqueue({ alertId: alert.id, screenId, zoneId, update });
      if (changed && watched(alert.id)) emitDeliveries([next]);
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
