import path from 'node:path';
import type { Delivery } from '../../content/index.js';
import { AppError } from '../errors.js';
import { AppendOnlyFile } from './durable-file.js';
import { groupCommit } from './group-commit.js';
import { legacyDeliveries, releaseLegacyDeliveries, type Store } from './store.js';

/** The journal's file in the data dir, next to the store's document. */
export const DELIVERY_JOURNAL_FILE = 'deliveries.jsonl';

/** The first line of the file: what it is, and its format's version. */
const HEADER = { journal: 'zonecast-deliveries', v: 1 } as const;

/**
 * One line of the journal. Every line is a whole record, and records are applied in order, so
 * the last record about a delivery wins:
 * - `{ r, d }`: revision `r` of alert `d.alertId` has the delivery `d` for screen `d.screenId`;
 * - `{ board, r, d: [...] }`: the board of revision `r` of alert `board` is exactly `d` (what it
 *   had before is forgotten; an empty `d` removes it); when every delivery but for its screen and
 *   zone is the same (a board just sent), `{ board, r, same, s: [[screenId, zoneId], ...] }`
 *   says so in a tenth of the bytes;
 * - `{ drop, s? }`: the deliveries of alert `drop`, of every revision, go (only screen `s`'s when given).
 */
type Line =
  | { r: number; d: Delivery }
  | { board: string; r: number; d: readonly Delivery[] }
  | { board: string; r: number; same: Same; s: readonly (readonly [string, string])[] }
  | { drop: string; s?: string }
  | typeof HEADER;

/** What the deliveries of a board line in the short form share. */
type Same = Omit<Delivery, 'alertId' | 'screenId' | 'zoneId'>;
const sameOf = ({ state, attempts, lastAttemptAt, deliveredAt, displayedAt, frameAt, nextRetryAt }: Delivery): Same => ({ state, attempts, lastAttemptAt, deliveredAt, displayedAt, frameAt, nextRetryAt });
const alike = (a: Same, b: Delivery) =>
  a.state === b.state && a.attempts === b.attempts && a.lastAttemptAt === b.lastAttemptAt && a.deliveredAt === b.deliveredAt && a.displayedAt === b.displayedAt && a.frameAt === b.frameAt && a.nextRetryAt === b.nextRetryAt;

/** A board as one line: the short form when its deliveries are alike. */
function boardLine(alertId: string, revision: number, deliveries: readonly Delivery[]): Line {
  const first = deliveries[0];
  if (first && deliveries.every((d) => d.alertId === alertId && alike(first, d))) {
    return { board: alertId, r: revision, same: sameOf(first), s: deliveries.map((d) => [d.screenId, d.zoneId] as const) };
  }
  return { board: alertId, r: revision, d: deliveries };
}

/** The committed delivery boards, as the journal holds them in memory. */
export interface DeliveryReader {
  /** The delivery of one screen on one revision's board. */
  get(alertId: string, revision: number, screenId: string): Delivery | undefined;
  /** One revision's board by screen id (empty when it has none). A live view: copy what is kept across an await. */
  board(alertId: string, revision: number): ReadonlyMap<string, Delivery>;
  /** The revisions of an alert that have a board. */
  revisions(alertId: string): number[];
  /** The alerts with a board, orphans (an alert that never committed, or was removed) included. */
  alertIds(): IterableIterator<string>;
  /** Every delivery of every board, with its revision. */
  entries(): Generator<{ readonly revision: number; readonly delivery: Delivery }>;
  /** The deliveries with a retry scheduled (`nextRetryAt` set), by board, with that time in epoch ms. */
  retrying(): Generator<{ readonly alertId: string; readonly revision: number; readonly due: ReadonlyMap<string, number> }>;
  /** How many deliveries the boards hold. */
  readonly size: number;
}

/** What a mutation reads (the latest state, its own and earlier changes in its batch included) and writes. */
export interface DeliveryDraft {
  get(alertId: string, revision: number, screenId: string): Delivery | undefined;
  board(alertId: string, revision: number): ReadonlyMap<string, Delivery>;
  /** Records a delivery's new state on revision `revision` of its alert's board. */
  put(revision: number, delivery: Delivery): void;
  /** Makes `deliveries` the whole board of revision `revision` (an empty list removes the board). */
  start(alertId: string, revision: number, deliveries: readonly Delivery[]): void;
  /** Removes an alert's deliveries from every revision's board, or only those of `screenId`. */
  drop(alertId: string, screenId?: string): void;
}

