import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../content/index.js';
import { ConfigError, loadConfig } from '../../../server/config.js';
import { AppError } from '../../../server/errors.js';
import { entryHash, recordAuditAt, type AuditInput } from '../../../server/services/audit.js';
import { AUDIT_CHECKPOINT_FILE, AUDIT_DIR, createAudit, verifyAudit, type AuditLogger, type AuditService } from '../../../server/services/audit-log.js';
import { createStore, type Store } from '../../../server/services/store.js';
import { repoRoot, run } from '../../helpers/process.js';

/** What a change in zone `zoneId` by user `userId` tells the log. */
function change(over: Partial<AuditInput> = {}): AuditInput {
  return {
    actor: { kind: 'staff', userId: 'u-editor', username: 'editor' },
    action: 'content.update',
    entity: 'content',
    entityId: 'c-1',
    zoneId: 'z-town',
    before: { title: '旧标题' },
    after: { title: '新标题', passwordHash: 'never-logged' },
    ...over,
  };
}

/** The entries of each month file, as parsed lines. */
async function logFiles(dir: string): Promise<Record<string, AuditEntry[]>> {
  const auditDir = path.join(dir, AUDIT_DIR);
  const out: Record<string, AuditEntry[]> = {};
  for (const name of (await readdir(auditDir)).filter((n) => n.endsWith('.jsonl')).sort()) {
    const text = await readFile(path.join(auditDir, name), 'utf8');
    out[name] = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEntry);
  }
  return out;
}

const seqs = (entries: readonly AuditEntry[]): number[] => entries.map((e) => e.seq);
const allSeqs = async (dir: string): Promise<number[]> => Object.values(await logFiles(dir)).flatMap(seqs);
const codes = (r: { problems: { code: string }[] }): string[] => r.problems.map((p) => p.code);

/** Rewrites one month file line by line; `edit` returns the new lines. */
async function editFile(dir: string, month: string, edit: (lines: string[]) => string[]): Promise<void> {
  const file = path.join(dir, AUDIT_DIR, `audit-${month}.jsonl`);
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  await writeFile(file, edit(lines).map((l) => l + '\n').join(''));
}

/** An entry re-hashed as an attacker would: consistent with `prevHash`, so only the anchor can tell. */
function rehash(entry: AuditEntry, prevHash: string): AuditEntry {
  const { hash: _old, ...body } = { ...entry, prevHash };
  return { ...body, hash: entryHash(body) };
}

