import { open, readFile, readdir, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  AUDIT_GENESIS_HASH,
  AUDIT_MIN_RETENTION_MONTHS,
  AuditEntrySchema,
  type AuditActor,
  type AuditEntry,
  type AuditQuery,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { entryHash, recordAuditAt } from './audit.js';
import { fsyncDir, mkdirDurably, writeFileDurably } from './durable-file.js';
import type { Data, Store } from './store.js';

/*
 * The audit log on disk: `DATA_DIR/audit/audit-YYYY-MM.jsonl`, one entry per line, appended
 * and fsynced, one file per UTC month so that retention deletes whole files and never rewrites
 * one. Entries reach it through the store's outbox (see recordAudit): the store commits the
 * change, its entry and the chain's head together; this service then copies the outbox to the
 * files and clears it. The head kept in the store is the anchor a verifier checks the files
 * against, so a cut or re-hashed tail is caught, not only an edited line.
 */

/** The folder of the log files, inside the data dir. */
export const AUDIT_DIR = 'audit';
/** The action recorded when old month files are deleted; its `after` holds the checkpoint. */
export const AUDIT_PRUNE_ACTION = 'audit.prune';
/** Operator-readable copy of the last prune's checkpoint; the chain itself is the authority. */
export const AUDIT_CHECKPOINT_FILE = 'checkpoint.json';

const FILE_RE = /^audit-(\d{4})-(\d{2})\.jsonl$/;
const SYSTEM_ACTOR: AuditActor = { kind: 'system', userId: null, username: null };
const entryValidator = Compile(AuditEntrySchema);

/** A point in the chain: an entry's sequence number and hash. */
export interface AuditPoint {
  readonly seq: number;
  readonly hash: string;
}

/** One month file of the log. */
export interface AuditFile {
  /** `YYYY-MM`, UTC. */
  readonly month: string;
  readonly name: string;
  readonly path: string;
}

/** The UTC month (`YYYY-MM`) of an ISO instant. */
export function auditMonth(at: string | Date): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** The file name holding the entries of `month` (`YYYY-MM`). */
export function auditFileName(month: string): string {
  return `audit-${month}.jsonl`;
}

/** Months since year 0, so that month arithmetic is integer arithmetic. */
function monthIndex(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}

/** The log's month files, oldest first (the names sort chronologically). */
export async function listAuditFiles(dataDir: string): Promise<AuditFile[]> {
  const dir = path.join(dataDir, AUDIT_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => FILE_RE.test(n))
    .sort()
    .map((name) => ({ month: name.slice(6, 13), name, path: path.join(dir, name) }));
}

/** Parses one log line into an entry, or null when it is not valid JSON of the entry's shape. */
export function parseAuditLine(line: string): AuditEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  return entryValidator.Check(value) ? value : null;
}

/** The lines of a file's text; `complete` is false when the last one has no newline (a torn append). */
function splitLines(text: string): { lines: string[]; complete: boolean } {
  const lines = text.split('\n');
  const complete = text.length === 0 || text.endsWith('\n');
  // A complete file ends in '\n', which leaves one empty string after the last line.
  if (complete) lines.pop();
  return { lines, complete };
}

/**
 * The last parseable entry of a file, reading backwards from its end in growing chunks so that
 * a start-up or a prune does not read a month of entries to learn one line. Null if none.
 */
async function readLastEntry(file: string): Promise<AuditEntry | null> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    for (let chunk = 64 * 1024; ; chunk *= 4) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n');
      // Unless the chunk reaches the file's start, its first line may be cut: skip it.
      const whole = start === 0 ? lines : lines.slice(1);
      for (let i = whole.length - 1; i >= 0; i--) {
        const entry = parseAuditLine(whole[i] ?? '');
        if (entry) return entry;
      }
      if (start === 0) return null;
    }
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/** What a verification can find wrong (or, for TORN_TAIL, merely notice). */
export const AUDIT_PROBLEM_CODES = [
  'MALFORMED',
  'SEQ_GAP',
  'PREV_HASH_MISMATCH',
  'HASH_MISMATCH',
  'TRUNCATED',
  'ANCHOR_MISMATCH',
  'START_MISSING',
  'CHECKPOINT_MISMATCH',
  'OUTBOX_MISMATCH',
  'TORN_TAIL',
] as const;
export type AuditProblemCode = (typeof AUDIT_PROBLEM_CODES)[number];