/**
 * The repository of delivery boards. Like `Store`: readers get the committed state, `write`
 * runs a mutation against a draft and resolves once its records are on disk, and writes that
 * arrive during a flush are committed together in the next one. A database table keyed by
 * (alert, revision, screen) could stand behind the same interface.
 */
export interface DeliveryStore {
  read(): DeliveryReader;
  /**
   * Runs `mutate` in order with every other write, against the state left by the writes before
   * it, and resolves with its result once what it recorded is durable. A mutation that throws
   * leaves no trace; one that records nothing resolves once the writes before it are durable.
   */
  write<T>(mutate: (draft: DeliveryDraft) => T): Promise<T>;
  /**
   * Lets go, in memory, of every board of `alertId` but that of revision `keep`: those an
   * amendment superseded, or at start a board journaled for an amendment that a crash kept from
   * being committed. Records about an earlier revision still in flight are ignored from then on,
   * so that none brings an old board back. The file keeps them until its next compaction; whoever
   * opens it calls this again for what it knows to be gone.
   */
  forget(alertId: string, keep: number): void;
  close(): Promise<void>;
}

type Logger = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };

export interface DeliveryJournalOptions {
  /** Compacts once the file holds more than `factor` × the live deliveries, plus `minRecords`. */
  readonly compactAt?: { readonly factor: number; readonly minRecords: number };
  readonly log?: Logger;
}

const DEFAULT_COMPACT_AT = { factor: 4, minRecords: 20_000 } as const;
/** Deliveries serialized between two yields to the event loop while compacting. */
const COMPACT_CHUNK = 5_000;

type Board = Map<string, Delivery>;
const EMPTY: ReadonlyMap<string, Delivery> = new Map();
const boardKey = (alertId: string, revision: number) => `${alertId}\u0000${revision}`;

/** The boards in memory, changed in place by committed records only. */
class Boards implements DeliveryReader {
  private readonly alerts = new Map<string, Map<number, Board>>();
  /** Per alert, the revision below which records are ignored (see DeliveryStore.forget). */
  private readonly floor = new Map<string, number>();
  private readonly due = new Map<string, { alertId: string; revision: number; due: Map<string, number> }>();
  size = 0;

  get(alertId: string, revision: number, screenId: string): Delivery | undefined {
    return this.alerts.get(alertId)?.get(revision)?.get(screenId);
  }

  board(alertId: string, revision: number): ReadonlyMap<string, Delivery> {
    return this.alerts.get(alertId)?.get(revision) ?? EMPTY;
  }

  revisions(alertId: string): number[] {
    return [...(this.alerts.get(alertId)?.keys() ?? [])];
  }

  alertIds(): IterableIterator<string> {
    return this.alerts.keys();
  }

  *entries(): Generator<{ revision: number; delivery: Delivery }> {
    for (const revisions of this.alerts.values()) for (const [revision, board] of revisions) for (const delivery of board.values()) yield { revision, delivery };
  }

  *retrying(): Generator<{ alertId: string; revision: number; due: ReadonlyMap<string, number> }> {
    yield* this.due.values();
  }

  /** Every board, for compaction. */
  boards(): { alertId: string; revision: number; board: Board }[] {
    const out: { alertId: string; revision: number; board: Board }[] = [];
    for (const [alertId, revisions] of this.alerts) for (const [revision, board] of revisions) out.push({ alertId, revision, board });
    return out;
  }

  /** Drops every board of `alertId` but revision `keep`'s, and ignores earlier revisions from now on. */
  forget(alertId: string, keep: number): void {
    for (const revision of this.revisions(alertId)) if (revision !== keep) this.removeBoard(alertId, revision);
    this.floor.set(alertId, Math.max(keep, this.floor.get(alertId) ?? keep));
  }

  put(revision: number, d: Delivery): void {
    if (revision < (this.floor.get(d.alertId) ?? 0)) return;
    let revisions = this.alerts.get(d.alertId);
    if (!revisions) this.alerts.set(d.alertId, (revisions = new Map()));
    let board = revisions.get(revision);
    if (!board) revisions.set(revision, (board = new Map()));
    if (!board.has(d.screenId)) this.size++;
    board.set(d.screenId, d);
    this.noteDue(d.alertId, revision, d.screenId, d.nextRetryAt);
  }

  remove(alertId: string, revision: number, screenId: string): void {
    const revisions = this.alerts.get(alertId);
    const board = revisions?.get(revision);
    if (!revisions || !board?.delete(screenId)) return;
    this.size--;
    this.noteDue(alertId, revision, screenId, null);
    if (board.size === 0) revisions.delete(revision);
    if (revisions.size === 0) this.alerts.delete(alertId);
  }