describe('audit log', () => {
  let dir: string;
  let store: Store;
  let audit: AuditService;
  let warnings: string[];
  const log: AuditLogger = {
    warn: (_obj, msg) => warnings.push(msg),
    error: (_obj, msg) => warnings.push(msg),
  };
  const open: { audit: AuditService; store: Store }[] = [];

  async function start(retentionMonths = 6): Promise<void> {
    store = await createStore(dir);
    audit = await createAudit({ store, dataDir: dir, retentionMonths, log });
    open.push({ audit, store });
  }
  /** Closes the service and the store, as a clean shutdown does, and opens both again. */
  async function restart(retentionMonths = 6): Promise<void> {
    await audit.close();
    await store.close();
    await start(retentionMonths);
  }
  /** Commits one change at the given instant and waits until the log holds it. */
  async function record(at: string, over: Partial<AuditInput> = {}): Promise<AuditEntry> {
    const entry = await store.write((d) => recordAuditAt(d, change(over), new Date(at)));
    await audit.flush();
    return entry;
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'zonecast-audit-'));
    warnings = [];
    await start();
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) {
      await o.audit.close().catch(() => undefined);
      await o.store.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  describe('files', () => {
    it('appends entries in chain order, one file per UTC month, across a month boundary', async () => {
      // 2025-01-31T16:00Z is already February 1st in Beijing: files follow UTC.
      for (const at of ['2025-01-31T15:59:59.000Z', '2025-01-31T23:59:59.999Z', '2025-02-01T00:00:00.000Z', '2025-02-14T08:00:00.000Z']) await record(at);
      const files = await logFiles(dir);
      expect(Object.keys(files)).toEqual(['audit-2025-01.jsonl', 'audit-2025-02.jsonl']);
      expect(seqs(files['audit-2025-01.jsonl'] ?? [])).toEqual([1, 2]);
      expect(seqs(files['audit-2025-02.jsonl'] ?? [])).toEqual([3, 4]);
      expect(store.read().audit.outbox).toEqual([]);
      expect(store.read().audit.head?.seq).toBe(4);
      // Secrets never reach the file.
      expect(files['audit-2025-01.jsonl']?.[0]?.after).toEqual({ title: '新标题' });
    });

    it('keeps chain order when many changes commit at once', async () => {
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.write((d) => recordAuditAt(d, change({ entityId: `c-${i}` }), new Date('2025-05-05T00:00:00Z')))));
      await audit.flush();
      expect(await allSeqs(dir)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect((await verifyAudit(dir, store.read())).ok).toBe(true);
    });

    it('never puts a later entry in an earlier month file when the clock steps back', async () => {
      await record('2025-02-01T00:00:01Z');
      await record('2025-01-31T23:59:59Z');
      expect(Object.keys(await logFiles(dir))).toEqual(['audit-2025-02.jsonl']);
      expect((await verifyAudit(dir, store.read())).ok).toBe(true);
    });

    it('appends nothing twice after a crash between appending and clearing the outbox', async () => {
      const first = [await record('2025-03-01T10:00:00Z'), await record('2025-03-01T10:01:00Z'), await record('2025-03-01T10:02:00Z')];
      // Stop the writer, then put the store back as a crash would leave it: the entries are in
      // the file but still in the outbox, and one more change committed but not yet appended.
      await audit.close();
      await store.write((d) => {
        d.audit.outbox = structuredClone(first);
      });
      await store.write((d) => recordAuditAt(d, change(), new Date('2025-03-01T10:03:00Z')));
      expect(await allSeqs(dir)).toEqual([1, 2, 3]);

      await restart();
      expect(await allSeqs(dir)).toEqual([1, 2, 3, 4]);
      expect(store.read().audit.outbox).toEqual([]);
      expect((await verifyAudit(dir, store.read())).ok).toBe(true);
    });

    it('cuts a torn last line left by a crash mid-append and appends the entry again', async () => {
      await record('2025-03-01T10:00:00Z');
      await audit.close();
      const pending = await store.write((d) => recordAuditAt(d, change(), new Date('2025-03-01T10:01:00Z')));
      await appendFile(path.join(dir, AUDIT_DIR, 'audit-2025-03.jsonl'), JSON.stringify(pending).slice(0, 40));

      // Before the restart the log is still whole: the fragment's entry is in the outbox.
      const before = await verifyAudit(dir, store.read());
      expect(before.ok).toBe(true);
      expect(before.notices.map((n) => n.code)).toEqual(['TORN_TAIL']);

      await restart();
      expect(await allSeqs(dir)).toEqual([1, 2]);
      expect(warnings.some((w) => w.includes('torn'))).toBe(true);
      const after = await verifyAudit(dir, store.read());
      expect(after).toMatchObject({ ok: true, entries: 2, notices: [] });
    });
  });

  describe('verification', () => {
    // Four entries in January, four in February.
    beforeEach(async () => {
      for (let i = 1; i <= 8; i++) await record(i <= 4 ? `2025-01-0${i}T08:00:00Z` : `2025-02-0${i - 4}T08:00:00Z`, { entityId: `c-${i}` });
    });

    it('passes an intact log', async () => {
      const r = await verifyAudit(dir, store.read());
      expect(r).toMatchObject({ ok: true, entries: 8, files: 2, firstSeq: 1, lastSeq: 8, problems: [], notices: [] });
      expect(r.anchor).toEqual(store.read().audit.head);
    });

    it('detects an edited line: its hash no longer matches', async () => {
      await editFile(dir, '2025-01', (lines) =>
        lines.map((l, i) => (i === 2 ? JSON.stringify({ ...(JSON.parse(l) as AuditEntry), after: { title: '篡改后的标题' } }) : l)),
      );
      const r = await verifyAudit(dir, store.read());
      expect(r.ok).toBe(false);
      expect(r.problems).toEqual([expect.objectContaining({ code: 'HASH_MISMATCH', seq: 3, file: 'audit-2025-01.jsonl', line: 3 })]);
    });

    it('detects a truncated tail against the anchor in the store', async () => {
      await editFile(dir, '2025-02', (lines) => lines.slice(0, -2));
      const r = await verifyAudit(dir, store.read());
      expect(codes(r)).toEqual(['TRUNCATED']);
      expect(r.lastSeq).toBe(6);
    });

    it('detects a tail rewritten with a consistent, recomputed chain', async () => {
      await editFile(dir, '2025-02', (lines) => {
        const entries = lines.map((l) => JSON.parse(l) as AuditEntry);
        let prevHash = (entries[0] as AuditEntry).hash;
        return entries.map((e, i) => {
          if (i === 0) return JSON.stringify(e);
          const forged = rehash({ ...e, detail: 'nothing to see' }, prevHash);
          prevHash = forged.hash;
          return JSON.stringify(forged);
        });
      });
      const r = await verifyAudit(dir, store.read());
      // Every line hashes and chains: only the anchor shows the rewrite.
      expect(codes(r)).toEqual(['ANCHOR_MISMATCH']);
      expect(r.problems[0]?.seq).toBe(8);
    });

    it('detects a deleted line in the middle', async () => {
      await editFile(dir, '2025-02', (lines) => lines.slice(1));
      const r = await verifyAudit(dir, store.read());
      expect(r.problems).toEqual([expect.objectContaining({ code: 'SEQ_GAP', seq: 6, file: 'audit-2025-02.jsonl', line: 1 })]);
    });

    it('detects a deleted month file and a removed beginning', async () => {
      await unlink(path.join(dir, AUDIT_DIR, 'audit-2025-01.jsonl'));
      expect(codes(await verifyAudit(dir, store.read()))).toEqual(['START_MISSING']);
    });

    it('detects a malformed line', async () => {
      await editFile(dir, '2025-01', (lines) => lines.map((l, i) => (i === 1 ? '{"seq": 2, "oops"' : l)));
      const r = await verifyAudit(dir, store.read());
      expect(r.problems[0]).toMatchObject({ code: 'MALFORMED', file: 'audit-2025-01.jsonl', line: 2 });
      expect(r.ok).toBe(false);
    });

    it('detects entries forged past the anchor', async () => {
      const last = (await logFiles(dir))['audit-2025-02.jsonl']?.at(-1) as AuditEntry;
      const forged = rehash({ ...last, seq: 9, action: 'content.delete' }, last.hash);
      await appendFile(path.join(dir, AUDIT_DIR, 'audit-2025-02.jsonl'), JSON.stringify(forged) + '\n');
      expect(codes(await verifyAudit(dir, store.read()))).toEqual(['ANCHOR_MISMATCH']);
    });

    it('counts committed entries still in the outbox as the chain’s continuation', async () => {
      await audit.close();
      await store.write((d) => recordAuditAt(d, change(), new Date('2025-02-10T00:00:00Z')));
      await store.write((d) => recordAuditAt(d, change(), new Date('2025-02-11T00:00:00Z')));
      expect(await allSeqs(dir)).toHaveLength(8);
      expect(await verifyAudit(dir, store.read())).toMatchObject({ ok: true, entries: 10, lastSeq: 10 });
    });

    it('verify() on the service agrees', async () => {
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 8 });
    });

    describe('npm run audit:verify', () => {
      const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
      const cli = (...args: string[]) => run(tsx, ['server/cli/audit-verify.ts', ...args]);

      it('exits 0 on an intact log and reports in Chinese first', async () => {
        const r = await cli('--data-dir', dir);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(/审计日志完整.*Audit log intact/);
        expect(r.stdout).toContain('8 条记录 entries');
      });

      it('exits 1 on a tampered log and names the line', async () => {
        await editFile(dir, '2025-01', (lines) => lines.map((l, i) => (i === 0 ? l.replace('新标题', '假标题') : l)));
        const r = await cli(`--data-dir=${dir}`);
        expect(r.code, r.stdout + r.stderr).toBe(1);
        expect(r.stdout).toMatch(/审计日志校验失败.*FAILED/);
        expect(r.stdout).toContain('[HASH_MISMATCH] (audit-2025-01.jsonl:1, seq 1)');
      });

      it('exits 1 on a truncated log, with --json', async () => {
        await editFile(dir, '2025-02', (lines) => lines.slice(0, -1));
        const r = await cli('--data-dir', dir, '--json');
        expect(r.code).toBe(1);
        expect((JSON.parse(r.stdout) as { problems: { code: string }[] }).problems.map((p) => p.code)).toEqual(['TRUNCATED']);
      });

      it('exits 2 on a usage error', async () => {
        expect((await cli('--bogus')).code).toBe(2);
        expect((await cli('--data-dir', path.join(dir, 'missing'))).code).toBe(2);
      });
    });
  });

  describe('query', () => {
    const staff = (userId: string) => ({ kind: 'staff' as const, userId, username: userId });
    beforeEach(async () => {
      // seq: 1 town-a by u-a (Jan), 2 village-a1 by u-a (Jan), 3 town-b by u-b (Feb),
      // 4 system (Feb), 5 town-a by u-b (Mar), 6 village-a1 by u-a (Mar).
      await record('2025-01-10T00:00:00Z', { zoneId: 'z-a', actor: staff('u-a') });
      await record('2025-01-20T00:00:00Z', { zoneId: 'z-a1', actor: staff('u-a'), entity: 'screen', entityId: 's-1' });
      await record('2025-02-10T00:00:00Z', { zoneId: 'z-b', actor: staff('u-b') });
      await record('2025-02-20T00:00:00Z', { zoneId: null, actor: { kind: 'system', userId: null, username: null }, action: 'auth.login', entity: 'user', entityId: null });
      await record('2025-03-10T00:00:00Z', { zoneId: 'z-a', actor: staff('u-b') });
      await record('2025-03-20T00:00:00Z', { zoneId: 'z-a1', actor: staff('u-a'), entity: 'screen', entityId: 's-1' });
    });

    it('returns everything newest first by default', async () => {
      const page = await audit.query({});
      expect(seqs(page.entries)).toEqual([6, 5, 4, 3, 2, 1]);
      expect(page.nextBeforeSeq).toBeNull();
    });

    it('limits entries to a set of zones, system entries only when the set says so', async () => {
      expect(seqs((await audit.query({ zoneIds: new Set(['z-a', 'z-a1']) })).entries)).toEqual([6, 5, 2, 1]);
      expect(seqs((await audit.query({ zoneIds: new Set(['z-b', null]) })).entries)).toEqual([4, 3]);
      expect(seqs((await audit.query({ zoneId: 'z-a', zoneIds: new Set(['z-a', 'z-a1']) })).entries)).toEqual([5, 1]);
      expect(seqs((await audit.query({ zoneId: 'z-b', zoneIds: new Set(['z-a']) })).entries)).toEqual([]);
    });

    it('filters by user, entity and time', async () => {
      expect(seqs((await audit.query({ userId: 'u-a' })).entries)).toEqual([6, 2, 1]);
      expect(seqs((await audit.query({ entity: 'screen', entityId: 's-1' })).entries)).toEqual([6, 2]);
      expect(seqs((await audit.query({ from: '2025-01-20T00:00:00Z', to: '2025-03-10T00:00:00Z' })).entries)).toEqual([5, 4, 3, 2]);
      expect(seqs((await audit.query({ from: '2025-03-01T00:00:00Z', userId: 'u-a' })).entries)).toEqual([6]);
    });

    it('refuses a time range that ends before it starts', async () => {
      await expect(audit.query({ from: '2025-03-01T00:00:00Z', to: '2025-02-01T00:00:00Z' })).rejects.toMatchObject({ code: 'AUDIT_RANGE_INVALID' });
      await expect(audit.query({ from: '2025-03-01T00:00:00Z', to: '2025-02-01T00:00:00Z' })).rejects.toBeInstanceOf(AppError);
    });

    it('pages backwards by sequence number', async () => {
      const seen: number[] = [];
      let beforeSeq: number | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await audit.query({ limit: 4, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
        seen.push(...seqs(page.entries));
        if (page.nextBeforeSeq === null) break;
        beforeSeq = page.nextBeforeSeq;
      }
      expect(seen).toEqual([6, 5, 4, 3, 2, 1]);
      const filtered = await audit.query({ userId: 'u-a', limit: 2 });
      expect(seqs(filtered.entries)).toEqual([6, 2]);
      expect(seqs((await audit.query({ userId: 'u-a', limit: 2, beforeSeq: filtered.nextBeforeSeq ?? 0 })).entries)).toEqual([1]);
    });

    it('includes entries committed but not yet appended, once each', async () => {
      await audit.close();
      await store.write((d) => recordAuditAt(d, change({ zoneId: 'z-a' }), new Date('2025-03-25T00:00:00Z')));
      // And one entry both in the file and, as after a crash, still in the outbox.
      const inFile = (await logFiles(dir))['audit-2025-03.jsonl']?.at(-1) as AuditEntry;
      await store.write((d) => {
        d.audit.outbox.unshift(inFile);
      });
      expect(seqs((await audit.query({ zoneIds: new Set(['z-a', 'z-a1']) })).entries)).toEqual([7, 6, 5, 2, 1]);
    });
  });

  describe('retention', () => {
    const now = new Date('2025-10-15T09:00:00Z');
    const months = ['2024-11', '2024-12', '2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10'];
    let recorded: AuditEntry[];
    beforeEach(async () => {
      recorded = [];
      for (const m of months) {
        recorded.push(await record(`${m}-01T00:00:00Z`), await record(`${m}-28T23:59:59Z`));
      }
    });

    it('deletes whole months older than the retention, keeps at least six months, and still verifies', async () => {
      const result = await audit.pruneAudit(now);
      expect(result.removed).toEqual(['audit-2024-11.jsonl', 'audit-2024-12.jsonl', 'audit-2025-01.jsonl', 'audit-2025-02.jsonl', 'audit-2025-03.jsonl']);
      expect(result.checkpoint).toEqual({ seq: 10, hash: recorded[9]?.hash });
      expect(result.entry).toMatchObject({ seq: 25, action: 'audit.prune', zoneId: null, at: now.toISOString() });

      // Everything from the last six months is still there.
      const sixMonthsAgo = Date.parse('2025-04-15T09:00:00Z');
      const kept = new Set(await allSeqs(dir));
      for (const e of recorded) if (Date.parse(e.at) >= sixMonthsAgo) expect(kept.has(e.seq), `entry ${e.seq} at ${e.at}`).toBe(true);
      expect(Math.min(...kept)).toBe(11);

      const checkpoint = JSON.parse(await readFile(path.join(dir, AUDIT_DIR, AUDIT_CHECKPOINT_FILE), 'utf8')) as { seq: number };
      expect(checkpoint.seq).toBe(10);
      expect(await verifyAudit(dir, store.read())).toMatchObject({ ok: true, firstSeq: 11, lastSeq: 25 });

      // A second run the same day finds nothing to do and records nothing.
      const head = store.read().audit.head;
      expect(await audit.pruneAudit(now)).toMatchObject({ removed: [], entry: null });
      expect(store.read().audit.head).toEqual(head);

      // And the pruned log survives a restart.
      await restart();
      expect((await audit.verify()).ok).toBe(true);
    });

    it('never keeps less than six months, whatever it is told', async () => {
      await restart(1);
      expect((await audit.pruneAudit(now)).removed.at(-1)).toBe('audit-2025-03.jsonl');
    });

    it('keeps a longer retention when configured', async () => {
      await restart(12);
      expect((await audit.pruneAudit(now)).removed).toEqual([]);
      expect(await allSeqs(dir)).toHaveLength(24);
    });

    it('leaves a verifiable log when interrupted while deleting, and the next run finishes', async () => {
      // Keep copies of what the prune will delete, then put all but the oldest file back: the
      // state a crash after the first unlink leaves.
      const auditDir = path.join(dir, AUDIT_DIR);
      const doomed = ['audit-2024-12.jsonl', 'audit-2025-01.jsonl', 'audit-2025-02.jsonl', 'audit-2025-03.jsonl'];
      const saved = await Promise.all(doomed.map((n) => readFile(path.join(auditDir, n))));
      await audit.pruneAudit(now);
      await Promise.all(doomed.map((n, i) => writeFile(path.join(auditDir, n), saved[i] as Buffer)));
      expect(await verifyAudit(dir, store.read())).toMatchObject({ ok: true, firstSeq: 3 });

      expect((await audit.pruneAudit(now)).removed).toEqual(doomed);
      expect(await verifyAudit(dir, store.read())).toMatchObject({ ok: true, firstSeq: 11 });
    });

    it('still detects a deleted file or an edited checkpoint after pruning', async () => {
      await audit.pruneAudit(now);
      await writeFile(path.join(dir, AUDIT_DIR, AUDIT_CHECKPOINT_FILE), JSON.stringify({ seq: 12, hash: recorded[11]?.hash }));
      await unlink(path.join(dir, AUDIT_DIR, 'audit-2025-04.jsonl'));
      expect(codes(await verifyAudit(dir, store.read()))).toEqual(['START_MISSING', 'CHECKPOINT_MISMATCH']);
    });

    it('refuses to prune a log that fails verification', async () => {
      await editFile(dir, '2025-01', (lines) => lines.map((l) => l.replace('新标题', '假标题')));
      const result = await audit.pruneAudit(now);
      expect(result.removed).toEqual([]);
      expect(result.problems.map((p) => p.code)).toContain('HASH_MISMATCH');
      expect(existsSync(path.join(dir, AUDIT_DIR, 'audit-2024-11.jsonl'))).toBe(true);
    });
  });
});

