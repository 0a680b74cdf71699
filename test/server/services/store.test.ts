import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Schedule } from '../../../content/index.js';
import { AppError } from '../../../server/errors.js';
import { createStore, type Data, type Store } from '../../../server/services/store.js';
import { repoRoot, run, tsxArgs } from '../../helpers/process.js';

const FILE = 'zonecast.json';

function entry(id: string): Schedule {
  return { id, zoneId: 'city', name: id, validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1, createdAt: '', updatedAt: '' };
}

/** What is on disk right now, parsed; throws if the file is not valid JSON. */
function onDisk(dir: string): Data {
  return JSON.parse(readFileSync(path.join(dir, FILE), 'utf8')) as Data;
}

const ids = (data: Readonly<Data>): string[] => data.schedules.map((s) => s.id);

describe('createStore', () => {
  let dir: string;
  const open: Store[] = [];
  const openStore = async (d = dir): Promise<Store> => {
    const s = await createStore(d);
    open.push(s);
    return s;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'zonecast-store-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('acknowledges a write only once the file on disk holds it', async () => {
    const store = await openStore();
    const result = await store.write((d) => {
      d.schedules.push(entry('a'));
      return 'done';
    });
    expect(result).toBe('done');
    expect(ids(onDisk(dir))).toEqual(['a']);
    expect(ids(store.read())).toEqual(['a']);
  });

  it('commits concurrent writes in the order they were made, each on disk when it resolves', async () => {
    const store = await openStore();
    const names = Array.from({ length: 60 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    const seenOnDisk = new Map<string, boolean>();
    await Promise.all(
      names.map((n) =>
        store
          .write((d) => {
            d.schedules.push(entry(n));
          })
          // Checked synchronously in the resolution callback, before any later flush can run.
          .then(() => seenOnDisk.set(n, ids(onDisk(dir)).includes(n))),
      ),
    );
    expect([...seenOnDisk].filter(([, seen]) => !seen)).toEqual([]);
    expect(ids(onDisk(dir))).toEqual(names);
    expect(ids(store.read())).toEqual(names);
  });

  it('rejects a throwing mutation and leaves no trace of it, while the rest of its batch commits', async () => {
    const store = await openStore();
    // The first write is on disk while the next three queue, so they form one batch.
    const first = store.write((d) => d.schedules.push(entry('first')));
    const before = store.write((d) => d.schedules.push(entry('before')));
    const bad = store.write((d) => {
      d.schedules.push(entry('half-done'));
      d.meta.seededDemo = true;
      throw new AppError('VALIDATION_FAILED', 'no');
    });
    const after = store.write((d) => d.schedules.push(entry('after')));
    await expect(bad).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await Promise.all([first, before, after]);
    expect(ids(onDisk(dir))).toEqual(['first', 'before', 'after']);
    expect(onDisk(dir).meta.seededDemo).toBe(false);
    expect(ids(store.read())).toEqual(['first', 'before', 'after']);
  });

  it('stores exactly what a mutation returned even when a later one in its batch throws', async () => {
    // Route handlers create ids and timestamps inside the mutation and answer with what it
    // returned, so the stored document must be that one, not a re-run of the mutation.
    const store = await openStore();
    const first = store.write((d) => d.schedules.push(entry('first')));
    const created = store.write((d) => {
      const doc = entry(randomUUID());
      d.schedules.push(doc);
      return doc.id;
    });
    const bad = store.write(() => {
      throw new AppError('ZONE_CODE_TAKEN');
    });
    await expect(bad).rejects.toBeInstanceOf(AppError);
    await first;
    const id = await created;
    expect(ids(store.read())).toEqual(['first', id]);
    expect(ids(onDisk(dir))).toEqual(['first', id]);
  });

  it('acknowledges nothing and keeps the committed state when the disk write fails', async () => {
    const store = await openStore();
    await store.write((d) => d.schedules.push(entry('kept')));
    // A non-empty directory where the file goes makes the rename fail.
    await rm(path.join(dir, FILE));
    await mkdir(path.join(dir, FILE, 'blocker'), { recursive: true });
    await expect(store.write((d) => d.schedules.push(entry('lost')))).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    expect(ids(store.read())).toEqual(['kept']);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    await rm(path.join(dir, FILE), { recursive: true });
    await store.write((d) => d.schedules.push(entry('next')));
    expect(ids(onDisk(dir))).toEqual(['kept', 'next']);
  });

  it('copies only the collections a write touches, and a throwing write still leaves no trace in them', async () => {
    const store = await openStore();
    await store.write((d) => void d.schedules.push(entry('a')));
    const before = store.read();
    await store.write((d) => void d.sessions.push({ idHash: 'h', userId: 'u', createdAt: '', lastSeenAt: '', expiresAt: '', absoluteExpiresAt: '' }));
    const after = store.read();
    // Untouched collections are the very same objects; the touched one is new.
    expect(after.schedules).toBe(before.schedules);
    expect(after.content).toBe(before.content);
    expect(after.sessions).not.toBe(before.sessions);
    expect(before.sessions).toEqual([]);
    await expect(
      store.write((d) => {
        d.schedules[0]!.name = 'changed';
        d.sessions.length = 0;
        throw new Error('halfway');
      }),
    ).rejects.toThrow('halfway');
    expect(store.read().schedules[0]?.name).toBe('a');
    expect(store.read().sessions).toHaveLength(1);
    expect(onDisk(dir).schedules[0]?.name).toBe('a');
  });

  it('reads back every committed write after reopening', async () => {
    const store = await openStore();
    for (const n of ['a', 'b', 'c']) await store.write((d) => d.schedules.push(entry(n)));
    await store.close();
    const again = await openStore();
    expect(ids(again.read())).toEqual(['a', 'b', 'c']);
    expect(again.read().meta.createdAt).toBe(store.read().meta.createdAt);
  });

  it('keeps its data on disk under NODE_ENV=test, where lowdb presets would use memory', async () => {
    expect(process.env.NODE_ENV).toBe('test');
    const store = await openStore();
    await store.write((d) => d.schedules.push(entry('persisted')));
    await store.close();
    expect(ids(onDisk(dir))).toEqual(['persisted']);
    expect(ids((await openStore()).read())).toEqual(['persisted']);
  });

  it('removes stale temp files left by a crash on open, without letting them change the data', async () => {
    const store = await openStore();
    await store.write((d) => d.schedules.push(entry('committed')));
    await store.close();
    // One torn write and one complete but never renamed: neither was acknowledged.
    const torn = path.join(dir, `.${FILE}.4242.0123456789ab.tmp`);
    const whole = path.join(dir, `.${FILE}.4243.ba9876543210.tmp`);
    await writeFile(torn, '{"meta":{"schema":1,"createdAt":"2020-');
    const unacknowledged = onDisk(dir);
    unacknowledged.schedules.push(entry('never-acknowledged'));
    await writeFile(whole, JSON.stringify(unacknowledged));
    const unrelated = path.join(dir, 'notes.tmp');
    await writeFile(unrelated, 'not ours');

    const again = await openStore();
    expect(ids(again.read())).toEqual(['committed']);
    expect((await readdir(dir)).sort()).toEqual(['notes.tmp', FILE]);
    await again.write((d) => d.schedules.push(entry('later')));
    expect(ids(onDisk(dir))).toEqual(['committed', 'later']);
  });

  it('leaves a whole, valid JSON file matching the committed state after every write', async () => {
    const store = await openStore();
    for (let i = 0; i < 25; i++) {
      await store.write((d) => {
        d.schedules.push(entry(`n${i}`));
        if (i % 5 === 4) d.schedules.splice(0, 2);
      });
      const text = await readFile(path.join(dir, FILE), 'utf8');
      expect(() => JSON.parse(text) as unknown).not.toThrow();
      expect(JSON.parse(text)).toEqual(store.read());
    }
  });

  it('flushes writes queued before close, then refuses new ones', async () => {
    const store = await openStore();
    const pending = [1, 2, 3].map((n) => store.write((d) => d.schedules.push(entry(`p${n}`))));
    await store.close();
    await Promise.all(pending);
    expect(ids(onDisk(dir))).toEqual(['p1', 'p2', 'p3']);
    await expect(store.write((d) => d.schedules.push(entry('late')))).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
  });
});

/** Whether strace can trace a child here (installed, and ptrace allowed). */
const canStrace = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true']).status === 0;

/** One completed system call from an `strace -f -y` log. */
interface Call {
  readonly name: string;
  readonly args: string;
  readonly ret: string;
}

/** Parses `strace -f -y -qq` output, joining calls split across threads into one at their return. */
function parseStrace(log: string): Call[] {
  const unfinished = new Map<string, string>();
  const calls: Call[] = [];
  for (const raw of log.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (!m?.[1] || m[2] === undefined) continue;
    const [pid, rest] = [m[1], m[2]];
    let line = rest;
    if (line.endsWith('<unfinished ...>')) {
      unfinished.set(pid, line.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (resumed) {
      line = (unfinished.get(pid) ?? '') + (resumed[1] ?? '');
      unfinished.delete(pid);
    }
    const call = /^(\w+)\((.*)\)\s+= (.*)$/.exec(line);
    if (call?.[1] && call[2] !== undefined && call[3] !== undefined) calls.push({ name: call[1], args: call[2], ret: call[3] });
  }
  return calls;
}

const quoted = (args: string): string[] => [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
/** The path strace -y prints after a descriptor argument, e.g. `19</data/zonecast.json>`. */
const fdPath = (args: string): string | undefined => /^\d+<([^>]*)>/.exec(args)?.[1];

describe('createStore on the system-call level', () => {
  // CI installs strace (.ci/run), so there this test always runs; elsewhere it needs strace.
  it.skipIf(!canStrace && !process.env.CI)('fsyncs the temp file, renames it, fsyncs the directory, and only then acknowledges', async () => {
    const root = await realpath(await mkdtemp(path.join(tmpdir(), 'zonecast-strace-')));
    try {
      // The data dir does not exist yet: the store creates it and must make its entry durable too.
      const dataDir = path.join(root, 'fresh', 'data');
      const file = path.join(dataDir, FILE);
      const names = Array.from({ length: 8 }, (_, i) => `entry-${String(i + 1).padStart(2, '0')}`);
      const storeUrl = pathToFileURL(path.join(repoRoot, 'server/services/store.ts')).href;
      // Each acknowledgement is made visible to strace as a failing access() of a marker path.
      const script = `
        import { accessSync } from 'node:fs';
        import { createStore } from ${JSON.stringify(storeUrl)};
        const names = ${JSON.stringify(names)};
        const ack = (n) => { try { accessSync('/zonecast-ack/' + n); } catch {} };
        const entry = (id) => ({ id, zoneId: 'city', name: id, validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1, createdAt: '', updatedAt: '' });
        const store = await createStore(${JSON.stringify(dataDir)});
        for (const n of names.slice(0, 3)) { await store.write((d) => { d.schedules.push(entry(n)); }); ack(n); }
        await Promise.all(names.slice(3).map((n) => store.write((d) => { d.schedules.push(entry(n)); }).then(() => ack(n))));
        await store.close();
      `;
      const traceFile = path.join(root, 'trace');
      const syscalls = 'openat,open,close,write,pwrite64,writev,pwritev,fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat,access,faccessat,faccessat2';
      // io_uring would take file I/O out of strace's sight; libuv honours this switch.
      const res = await run('strace', ['-f', '-y', '-qq', '-s', '65536', '-e', `trace=${syscalls}`, '-o', traceFile, process.execPath, ...tsxArgs('--input-type=module', '-e', script)], {
        env: { ...process.env, UV_USE_IO_URING: '0' },
      });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const calls = parseStrace(await readFile(traceFile, 'utf8'));

      const ACK = '/zonecast-ack/';
      const acks = calls.flatMap((c, i) => {
        const p = quoted(c.args)[0];
        return c.name.includes('access') && p?.startsWith(ACK) ? [{ i, name: p.slice(ACK.length) }] : [];
      });
      expect(acks.map((a) => a.name).sort()).toEqual(names);
      const fsyncedDirAt = (d: string): number[] => calls.flatMap((c, i) => (c.name === 'fsync' && c.ret === '0' && fdPath(c.args) === d ? [i] : []));

      // Both new directories' entries (in root and in root/fresh) are fsynced before the first ack.
      const firstAck = Math.min(...acks.map((a) => a.i));
      const made = calls.findIndex((c) => c.name.startsWith('mkdir') && quoted(c.args)[0] === dataDir && c.ret === '0');
      expect(made).toBeGreaterThanOrEqual(0);
      for (const parent of [root, path.dirname(dataDir)]) expect(fsyncedDirAt(parent).some((i) => i > made && i < firstAck), `fsync of ${parent}`).toBe(true);

      for (const { i: ackAt, name } of acks) {
        let renameAt = -1;
        for (let i = 0; i < ackAt; i++) {
          const c = calls[i];
          if (c && c.name.startsWith('rename') && c.ret === '0' && quoted(c.args)[1] === file) renameAt = i;
        }
        expect(renameAt, `a rename onto the file before ${name} is acknowledged`).toBeGreaterThanOrEqual(0);
        const tmp = quoted(calls[renameAt]?.args ?? '')[0] ?? '';
        expect(path.dirname(tmp)).toBe(dataDir);
        const onTmp = (syscallNames: string[]): number[] => calls.flatMap((c, i) => (i < renameAt && syscallNames.includes(c.name) && fdPath(c.args) === tmp ? [i] : []));
        const created = calls.findIndex((c) => c.name.startsWith('open') && quoted(c.args)[0] === tmp && c.args.includes('O_EXCL'));
        const writes = onTmp(['write', 'pwrite64', 'writev', 'pwritev']);
        const syncs = onTmp(['fsync', 'fdatasync']);
        const closes = onTmp(['close']);
        expect(created, `${name}: temp file created exclusively`).toBeGreaterThanOrEqual(0);
        expect(writes.some((i) => calls[i]?.args.includes(name)), `${name}: its data written to the temp file`).toBe(true);
        // Every byte written is covered by an fsync that completes before the close and the rename.
        const lastSync = Math.max(...syncs);
        expect(lastSync, `${name}: temp file fsynced after its last write`).toBeGreaterThan(Math.max(...writes));
        expect(Math.max(...closes), `${name}: temp file closed after the fsync`).toBeGreaterThan(lastSync);
        expect(fsyncedDirAt(dataDir).some((i) => i > renameAt && i < ackAt), `${name}: directory fsynced after the rename, before the ack`).toBe(true);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('migrate', () => {
  it('upgrades a version-1 document: owner zones on layouts and schedules, review state on content', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'zonecast-migrate-'));
    try {
      const v1 = {
        meta: { schema: 1, createdAt: '2026-01-01T00:00:00.000Z', seededDemo: true },
        zones: [{ id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '' }],
        screens: [],
        layouts: [{ id: 'lay', name: 'L', width: 100, height: 50, background: '#000000', regions: [], createdAt: '', updatedAt: '' }],
        playlists: [],
        schedules: [{ id: 'sch', name: 'S', validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1, createdAt: '', updatedAt: '' }],
        media: [],
        content: [
          { id: 'pub', kind: 'text', zoneId: 'city', title: 'P', status: 'published', validFrom: null, validTo: null, durationS: null, body: '已发布', align: 'left', createdAt: '', updatedAt: '' },
          { id: 'dra', kind: 'text', zoneId: 'city', title: 'D', status: 'draft', validFrom: null, validTo: null, durationS: null, body: '草稿', align: 'left', createdAt: '', updatedAt: '' },
        ],
      };
      await writeFile(path.join(dir, FILE), JSON.stringify(v1));
      const store = await createStore(dir);
      const data = store.read();
      expect(data.meta.schema).toBe(2);
      expect(data.layouts[0]?.zoneId).toBe('city');
      expect(data.schedules[0]?.zoneId).toBe('city');
      const pub = data.content.find((c) => c.id === 'pub');
      expect(pub).toMatchObject({ status: 'published', published: { id: 'pub', body: '已发布' } });
      expect(pub?.published).not.toHaveProperty('status');
      expect(data.content.find((c) => c.id === 'dra')).toMatchObject({ status: 'draft', published: null });
      expect(data.users).toEqual([]);
      expect(data.audit).toEqual({ head: null, outbox: [] });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