  start(alertId: string, revision: number, deliveries: Iterable<Delivery>): void {
    if (revision < (this.floor.get(alertId) ?? 0)) return;
    this.removeBoard(alertId, revision);
    for (const d of deliveries) this.put(revision, d);
  }

  removeBoard(alertId: string, revision: number): void {
    const revisions = this.alerts.get(alertId);
    const board = revisions?.get(revision);
    if (!revisions || !board) return;
    this.size -= board.size;
    this.due.delete(boardKey(alertId, revision));
    revisions.delete(revision);
    if (revisions.size === 0) this.alerts.delete(alertId);
  }

  drop(alertId: string, screenId: string | undefined): void {
    for (const revision of this.revisions(alertId)) {
      if (screenId === undefined) this.removeBoard(alertId, revision);
      else this.remove(alertId, revision, screenId);
    }
  }

  private noteDue(alertId: string, revision: number, screenId: string, nextRetryAt: string | null): void {
    const key = boardKey(alertId, revision);
    let entry = this.due.get(key);
    if (nextRetryAt === null) {
      if (entry?.due.delete(screenId) && entry.due.size === 0) this.due.delete(key);
      return;
    }
    if (!entry) this.due.set(key, (entry = { alertId, revision, due: new Map() }));
    entry.due.set(screenId, Date.parse(nextRetryAt));
  }
}

/** Changes to a board over what lies below: the board replaced (`reset`), and/or screens set or removed (null). */
interface BoardDelta {
  readonly alertId: string;
  readonly revision: number;
  reset: boolean;
  readonly entries: Map<string, Delivery | null>;
}

/** What lies below an overlay: the committed boards, or the batch's overlay over them. */
interface Below {
  get(alertId: string, revision: number, screenId: string): Delivery | undefined;
  board(alertId: string, revision: number): ReadonlyMap<string, Delivery>;
  revisions(alertId: string): number[];
}

/** The changes of one mutation, or of a whole batch, over the state below; with the lines that record them. */
class Overlay implements Below, DeliveryDraft {
  readonly deltas = new Map<string, BoardDelta>();
  readonly lines: string[] = [];
  /** Delivery states the lines hold, for the compaction threshold. */
  records = 0;

  constructor(private readonly below: Below) {}

  get(alertId: string, revision: number, screenId: string): Delivery | undefined {
    const delta = this.deltas.get(boardKey(alertId, revision));
    if (delta?.entries.has(screenId)) return delta.entries.get(screenId) ?? undefined;
    if (delta?.reset) return undefined;
    return this.below.get(alertId, revision, screenId);
  }

  board(alertId: string, revision: number): ReadonlyMap<string, Delivery> {
    const delta = this.deltas.get(boardKey(alertId, revision));
    if (!delta) return this.below.board(alertId, revision);
    const board = new Map(delta.reset ? [] : this.below.board(alertId, revision));
    for (const [screenId, d] of delta.entries) {
      if (d) board.set(screenId, d);
      else board.delete(screenId);
    }
    return board;
  }

  revisions(alertId: string): number[] {
    const out = new Set(this.below.revisions(alertId));
    for (const delta of this.deltas.values()) if (delta.alertId === alertId) out.add(delta.revision);
    return [...out];
  }

  private delta(alertId: string, revision: number): BoardDelta {
    const key = boardKey(alertId, revision);
    let delta = this.deltas.get(key);
    if (!delta) this.deltas.set(key, (delta = { alertId, revision, reset: false, entries: new Map() }));
    return delta;
  }

  put(revision: number, delivery: Delivery): void {
    this.delta(delivery.alertId, revision).entries.set(delivery.screenId, delivery);
    this.lines.push(`${JSON.stringify({ r: revision, d: delivery } satisfies Line)}\n`);
    this.records++;
  }

  start(alertId: string, revision: number, deliveries: readonly Delivery[]): void {
    const delta = this.delta(alertId, revision);
    delta.reset = true;
    delta.entries.clear();
    for (const d of deliveries) delta.entries.set(d.screenId, d);
    this.lines.push(`${JSON.stringify(boardLine(alertId, revision, deliveries))}\n`);
    this.records += Math.max(1, deliveries.length);
  }