const BilingualSchema = Type.Object({ zh: Type.String(), en: Type.String() }, { additionalProperties: false });

export const AuditProblemSchema = Type.Object(
  {
    code: Type.Enum(AUDIT_PROBLEM_CODES),
    seq: Type.Optional(Type.Integer()),
    file: Type.Optional(Type.String({ description: 'Month file name, or "outbox" for entries committed but not yet in a file' })),
    line: Type.Optional(Type.Integer({ minimum: 1 })),
    message: BilingualSchema,
  },
  { additionalProperties: false },
);
export type AuditProblem = Static<typeof AuditProblemSchema>;

const PointSchema = Type.Object({ seq: Type.Integer(), hash: Type.String() }, { additionalProperties: false });

export const AuditVerifyResultSchema = Type.Object(
  {
    ok: Type.Boolean(),
    entries: Type.Integer({ description: 'Entries checked, in the files and in the outbox' }),
    files: Type.Integer(),
    firstSeq: Type.Union([Type.Integer(), Type.Null()]),
    lastSeq: Type.Union([Type.Integer(), Type.Null()]),
    anchor: Type.Union([PointSchema, Type.Null()], { description: 'The chain head kept in the store' }),
    problems: Type.Array(AuditProblemSchema),
    notices: Type.Array(AuditProblemSchema, { description: 'Harmless findings, such as a torn last line the server repairs on start' }),
  },
  { additionalProperties: false },
);
export type AuditVerifyResult = Static<typeof AuditVerifyResultSchema>;

function isPoint(v: unknown): v is AuditPoint {
  return typeof v === 'object' && v !== null && typeof (v as AuditPoint).seq === 'number' && typeof (v as AuditPoint).hash === 'string';
}

/**
 * The points an `audit.prune` entry allows the log to start after: its checkpoint, and the last
 * entry of each file it deleted (files go oldest first, so a crash halfway through deleting
 * leaves a log that starts at one of these).
 */
function prunePoints(entry: AuditEntry): AuditPoint[] {
  if (entry.action !== AUDIT_PRUNE_ACTION) return [];
  const after = entry.after as { checkpoint?: unknown; files?: unknown } | null;
  const files = Array.isArray(after?.files) ? after.files : [];
  return [after?.checkpoint, ...files].filter(isPoint).map((p) => ({ seq: p.seq, hash: p.hash }));
}

/** checkpoint.json, null when absent, 'invalid' when it does not hold a point. */
async function readCheckpointFile(dataDir: string): Promise<AuditPoint | null | 'invalid'> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, AUDIT_DIR, AUDIT_CHECKPOINT_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const cp = JSON.parse(text) as Partial<AuditPoint>;
    return typeof cp.seq === 'number' && typeof cp.hash === 'string' ? { seq: cp.seq, hash: cp.hash } : 'invalid';
  } catch {
    return 'invalid';
  }
}

/**
 * Checks the whole log against itself and against the anchor in `data` (the store's chain head
 * and outbox). Reads only. Every line must parse and hash to its `hash`; sequence numbers rise
 * by one and each `prevHash` is the hash before it; the chain starts at the genesis or at the
 * checkpoint of a recorded prune; and the files followed by the outbox end exactly at the head.
 * Entries in the outbox are committed but perhaps not yet appended, so they continue the chain.
 */