describe('store.onCommit', () => {
  it('tells listeners after each durable commit, until they unsubscribe', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'zonecast-commit-'));
    const store = await createStore(dir);
    try {
      const seen: number[] = [];
      const off = store.onCommit((d) => {
        // The commit is on disk when the listener hears of it.
        const onDisk = JSON.parse(readFileSync(path.join(dir, 'zonecast.json'), 'utf8')) as { zones: unknown[] };
        seen.push(onDisk.zones.length === d.zones.length ? d.zones.length : -1);
      });
      await store.write((d) => d.zones.push({ id: 'z1', tier: 'city', parentId: null, divisionCode: '371600000000', shortName: '滨州', name: '' }));
      off();
      await store.write((d) => d.zones.pop());
      expect(seen).toEqual([1]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ZONECAST_AUDIT_RETENTION_MONTHS', () => {
  it('defaults to 12 months and refuses less than 6 or a fraction', () => {
    expect(loadConfig({ DATA_DIR: tmpdir() }).auditRetentionMonths).toBe(12);
    expect(loadConfig({ DATA_DIR: tmpdir(), ZONECAST_AUDIT_RETENTION_MONTHS: '6' }).auditRetentionMonths).toBe(6);
    expect(() => loadConfig({ DATA_DIR: tmpdir(), ZONECAST_AUDIT_RETENTION_MONTHS: '5' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: tmpdir(), ZONECAST_AUDIT_RETENTION_MONTHS: '6.5' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: tmpdir(), ZONECAST_AUDIT_RETENTION_MONTHS: 'forever' })).toThrow(ConfigError);
  });
});