  drop(alertId: string, screenId?: string): void {
    for (const revision of this.revisions(alertId)) {
      const delta = this.delta(alertId, revision);
      if (screenId === undefined) {
        delta.reset = true;
        delta.entries.clear();
      } else delta.entries.set(screenId, null);
    }
    this.lines.push(`${JSON.stringify((screenId === undefined ? { drop: alertId } : { drop: alertId, s: screenId }) satisfies Line)}\n`);
    this.records++;
  }

  /** Takes a finished mutation's changes and lines into this (the batch's) overlay. */
  absorb(child: Overlay): void {
    for (const c of child.deltas.values()) {
      const delta = this.delta(c.alertId, c.revision);
      if (c.reset) {
        delta.reset = true;
        delta.entries.clear();
      }
      for (const [screenId, d] of c.entries) delta.entries.set(screenId, d);
    }
    this.lines.push(...child.lines);
    this.records += child.records;
  }

  /** Applies the batch to the committed boards. */
  applyTo(boards: Boards): void {
    for (const delta of this.deltas.values()) {
      if (delta.reset) boards.removeBoard(delta.alertId, delta.revision);
      for (const [screenId, d] of delta.entries) {
        if (d) boards.put(delta.revision, d);
        else boards.remove(delta.alertId, delta.revision, screenId);
      }
    }
  }
}

const isDelivery = (d: unknown): d is Delivery =>
  d !== null && typeof d === 'object' && typeof (d as Delivery).alertId === 'string' && typeof (d as Delivery).screenId === 'string';