export async function verifyAudit(dataDir: string, data: { readonly audit: Readonly<Data['audit']> }): Promise<AuditVerifyResult> {
  const problems: AuditProblem[] = [];
  const notices: AuditProblem[] = [];
  const files = await listAuditFiles(dataDir);
  const outbox = [...data.audit.outbox].sort((a, b) => a.seq - b.seq);
  const outboxBySeq = new Map(outbox.map((e) => [e.seq, e]));
  const checkpoints: AuditPoint[] = [];
  // Where the chain starts and where the walk stands (an object: closures update it).
  const walk: { first: { seq: number; prevHash: string; file: string; line?: number } | null; prev: AuditPoint | null; count: number } = {
    first: null,
    prev: null,
    count: 0,
  };

  const visit = (entry: AuditEntry, file: string, line?: number): void => {
    walk.count++;
    const prev = walk.prev;
    const at = { seq: entry.seq, file, ...(line === undefined ? {} : { line }) };
    const { hash, ...body } = entry;
    if (entryHash(body) !== hash) {
      problems.push({ code: 'HASH_MISMATCH', ...at, message: { zh: `第 ${entry.seq} 条记录的内容与其哈希值不符(记录被改动)`, en: `Entry ${entry.seq}: its content does not match its hash (edited)` } });
    }
    if (prev === null) {
      walk.first = { seq: entry.seq, prevHash: entry.prevHash, file, ...(line === undefined ? {} : { line }) };
    } else if (entry.seq !== prev.seq + 1) {
      // A gap already explains the broken prevHash link, so that is not reported twice.
      const missing = entry.seq > prev.seq + 1;
      problems.push({
        code: 'SEQ_GAP',
        ...at,
        message: missing
          ? { zh: `第 ${prev.seq + 1}–${entry.seq - 1} 条记录缺失(被删除)`, en: `Entries ${prev.seq + 1}–${entry.seq - 1} are missing (deleted)` }
          : { zh: `第 ${entry.seq} 条记录出现在第 ${prev.seq} 条之后(重复或顺序错乱)`, en: `Entry ${entry.seq} follows entry ${prev.seq} (duplicated or reordered)` },
      });
    } else if (entry.prevHash !== prev.hash) {
      problems.push({ code: 'PREV_HASH_MISMATCH', ...at, message: { zh: `第 ${entry.seq} 条记录与前一条记录的哈希链不连续`, en: `Entry ${entry.seq} does not chain to the entry before it` } });
    }
    checkpoints.push(...prunePoints(entry));
    // Continue from the hash the line claims, so one edited line is reported once, not twice.
    walk.prev = { seq: entry.seq, hash };
  };

  for (const [fi, f] of files.entries()) {
    const { lines, complete } = splitLines(await readFile(f.path, 'utf8'));
    for (const [i, raw] of lines.entries()) {
      const entry = parseAuditLine(raw);
      if (!entry) {
        // A crash mid-append leaves the newest file's last line without its newline; that entry
        // is still in the outbox, and the server cuts the fragment off when it starts.
        const torn = !complete && i === lines.length - 1 && fi === files.length - 1;
        (torn ? notices : problems).push({
          code: torn ? 'TORN_TAIL' : 'MALFORMED',
          file: f.name,
          line: i + 1,
          message: torn
            ? { zh: `${f.name} 末行写入不完整(写入时中断),服务器启动时会修复`, en: `${f.name}: the last line is incomplete (interrupted append); the server repairs it on start` }
            : { zh: `${f.name} 第 ${i + 1} 行不是有效的审计记录`, en: `${f.name} line ${i + 1} is not a valid audit entry` },
        });
        continue;
      }
      const copy = outboxBySeq.get(entry.seq);
      if (copy && copy.hash !== entry.hash) {
        problems.push({
          code: 'OUTBOX_MISMATCH',
          seq: entry.seq,
          file: f.name,
          line: i + 1,
          message: { zh: `第 ${entry.seq} 条记录与数据库中已提交的副本不一致`, en: `Entry ${entry.seq} differs from the copy committed in the store` },
        });
      }
      visit(entry, f.name, i + 1);
    }
  }
  const lastInFiles = walk.prev?.seq ?? 0;
  for (const e of outbox) if (e.seq > lastInFiles) visit(e, 'outbox');

  const start = walk.first;
  if (start) {
    const fromGenesis = start.seq === 1 && start.prevHash === AUDIT_GENESIS_HASH;
    const fromPrune = checkpoints.some((c) => c.seq === start.seq - 1 && c.hash === start.prevHash);
    if (!fromGenesis && !fromPrune) {
      problems.push({
        code: 'START_MISSING',
        seq: start.seq,
        file: start.file,
        ...(start.line === undefined ? {} : { line: start.line }),
        message: { zh: `日志从第 ${start.seq} 条开始,但没有清理记录说明之前的记录为何不存在(开头被删除)`, en: `The log starts at entry ${start.seq} with no recorded prune explaining the entries before it (head removed)` },
      });
    }
  }

  const cpFile = await readCheckpointFile(dataDir);
  if (cpFile !== null && (cpFile === 'invalid' || !checkpoints.some((c) => c.seq === cpFile.seq && c.hash === cpFile.hash))) {
    problems.push({
      code: 'CHECKPOINT_MISMATCH',
      file: AUDIT_CHECKPOINT_FILE,
      message: { zh: `${AUDIT_CHECKPOINT_FILE} 与日志中的任何清理记录都不一致(被改动)`, en: `${AUDIT_CHECKPOINT_FILE} matches no prune recorded in the log (edited)` },
    });
  }

  const head = data.audit.head;
  const last = walk.prev;
  if (head === null) {
    if (last) problems.push({ code: 'ANCHOR_MISMATCH', seq: last.seq, message: { zh: '数据库中没有审计锚点,但日志中有记录', en: 'The store holds no audit anchor, yet the log has entries' } });
  } else if (last === null || last.seq < head.seq) {
    const end = last?.seq ?? 0;
    problems.push({
      code: 'TRUNCATED',
      seq: end + 1,
      message: { zh: `日志止于第 ${end} 条,而数据库锚点为第 ${head.seq} 条(末尾被截断)`, en: `The log ends at entry ${end} but the store's anchor is entry ${head.seq} (tail truncated)` },
    });
  } else if (last.seq > head.seq) {
    problems.push({
      code: 'ANCHOR_MISMATCH',
      seq: head.seq + 1,
      message: { zh: `日志延续到第 ${last.seq} 条,超出数据库锚点第 ${head.seq} 条(末尾被追加)`, en: `The log runs to entry ${last.seq}, past the store's anchor at entry ${head.seq} (entries appended)` },
    });
  } else if (last.hash !== head.hash) {
    problems.push({
      code: 'ANCHOR_MISMATCH',
      seq: last.seq,
      message: { zh: `第 ${last.seq} 条记录的哈希值与数据库锚点不符(末尾被改写)`, en: `Entry ${last.seq}'s hash differs from the store's anchor (tail rewritten)` },
    });
  }

  return {
    ok: problems.length === 0,
    entries: walk.count,
    files: files.length,
    firstSeq: start?.seq ?? null,
    lastSeq: last?.seq ?? null,
    anchor: head ? { seq: head.seq, hash: head.hash } : null,
    problems,
    notices,
  };
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/** The logger calls the service makes (Fastify's logger fits). */
export interface AuditLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AuditServiceOptions {
  readonly store: Store;
  readonly dataDir: string;
  /** Months to keep; values under AUDIT_MIN_RETENTION_MONTHS are raised to it. */
  readonly retentionMonths: number;
  readonly log: AuditLogger;
}

/** A query, plus the zones the caller may see: null or absent is all; a set may contain null for system entries. */
export type AuditScopedQuery = AuditQuery & { readonly zoneIds?: ReadonlySet<string | null> | null };

/** One page of entries, newest first; pass `nextBeforeSeq` as `beforeSeq` for the next page. */
export interface AuditPage {
  entries: AuditEntry[];
  nextBeforeSeq: number | null;
}

/** What a prune did: the deleted files and the checkpoint recorded, or why it refused. */
export interface AuditPruneResult {
  removed: string[];
  checkpoint: AuditPoint | null;
  entry: AuditEntry | null;
  /** Non-empty when the log failed verification: nothing is deleted from a broken log. */
  problems: AuditProblem[];
}

export interface AuditService {
  /** Appends committed outbox entries to the files and clears them from the outbox. */
  flush(): Promise<void>;
  /** Entries matching `q`, newest first, from the files and the outbox. */
  query(q: AuditScopedQuery): Promise<AuditPage>;
  /** Verifies the log against the store's anchor, between flushes so that the two agree. */
  verify(): Promise<AuditVerifyResult>;
  /** Deletes month files older than the retention, recording the prune in the chain; idempotent. */
  pruneAudit(now?: Date): Promise<AuditPruneResult>;
  /** Stops following commits and finishes the last flush. */
  close(): Promise<void>;
}

/**
 * Starts the audit log writer: recovers from a crash (cuts a torn last line, appends what the
 * outbox still holds), then appends after every store commit. Appends, prunes and verifications
 * run one at a time on a promise chain, so the files always have one writer.
 */
export async function createAudit({ store, dataDir, retentionMonths, log }: AuditServiceOptions): Promise<AuditService> {
  const dir = path.join(dataDir, AUDIT_DIR);
  const retention = Math.max(Math.floor(retentionMonths), AUDIT_MIN_RETENTION_MONTHS);
  /** The last entry in the files: appends start after it; files never go back in month. */
  let last: { seq: number; month: string } | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let pending: Promise<void> | null = null;
  let closed = false;

  function exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = chain.then(task);
    chain = run.catch(() => undefined);
    return run;
  }

  /** Cuts a fragment after the last newline of `file`, left by a crash mid-append. */
  async function repairTornTail(file: string): Promise<void> {
    const handle = await open(file, 'r+');
    try {
      const { size } = await handle.stat();
      if (size === 0) return;
      const lastByte = Buffer.alloc(1);
      await handle.read(lastByte, 0, 1, size - 1);
      if (lastByte[0] === 0x0a) return;
      // The fragment is never acknowledged data: the outbox is cleared only after an fsynced
      // append, so the entry it began is still there and is appended again below.
      const text = await readFile(file, 'utf8');
      const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1), 'utf8');
      await handle.truncate(keep);
      await handle.sync();
      log.warn({ file, removedBytes: size - keep, fragment: text.slice(text.lastIndexOf('\n') + 1, text.lastIndexOf('\n') + 201) }, 'audit log: cut a torn last line left by a crash');
    } finally {
      await handle.close();
    }
  }

  async function init(): Promise<void> {
    await mkdirDurably(dir);
    const files = await listAuditFiles(dataDir);
    const newest = files.at(-1);
    if (newest) await repairTornTail(newest.path);
    for (let i = files.length - 1; i >= 0 && !last; i--) {
      const f = files[i] as AuditFile;
      const entry = await readLastEntry(f.path);
      // An empty newest file (a crash right after creating it) is skipped, and so is one whose
      // lines all fail to parse; verification reports the latter.
      if (entry) last = { seq: entry.seq, month: newest?.month ?? f.month };
    }
  }

  /** Appends `entries` (in seq order) to their month files, each file fsynced. */
  async function append(entries: readonly AuditEntry[]): Promise<void> {
    let i = 0;
    while (i < entries.length) {
      // A clock stepped back across a month end must not put a later entry in an earlier file:
      // readers rely on files being in chain order.
      const month = [auditMonth((entries[i] as AuditEntry).at), last?.month ?? ''].sort().at(-1) as string;
      const group: AuditEntry[] = [];
      while (i < entries.length) {
        const e = entries[i] as AuditEntry;
        if (auditMonth(e.at) > month && group.length > 0) break;
        group.push(e);
        i++;
      }
      const file = path.join(dir, auditFileName(month));
      let created = true;
      let handle: FileHandle;
      try {
        handle = await open(file, 'ax', 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        created = false;
        handle = await open(file, 'a', 0o600);
      }
      try {
        const { size } = await handle.stat();
        try {
          await handle.writeFile(group.map((e) => JSON.stringify(e) + '\n').join(''));
          await handle.sync();
        } catch (e) {
          // Leave no half line for the next append to glue onto; the entries stay in the outbox.
          await handle.truncate(size).catch(() => undefined);
          throw e;
        }
      } finally {
        await handle.close();
      }
      if (created) await fsyncDir(dir);
      last = { seq: (group.at(-1) as AuditEntry).seq, month };
    }
  }

  /** One flush: append what the files lack, then clear what they now hold from the outbox. */
  async function flushOutbox(): Promise<void> {
    const outbox = store.read().audit.outbox;
    if (outbox.length === 0) return;
    const already = last?.seq ?? 0;
    const fresh = outbox.filter((e) => e.seq > already).sort((a, b) => a.seq - b.seq);
    const firstFresh = fresh[0];
    if (firstFresh && firstFresh.seq !== already + 1) {
      // Appending anyway keeps the new entries; verification reports the gap.
      log.error({ lastInLog: already, nextInOutbox: firstFresh.seq }, 'audit log: entries are missing between the log file and the outbox');
    }
    if (fresh.length > 0) await append(fresh);
    const upTo = last?.seq ?? 0;
    if (!outbox.some((e) => e.seq <= upTo)) return;
    // Only what is now in a file leaves the outbox; entries committed meanwhile wait for the next flush.
    await store.write((draft) => {
      draft.audit.outbox = draft.audit.outbox.filter((e) => e.seq > upTo);
    });
  }

  function flush(): Promise<void> {
    // A flush that has not started yet will see every commit made until it starts: share it.
    if (pending) return pending;
    const p = exclusive(async () => {
      pending = null;
      await flushOutbox();
    });
    pending = p;
    return p;
  }

  await exclusive(init);
  const unsubscribe = store.onCommit(() => {
    if (closed) return;
    flush().catch((err: unknown) => log.error({ err }, 'audit log: flush failed; entries stay in the store outbox and are retried'));
  });
  // Entries a crash left in the outbox.
  await flush();

  async function query(q: AuditScopedQuery): Promise<AuditPage> {
    const limit = q.limit ?? 100;
    const from = q.from === undefined ? -Infinity : Date.parse(q.from);
    const to = q.to === undefined ? Infinity : Date.parse(q.to);
    if (Number.isNaN(from) || Number.isNaN(to) || from > to) throw new AppError('AUDIT_RANGE_INVALID', `${q.from ?? ''}–${q.to ?? ''}`);
    const zoneIds = q.zoneIds ?? null;
    const matches = (e: AuditEntry): boolean => {
      if (q.beforeSeq !== undefined && e.seq >= q.beforeSeq) return false;
      if (q.zoneId !== undefined && e.zoneId !== q.zoneId) return false;
      if (zoneIds !== null && !zoneIds.has(e.zoneId)) return false;
      if (q.userId !== undefined && e.actor.userId !== q.userId) return false;
      if (q.entity !== undefined && e.entity !== q.entity) return false;
      if (q.entityId !== undefined && e.entityId !== q.entityId) return false;
      const t = Date.parse(e.at);
      return t >= from && t <= to;
    };

    // The outbox is the newest stretch of the chain (it is cleared oldest first), so it comes
    // first; `seen` drops the copies a concurrent flush may already have put in a file.
    const found: AuditEntry[] = [];
    const seen = new Set<number>();
    for (const e of [...store.read().audit.outbox].sort((a, b) => b.seq - a.seq)) {
      seen.add(e.seq);
      if (matches(e)) found.push(e);
    }
    // An entry lies in the file of its own month or a later one, never an earlier one.
    const oldestMonth = q.from === undefined ? '' : auditMonth(q.from);
    const files = (await listAuditFiles(dataDir)).filter((f) => f.month >= oldestMonth).reverse();
    for (const f of files) {
      if (found.length > limit) break;
      let text: string;
      try {
        text = await readFile(f.path, 'utf8');
      } catch (e) {
        // Pruned between listing and reading.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const { lines } = splitLines(text);
      for (let i = lines.length - 1; i >= 0 && found.length <= limit; i--) {
        // A line that does not parse is for verification to report, not for a query to fail on.
        const e = parseAuditLine(lines[i] ?? '');
        if (!e || seen.has(e.seq)) continue;
        seen.add(e.seq);
        if (matches(e)) found.push(e);
      }
    }
    found.sort((a, b) => b.seq - a.seq);
    const entries = found.slice(0, limit);
    return { entries, nextBeforeSeq: found.length > limit ? (entries.at(-1) as AuditEntry).seq : null };
  }

  async function pruneOld(now: Date): Promise<AuditPruneResult> {
    const none: AuditPruneResult = { removed: [], checkpoint: null, entry: null, problems: [] };
    // A file may go once its newest possible entry (the month's last instant) is `retention`
    // months old: month M is deleted when M + 1 + retention <= the current month.
    const cutoff = monthIndex(auditMonth(now)) - retention - 1;
    const doomed = (await listAuditFiles(dataDir)).filter((f) => monthIndex(f.month) <= cutoff);
    if (doomed.length === 0) return none;
    // Deleting is irreversible: never delete from a log that does not verify, or evidence of
    // tampering would go with it.
    const check = await verifyAudit(dataDir, store.read());
    if (!check.ok) {
      log.error({ problems: check.problems }, 'audit log: not pruning a log that fails verification');
      return { ...none, problems: check.problems };
    }
    const points: { name: string; seq: number; hash: string }[] = [];
    for (const f of doomed) {
      const e = await readLastEntry(f.path);
      if (e) points.push({ name: f.name, seq: e.seq, hash: e.hash });
    }
    const lastPoint = points.at(-1);
    if (!lastPoint) return none;
    const checkpoint: AuditPoint = { seq: lastPoint.seq, hash: lastPoint.hash };
    const names = doomed.map((f) => f.name);
    // The prune is itself an entry in the chain, anchored like any other: whoever edits
    // checkpoint.json or deletes more files cannot also forge this.
    const entry = await store.write((draft) =>
      recordAuditAt(
        draft,
        {
          actor: SYSTEM_ACTOR,
          action: AUDIT_PRUNE_ACTION,
          entity: 'audit',
          entityId: null,
          zoneId: null,
          after: { checkpoint, files: points, retentionMonths: retention },
          detail: `removed ${names.length} month file(s) older than ${retention} months`,
        },
        now,
      ),
    );
    // Inside the chain already: call the step, not flush(), which would wait for this task.
    await flushOutbox();
    await writeFileDurably(path.join(dir, AUDIT_CHECKPOINT_FILE), JSON.stringify({ ...checkpoint, prunedAt: entry.at, files: names }, null, 2) + '\n');
    // Oldest first: a crash halfway leaves a log that starts after one of the recorded points.
    for (const f of doomed) await unlink(f.path);
    await fsyncDir(dir);
    return { removed: names, checkpoint, entry, problems: [] };
  }

  return {
    flush,
    query,
    verify: () => exclusive(() => verifyAudit(dataDir, store.read())),
    pruneAudit: (now = new Date()) => exclusive(() => pruneOld(now)),
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      await flush();
    },
  };
}
