import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, AlertInput, Delivery } from '../../../content/index.js';
import { createDeliveryJournal, DELIVERY_JOURNAL_FILE, migrateLegacyDeliveries, type DeliveryStore } from '../../../server/services/delivery-journal.js';
import { AppError } from '../../../server/errors.js';
import { createStore, emptyData } from '../../../server/services/store.js';
import { buildTestApp, connectScreen, once } from '../../helpers/app.js';
import { startServer } from '../../helpers/process.js';

let dir = '';
const open: DeliveryStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'zonecast-journal-'));
});
afterEach(async () => {
  for (const j of open.splice(0)) await j.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function journal(opts: Parameters<typeof createDeliveryJournal>[1] = {}): Promise<DeliveryStore> {
  const j = await createDeliveryJournal(dir, opts);
  open.push(j);
  return j;
}

/** Closes a journal the test opened (as a clean shutdown would). */
async function closeJournal(j: DeliveryStore): Promise<void> {
  open.splice(open.indexOf(j), 1);
  await j.close();
}

const file = () => path.join(dir, DELIVERY_JOURNAL_FILE);

function delivery(alertId: string, screenId: string, over: Partial<Delivery> = {}): Delivery {
  return {
    alertId,
    screenId,
    zoneId: 'beiji',
    state: 'pending',
    attempts: 1,
    lastAttemptAt: '2026-05-01T08:00:00.000Z',
    deliveredAt: null,
    displayedAt: null,
    frameAt: null,
    nextRetryAt: '2026-05-01T08:00:05.000Z',
    ...over,
  };
}

const displayed = (alertId: string, screenId: string) =>
  delivery(alertId, screenId, { state: 'displayed', deliveredAt: '2026-05-01T08:00:00.100Z', displayedAt: '2026-05-01T08:00:00.100Z', frameAt: '2026-05-01T08:00:00.090Z', nextRetryAt: null });

/** Every delivery held, as `alert@revision/screen: state`, sorted. */
const states = (j: DeliveryStore) =>
  [...j.read().entries()].map(({ revision, delivery: d }) => `${d.alertId}@${revision}/${d.screenId}: ${d.state}`).sort();

describe('createDeliveryJournal', () => {
  it('replays boards, changes and removals after a restart, the last record of each delivery winning', async () => {
    const j = await journal();
    await j.write((d) => d.start('a1', 1, [delivery('a1', 's1'), delivery('a1', 's2'), delivery('a1', 's3')]));
    await j.write((d) => d.put(1, displayed('a1', 's1')));
    await j.write((d) => {
      d.put(1, delivery('a1', 's2', { state: 'delivered', deliveredAt: '2026-05-01T08:00:00.050Z' }));
      d.put(1, displayed('a1', 's2'));
    });
    // An amendment's board for revision 2, and an alert that went with the retention clean-up.
    await j.write((d) => d.start('a1', 2, [delivery('a1', 's1'), delivery('a1', 's4')]));
    await j.write((d) => d.start('gone', 1, [delivery('gone', 's1')]));
    await j.write((d) => d.drop('gone'));
    await j.write((d) => d.drop('a1', 's3'));
    const before = states(j);
    expect(before).toEqual(['a1@1/s1: displayed', 'a1@1/s2: displayed', 'a1@2/s1: pending', 'a1@2/s4: pending']);
    await closeJournal(j);

    const again = await journal();
    expect(states(again)).toEqual(before);
    expect(again.read().get('a1', 1, 's1')).toEqual(displayed('a1', 's1'));
    expect(again.read().size).toBe(4);
    // What the retry job looks at: the deliveries with a retry scheduled.
    const due = [...again.read().retrying()].flatMap((b) => [...b.due.keys()].map((s) => `${b.alertId}@${b.revision}/${s}`)).sort();
    expect(due).toEqual(['a1@2/s1', 'a1@2/s4']);
    // Superseded revisions go from memory when the owner says so, and from the file when it is compacted.
    again.forget('a1', 2);
    expect(states(again)).toEqual(['a1@2/s1: pending', 'a1@2/s4: pending']);
    // A record about the superseded revision that was still on its way does not bring its board back.
    await again.write((d) => d.put(1, displayed('a1', 's2')));
    expect(states(again)).toEqual(['a1@2/s1: pending', 'a1@2/s4: pending']);
  });

  it('ignores a torn last line after a crash, cuts it off, and appends cleanly after it', async () => {
    const j = await journal();
    await j.write((d) => d.start('a1', 1, [delivery('a1', 's1'), delivery('a1', 's2')]));
    await j.write((d) => d.put(1, displayed('a1', 's1')));
    await closeJournal(j);
    const whole = (await stat(file())).size;
    // The crash: the next append was half written and never acknowledged.
    const next = `${JSON.stringify({ r: 1, d: displayed('a1', 's2') })}\n`;
    await appendFile(file(), next.slice(0, 40));

    const again = await journal();
    expect(states(again)).toEqual(['a1@1/s1: displayed', 'a1@1/s2: pending']);
    expect((await stat(file())).size).toBe(whole);
    await again.write((d) => d.put(1, displayed('a1', 's2')));
    await closeJournal(again);
    const third = await journal();
    expect(states(third)).toEqual(['a1@1/s1: displayed', 'a1@1/s2: displayed']);
    // Every line in the file is whole JSON again.
    for (const line of (await readFile(file(), 'utf8')).split('\n').filter(Boolean)) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('ignores everything from a line that is not whole JSON on, as the unacknowledged rest of the last append', async () => {
    const j = await journal();
    await j.write((d) => d.start('a1', 1, [delivery('a1', 's1')]));
    await closeJournal(j);
    const whole = (await stat(file())).size;
    // A file system may leave zeros where the data of an unfinished append was to go.
    await appendFile(file(), `${'\u0000'.repeat(30)}\n${JSON.stringify({ r: 1, d: displayed('a1', 's1') })}\n`);
    const again = await journal();
    expect(states(again)).toEqual(['a1@1/s1: pending']);
    expect((await stat(file())).size).toBe(whole);
  });

  it('compacts once the file holds several times the live deliveries, keeping the latest state of each', async () => {
    const j = await journal({ compactAt: { factor: 3, minRecords: 10 } });
    await j.write((d) => d.start('a1', 1, [delivery('a1', 's1'), delivery('a1', 's2')]));
    await j.write((d) => d.start('a2', 1, [delivery('a2', 's1')]));
    let largest = 0;
    for (let attempt = 2; attempt <= 30; attempt++) {
      await j.write((d) => d.put(1, delivery('a1', 's1', { attempts: attempt })));
      largest = Math.max(largest, (await stat(file())).size);
    }
    await j.write((d) => d.put(1, displayed('a1', 's2')));
    const lines = (await readFile(file(), 'utf8')).split('\n').filter(Boolean);
    // Rewritten once the file held 20 records for 3 live deliveries: a header and a line per board,
    // then the 13 records that came after, instead of the 33 lines appended.
    expect(lines.length).toBe(16);
    expect(JSON.parse(lines[0] ?? '')).toEqual({ journal: 'zonecast-deliveries', v: 1 });
    expect((await stat(file())).size).toBeLessThan(largest);
    await closeJournal(j);

    const again = await journal();
    expect(again.read().get('a1', 1, 's1')?.attempts).toBe(30);
    expect(states(again)).toEqual(['a1@1/s1: pending', 'a1@1/s2: displayed', 'a2@1/s1: pending']);
  });

  it('leaves no trace of a mutation that throws, while the rest of its batch is written', async () => {
    const j = await journal();
    const results = await Promise.allSettled([
      j.write((d) => d.put(1, delivery('a1', 's1'))),
      j.write((d) => {
        d.put(1, delivery('a1', 's2'));
        throw new Error('halfway');
      }),
      j.write((d) => d.put(1, displayed('a1', 's3'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(states(j)).toEqual(['a1@1/s1: pending', 'a1@1/s3: displayed']);
    await closeJournal(j);
    expect(states(await journal())).toEqual(['a1@1/s1: pending', 'a1@1/s3: displayed']);
  });
});

describe('migrateLegacyDeliveries', () => {
  const alert = (id: string, revision: number): Alert => ({
    id,
    severity: 'extreme',
    title: '暴雨红色预警',
    text: '',
    mediaHash: null,
    targetZoneIds: ['beiji'],
    ttlMinutes: 60,
    source: 'composer',
    capRef: null,
    revision,
    createdBy: 'u',
    createdAt: '2026-05-01T08:00:00.000Z',
    updatedAt: '2026-05-01T08:00:00.000Z',
    expiresAt: '2026-05-01T09:00:00.000Z',
    clearedAt: null,
    clearedBy: null,
  });

  it('moves the boards of a document written before the journal into it, once, under each alert’s current revision', async () => {
    const legacy = [displayed('amended', 's1'), delivery('amended', 's2'), delivery('plain', 's1'), delivery('orphan', 's9')];
    const doc = { ...emptyData(), alerts: [alert('amended', 3), alert('plain', 1)], deliveries: legacy };
    await writeFile(path.join(dir, 'zonecast.json'), JSON.stringify(doc));

    const store = await createStore(dir);
    const j = await journal();
    expect(await migrateLegacyDeliveries(store, j)).toBe(4);
    expect(states(j)).toEqual(['amended@3/s1: displayed', 'amended@3/s2: pending', 'orphan@1/s9: pending', 'plain@1/s1: pending']);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'zonecast.json'), 'utf8')) as Record<string, unknown>;
    expect('deliveries' in onDisk).toBe(false);
    expect((onDisk.alerts as Alert[]).map((a) => a.id)).toEqual(['amended', 'plain']);
    await store.close();
    await closeJournal(j);

    // Restarted: nothing more to move, and the boards come from the journal.
    const store2 = await createStore(dir);
    const j2 = await journal();
    expect(await migrateLegacyDeliveries(store2, j2)).toBe(0);
    expect(states(j2)).toEqual(['amended@3/s1: displayed', 'amended@3/s2: pending', 'orphan@1/s9: pending', 'plain@1/s1: pending']);
    await store2.close();
  });

  it('moves them again, to the same effect, after a crash between the journal write and the document write', async () => {
    const legacy = [displayed('plain', 's1'), delivery('plain', 's2')];
    await writeFile(path.join(dir, 'zonecast.json'), JSON.stringify({ ...emptyData(), alerts: [alert('plain', 1)], deliveries: legacy }));
    // The first attempt's journal write made it to disk; its document write did not.
    const first = await journal();
    await first.write((d) => d.start('plain', 1, legacy));
    await closeJournal(first);

    const store = await createStore(dir);
    const j = await journal();
    expect(await migrateLegacyDeliveries(store, j)).toBe(2);
    expect(states(j)).toEqual(['plain@1/s1: displayed', 'plain@1/s2: pending']);
    await store.close();
  });
});

describe('alert boards in the journal', () => {
  const input: AlertInput = { severity: 'extreme', title: '暴雨红色预警', text: '请立即转移。', mediaHash: null, targetZoneIds: ['beiji'], ttlMinutes: 60 };
  const SYSTEM = { kind: 'system' as const, userId: null, username: null };

  it('commits an alert only once its board is durable, not at all when the board cannot be written, and drops an uncommitted amendment’s board on restart', async () => {
    const t = await buildTestApp({ demo: true, dataDir: dir });
    const onDisk = async () => (JSON.parse(await readFile(path.join(dir, 'zonecast.json'), 'utf8')) as { alerts: Alert[] }).alerts.map((a) => `${a.id}@${a.revision}`);
    let alert: Alert | undefined;
    try {
      // The journal's appends take effect only when the test says so.
      const append = t.app.deliveries.write.bind(t.app.deliveries);
      let gate: Promise<void> = Promise.resolve();
      let open = () => undefined as void;
      const hold = () => (gate = new Promise<void>((resolve) => (open = resolve)));
      t.app.deliveries.write = (mutate) => append(mutate).then(async (result) => (await gate, result));

      hold();
      const creating = t.app.alerts.create(input, { actor: SYSTEM, source: 'composer', capRef: null });
      await new Promise((r) => setTimeout(r, 300));
      expect(t.app.store.read().alerts).toEqual([]);
      expect(await onDisk()).toEqual([]);
      open();
      alert = await creating;
      expect(await onDisk()).toEqual([`${alert.id}@1`]);
      expect(t.app.deliveries.read().board(alert.id, 1).size).toBe(3);

      hold();
      const amending = t.app.alerts.amend(alert.id, { ...input, targetZoneIds: ['potou'] }, SYSTEM);
      await new Promise((r) => setTimeout(r, 300));
      expect(await onDisk()).toEqual([`${alert.id}@1`]);
      open();
      await amending;
      expect(await onDisk()).toEqual([`${alert.id}@2`]);
      expect([...t.app.deliveries.read().board(alert.id, 2).keys()]).toEqual(['scr-potou']);

      // A board that cannot be written: no alert, in memory or on disk.
      t.app.deliveries.write = () => Promise.reject(new AppError('STORE_WRITE_FAILED', 'disk full'));
      await expect(t.app.alerts.create(input, { actor: SYSTEM, source: 'composer', capRef: null })).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
      await expect(t.app.alerts.amend(alert.id, input, SYSTEM)).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
      expect(t.app.store.read().alerts.map((a) => `${a.id}@${a.revision}`)).toEqual([`${alert.id}@2`]);
      expect(await onDisk()).toEqual([`${alert.id}@2`]);

      // What a crash between an amendment's board and its commit leaves: a board for revision 3.
      t.app.deliveries.write = append;
      const id = alert.id;
      await t.app.deliveries.write((d) => d.start(id, 3, [delivery(id, 'scr-beiji')]));
    } finally {
      await t.close({ keepData: true });
    }
    const again = await buildTestApp({ dataDir: dir });
    try {
      const id = alert?.id ?? '';
      expect(again.app.deliveries.read().revisions(id)).toEqual([2]);
      expect(again.app.alerts.deliveries(id).map((d) => d.screenId)).toEqual(['scr-potou']);
    } finally {
      await again.close({ keepData: true });
    }
  });

  it('keeps an acknowledgement through a SIGKILL of the server once it was answered', async () => {
    // The demo city and an alert to 北极镇, made in this process; the server then runs on its own.
    const t = await buildTestApp({ demo: true, dataDir: dir });
    const token = t.demo.find((s) => s.id === 'scr-potou')?.token ?? '';
    const alert = await t.app.alerts.create(input, { actor: SYSTEM, source: 'composer', capRef: null });
    await t.close({ keepData: true });

    const server = await startServer({ dataDir: dir, readyMs: 90_000 });
    const socket = connectScreen(server.url, token);
    const frameAt = Date.now();
    try {
      const show = await once(socket, 'alert:show', 15_000);
      expect(show).toMatchObject({ alertId: alert.id, revision: 1 });
      const answer = await socket.timeout(10_000).emitWithAck('alert:ack', { alertId: alert.id, revision: 1, stage: 'displayed', at: frameAt });
      expect(answer).toEqual({ ok: true, data: null });
      server.child.kill('SIGKILL');
      await server.exited;
    } finally {
      socket.disconnect();
      server.child.kill('SIGKILL');
    }

    const again = await buildTestApp({ dataDir: dir });
    try {
      expect(again.app.deliveries.read().get(alert.id, 1, 'scr-potou')).toMatchObject({ state: 'displayed', frameAt: new Date(frameAt).toISOString() });
      expect(again.app.alerts.deliveries(alert.id).find((d) => d.screenId === 'scr-potou')?.state).toBe('displayed');
      // The others are still waiting, with their retries.
      expect(again.app.deliveries.read().get(alert.id, 1, 'scr-dingjia')).toMatchObject({ state: 'pending', attempts: 1 });
    } finally {
      await again.close({ keepData: true });
    }
  }, 180_000);
});