/** A parsed line applied to the boards; false for a line of a shape this version does not know. */
function replayLine(boards: Boards, line: Record<string, unknown>): boolean {
  if ('journal' in line) {
    if (line.v !== HEADER.v) throw new Error(`${DELIVERY_JOURNAL_FILE} is format ${String(line.v)}, this server reads ${HEADER.v}`);
    return true;
  }
  if (typeof line.drop === 'string') {
    boards.drop(line.drop, typeof line.s === 'string' ? line.s : undefined);
    return true;
  }
  if (!Number.isInteger(line.r)) return false;
  const revision = line.r as number;
  if (typeof line.board === 'string' && Array.isArray(line.d) && line.d.every(isDelivery)) {
    boards.start(line.board, revision, line.d);
    return true;
  }
  if (typeof line.board === 'string' && line.same !== null && typeof line.same === 'object' && Array.isArray(line.s)) {
    const alertId = line.board;
    const same = line.same as Same;
    const pairs = line.s as unknown[];
    if (!pairs.every((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string')) return false;
    boards.start(alertId, revision, (pairs as [string, string][]).map(([screenId, zoneId]) => ({ alertId, screenId, zoneId, ...same })));
    return true;
  }
  if (isDelivery(line.d)) {
    boards.put(revision, line.d);
    return true;
  }
  return false;
}

/**
 * Reads the journal's bytes into `boards`: newline-terminated lines, in order, up to the first
 * line that is not whole JSON. Only the last append, never acknowledged, can be torn (each is
 * fdatasynced before it is answered), so whatever follows that point is that append's rest.
 * Answers where the valid lines end and how many delivery states they held.
 */
function replay(content: Buffer, boards: Boards, log: Logger | undefined): { validBytes: number; records: number } {
  let start = 0;
  let records = 0;
  let unknown = 0;
  for (;;) {
    const end = content.indexOf(0x0a, start);
    if (end < 0) break;
    let line: unknown;
    try {
      line = JSON.parse(content.toString('utf8', start, end));
    } catch {
      break;
    }
    if (line === null || typeof line !== 'object' || Array.isArray(line)) break;
    const record = line as Record<string, unknown>;
    if (replayLine(boards, record)) records += Array.isArray(record.d) ? Math.max(1, record.d.length) : Array.isArray(record.s) ? Math.max(1, record.s.length) : 1;
    else unknown++;
    start = end + 1;
  }
  if (unknown > 0) log?.warn({ file: DELIVERY_JOURNAL_FILE, lines: unknown }, 'delivery journal: lines of an unknown shape were skipped');
  if (start < content.length) log?.warn({ file: DELIVERY_JOURNAL_FILE, bytes: content.length - start }, 'delivery journal: an incomplete last append (never acknowledged) was cut off');
  return { validBytes: start, records };
}

/** The boards as lines, a chunk at a time, yielding to the event loop between chunks. */
async function* snapshot(boards: readonly { alertId: string; revision: number; board: Board }[]): AsyncGenerator<string> {
  yield `${JSON.stringify(HEADER)}\n`;
  let since = 0;
  for (const { alertId, revision, board } of boards) {
    yield `${JSON.stringify(boardLine(alertId, revision, [...board.values()]))}\n`;
    since += board.size;
    if (since >= COMPACT_CHUNK) {
      since = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

interface Pending {
  mutate: (draft: DeliveryDraft) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Opens the delivery journal in `dataDir` (`deliveries.jsonl`): replays it into memory, cuts off
 * a torn last append, and from then on appends one line per change, group-committed and
 * fdatasynced before each write resolves. When the file holds several times what is live it is
 * rewritten with one line per board (written aside, fsynced, renamed over it).
 */
export async function createDeliveryJournal(dataDir: string, opts: DeliveryJournalOptions = {}): Promise<DeliveryStore> {
  const compactAt = opts.compactAt ?? DEFAULT_COMPACT_AT;
  const { log: file, content } = await AppendOnlyFile.open(path.join(dataDir, DELIVERY_JOURNAL_FILE));
  const boards = new Boards();
  const { validBytes, records } = replay(content, boards, opts.log);
  if (validBytes < content.length) await file.truncate(validBytes);
  let inFile = records;
  let needsHeader = validBytes === 0;
  let closed = false;

  async function compact(): Promise<void> {
    const list = boards.boards();
    await file.replace(snapshot(list));
    inFile = boards.size;
    needsHeader = false;
  }

  // Writes that arrive while an append is on disk go out together in the next one.
  const commits = groupCommit<Pending>(async (batch) => {
    const overlay = new Overlay(boards);
    const done: { p: Pending; result: unknown }[] = [];
    for (const p of batch) {
      const own = new Overlay(overlay);
      try {
        const result = p.mutate(own);
        overlay.absorb(own);
        done.push({ p, result });
      } catch (err) {
        p.reject(err);
      }
    }
    if (overlay.lines.length === 0) {
      for (const d of done) d.p.resolve(d.result);
      return;
    }
    try {
      // A failed append takes itself back (or refuses every later one): see AppendOnlyFile.
      await file.append((needsHeader ? `${JSON.stringify(HEADER)}\n` : '') + overlay.lines.join(''));
      needsHeader = false;
      overlay.applyTo(boards);
      inFile += overlay.records;
    } catch (err) {
      opts.log?.error({ err, records: overlay.records }, 'delivery journal: append failed');
      for (const d of done) d.p.reject(new AppError('STORE_WRITE_FAILED', (err as Error).message));
      return;
    }
    for (const d of done) d.p.resolve(d.result);
    if (inFile > compactAt.factor * boards.size + compactAt.minRecords) {
      // The batch is durable and answered; later writes wait for the compaction.
      await compact().catch((err: unknown) => opts.log?.error({ err }, 'delivery journal: compaction failed; appending to the old file'));
    }
  });

  return {
    read: () => boards,
    write<T>(mutate: (draft: DeliveryDraft) => T): Promise<T> {
      if (closed) return Promise.reject(new AppError('STORE_WRITE_FAILED', 'delivery journal is closed'));
      return new Promise<T>((resolve, reject) => {
        commits.push({ mutate: mutate as (draft: DeliveryDraft) => unknown, resolve: resolve as (v: unknown) => void, reject });
      });
    },
    forget(alertId, keep) {
      boards.forget(alertId, keep);
    },
    async close() {
      closed = true;
      await commits.drain();
      await file.close();
    },
  };
}

/**
 * Moves the boards that a store document from before the journal holds (`deliveries`) into the
 * journal: first onto its disk, one board line per alert (for the alert's current revision),
 * then out of the document. A crash in between leaves them in both, and the next start moves
 * them again, to the same effect; the server serves only after this is done, so nothing newer
 * can be overwritten. Answers how many deliveries moved.
 */
export async function migrateLegacyDeliveries(store: Store, journal: DeliveryStore): Promise<number> {
  const legacy = legacyDeliveries(store.read());
  if (!legacy) return 0;
  const revisionOf = new Map(store.read().alerts.map((a) => [a.id, a.revision]));
  const byAlert = new Map<string, Delivery[]>();
  for (const d of legacy) {
    const list = byAlert.get(d.alertId);
    if (list) list.push(d);
    else byAlert.set(d.alertId, [d]);
  }
  await journal.write((draft) => {
    // A board left without its alert keeps revision 1, the first an alert has.
    for (const [alertId, list] of byAlert) draft.start(alertId, revisionOf.get(alertId) ?? 1, list);
  });
  await store.write(releaseLegacyDeliveries);
  return legacy.length;
}
