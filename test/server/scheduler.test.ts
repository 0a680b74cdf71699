import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Alert, ClientToServerEvents, Delivery, ScreenStatus, ServerToClientEvents } from '../../content/index.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { createScheduler, housekeepingJobs, runRetention, type AlertRetrier, type Job, type Scheduler } from '../../server/services/scheduler.js';
import type { Data, LoginCounter, StoredPairing, StoredSession } from '../../server/services/store.js';
import { buildTestApp, connectScreen, once, type ScreenSocket, type TestApp } from '../helpers/app.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A logger that keeps what it was told. */
function memoryLog() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A promise to hold a job in the middle of its run until the test lets it go. */
function gate() {
  let open!: () => void;
  const closed = new Promise<void>((r) => (open = r));
  return { closed, open };
}

const EVERY_SECOND = '* * * * * *';
const waitLong = { timeout: 10_000, interval: 20 };
const statusOf = (s: Scheduler, name: string) => s.status().find((j) => j.name === name);

describe('the scheduler', () => {
  const started: Scheduler[] = [];
  const make = (jobs: Job[], timeZone = 'Asia/Shanghai') => {
    const { lines, log } = memoryLog();
    const s = createScheduler({ jobs, timeZone, log });
    started.push(s);
    return { s, lines };
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  it('runs a named job on its seconds-level cron schedule once started, and no more once stopped', async () => {
    let runs = 0;
    const { s } = make([{ name: 'tick', cron: EVERY_SECOND, run: () => ++runs }]);
    expect(statusOf(s, 'tick')?.nextRunAt).toBeNull();
    s.start();
    expect(statusOf(s, 'tick')?.nextRunAt).not.toBeNull();
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(1), waitLong);
    expect(statusOf(s, 'tick')).toMatchObject({ runs, failures: 0, lastError: null });
    await s.stop();
    const after = runs;
    expect(statusOf(s, 'tick')?.nextRunAt).toBeNull();
    // Past the next second boundary, through the event loop: a stopped schedule does not fire.
    const boundary = Math.ceil(Date.now() / 1000) * 1000 + 100;
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(boundary), waitLong);
    expect(runs).toBe(after);
  });

  it('reads the cron expression on the given time zone', () => {
    const job = { name: 'nightly', cron: '0 17 3 * * *', run: () => undefined };
    const city = make([job], 'Asia/Shanghai').s;
    const utc = make([job], 'UTC').s;
    city.start();
    utc.start();
    const cityNext = new Date(statusOf(city, 'nightly')?.nextRunAt ?? '');
    const utcNext = new Date(statusOf(utc, 'nightly')?.nextRunAt ?? '');
    // 03:17 in Shanghai (UTC+8, no DST) is 19:17 UTC.
    expect([cityNext.getUTCHours(), cityNext.getUTCMinutes()]).toEqual([19, 17]);
    expect([utcNext.getUTCHours(), utcNext.getUTCMinutes()]).toEqual([3, 17]);
    expect(statusOf(city, 'nightly')?.timeZone).toBe('Asia/Shanghai');
  });

  it('never runs a slow job twice at once: a scheduled run is skipped, a runNow waits its turn', async () => {
    let active = 0;
    let most = 0;
    let hold = gate();
    const { s, lines } = make([
      {
        name: 'slow',
        cron: EVERY_SECOND,
        async run() {
          most = Math.max(most, ++active);
          await hold.closed;
          active--;
        },
      },
    ]);
    s.start();
    await vi.waitFor(() => expect(statusOf(s, 'slow')?.running).toBe(true), waitLong);
    // The next second comes while the first run still holds.
    await vi.waitFor(() => expect(statusOf(s, 'slow')?.overlaps).toBeGreaterThanOrEqual(1), waitLong);
    expect(statusOf(s, 'slow')?.runs).toBe(1);
    expect(lines.some((l) => l.level === 'warn' && l.obj.job === 'slow')).toBe(true);

    let manualDone = false;
    const manual = s.runNow('slow').then(() => (manualDone = true));
    await new Promise((r) => setImmediate(r));
    expect(statusOf(s, 'slow')?.runs).toBe(1);
    expect(manualDone).toBe(false);
    const first = hold;
    hold = gate();
    hold.open();
    first.open();
    await manual;
    expect(most).toBe(1);
    expect(statusOf(s, 'slow')?.runs).toBeGreaterThanOrEqual(2);
  });

  it('logs a failing job with its name, keeps it for diagnostics, and keeps the schedule going', async () => {
    let healthy = 0;
    const { s, lines } = make([
      {
        name: 'boom',
        cron: EVERY_SECOND,
        run: () => {
          throw new Error('disk on fire');
        },
      },
      { name: 'fine', cron: EVERY_SECOND, run: () => ++healthy },
    ]);
    s.start();
    await vi.waitFor(() => expect(statusOf(s, 'boom')?.failures).toBeGreaterThanOrEqual(2), waitLong);
    expect(healthy).toBeGreaterThanOrEqual(1);
    expect(statusOf(s, 'boom')).toMatchObject({ lastError: { message: 'disk on fire' }, running: false });
    const logged = lines.filter((l) => l.level === 'error' && l.obj.job === 'boom');
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect((logged[0]?.obj.err as Error).message).toBe('disk on fire');
    expect(statusOf(s, 'fine')?.failures).toBe(0);
  });

  it('runs a job on demand: answers its result, rejects with its error, refuses unknown names and a stopped scheduler', async () => {
    const { s, lines } = make([
      { name: 'answer', cron: '0 0 1 1 *', run: async () => 42 },
      { name: 'fails', cron: '0 0 1 1 *', run: async () => Promise.reject(new Error('nope')) },
    ]);
    // Not started: the schedule is off, but a job still runs on demand.
    await expect(s.runNow('answer')).resolves.toBe(42);
    await expect(s.runNow('fails')).rejects.toThrow('nope');
    expect(lines.some((l) => l.level === 'error' && l.obj.job === 'fails')).toBe(true);
    await expect(s.runNow('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await s.stop();
    await expect(s.runNow('answer')).rejects.toThrow(/stopped/);
  });

  it('waits for a running job when stopped', async () => {
    const hold = gate();
    let finished = false;
    const { s } = make([
      {
        name: 'long',
        cron: '0 0 1 1 *',
        async run() {
          await hold.closed;
          finished = true;
        },
      },
    ]);
    s.start();
    const running = s.runNow('long');
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    hold.open();
    await stopping;
    expect(finished).toBe(true);
    await running;
  });

  it('refuses a cron expression it cannot read, and two jobs of one name, at creation', () => {
    const { log } = memoryLog();
    expect(() => createScheduler({ jobs: [{ name: 'x', cron: '61 * * * * *', run: () => undefined }], timeZone: 'UTC', log })).toThrow(/x/);
    expect(() => createScheduler({ jobs: [{ name: 'x', cron: '* * * * *', run: () => undefined }, { name: 'x', cron: '* * * * *', run: () => undefined }], timeZone: 'UTC', log })).toThrow(/two jobs/);
  });
});

describe('scheduler configuration', () => {
  const base = { DATA_DIR: '/tmp/zc-config' };
  it('marks screens offline after 90 s by default, at least 30 s, and runs the jobs unless told not to', () => {
    expect(loadConfig(base)).toMatchObject({ offlineAfterS: 90, jobs: true });
    expect(loadConfig({ ...base, ZONECAST_OFFLINE_AFTER_S: '120', ZONECAST_JOBS: 'false' })).toMatchObject({ offlineAfterS: 120, jobs: false });
    expect(() => loadConfig({ ...base, ZONECAST_OFFLINE_AFTER_S: '89' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ZONECAST_OFFLINE_AFTER_S: '90.5' })).toThrow(/ZONECAST_OFFLINE_AFTER_S/);
    expect(() => loadConfig({ ...base, ZONECAST_JOBS: 'sometimes' })).toThrow(/ZONECAST_JOBS/);
  });
});

describe('the housekeeping jobs in the app', () => {
  it('are registered by name on the city clock, started when the app is ready and stopped when it closes; alert retries need the alert service', async () => {
    const on = await buildTestApp({ env: { ZONECAST_JOBS: 'true', ZONECAST_TZ: 'Asia/Shanghai' } });
    try {
      const jobs = on.app.scheduler.status();
      expect(jobs.map((j) => j.name).sort()).toEqual(['alert-retry', 'heartbeat-sweep', 'retention']);
      expect(jobs.every((j) => j.timeZone === 'Asia/Shanghai' && j.nextRunAt !== null)).toBe(true);
      const retention = new Date(jobs.find((j) => j.name === 'retention')?.nextRunAt ?? '');
      expect([retention.getUTCHours(), retention.getUTCMinutes()]).toEqual([19, 17]);
    } finally {
      await on.close();
    }
    expect(on.app.scheduler.status().every((j) => j.nextRunAt === null)).toBe(true);

    const off = await buildTestApp({ env: { ZONECAST_JOBS: 'false' } });
    try {
      expect(off.app.scheduler.status().every((j) => j.nextRunAt === null)).toBe(true);
      // The app's alert service has nothing due.
      await expect(off.app.scheduler.runNow('alert-retry')).resolves.toBe(0);

      // The job asks the alert service, when there is one, to retry what is due; without one it skips.
      const calls: number[] = [];
      const { log } = memoryLog();
      let service: AlertRetrier | null = { retryDue: async (now) => (calls.push(now), 3) };
      const jobs = housekeepingJobs({ store: off.app.store, audit: off.app.audit, offlineAfterS: 90, announceOffline: () => undefined, alerts: () => service, log });
      const s = createScheduler({ jobs, timeZone: 'UTC', log });
      await expect(s.runNow('alert-retry')).resolves.toBe(3);
      expect(calls).toHaveLength(1);
      service = null;
      await expect(s.runNow('alert-retry')).resolves.toBeNull();
      await s.stop();
    } finally {
      await off.close();
    }
  });
});

describe('the heartbeat sweep', () => {
  let t: TestApp;
  const open: Client[] = [];
  beforeAll(async () => {
    t = await buildTestApp({ demo: true, env: { ZONECAST_JOBS: 'false', ZONECAST_OFFLINE_AFTER_S: '90' } });
    await t.listen();
  });
  afterAll(async () => {
    for (const s of open) s.disconnect();
    await t.close();
  });

  const seenOf = (screenId: string) => t.app.store.read().seen.find((s) => s.screenId === screenId);
  const nextStatus = (s: Client, screenId: string) =>
    new Promise<ScreenStatus>((resolve) => {
      const on = (st: ScreenStatus) => {
        if (st.screenId !== screenId) return;
        s.off('screen:status', on);
        resolve(st);
      };
      s.on('screen:status', on);
    });

  it('marks a silent screen offline once, tells staff, and a heartbeat brings it back', async () => {
    const demo = t.demo[0];
    if (!demo) throw new Error('no demo screen');
    const zoneId = t.app.store.read().screens.find((s) => s.id === demo.id)?.zoneId ?? '';
    const staff: Client = ioClient(t.url, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: t.admin.cookie } });
    open.push(staff);
    expect((await staff.timeout(5000).emitWithAck('screens:watch', { zoneId })).ok).toBe(true);

    const screen: ScreenSocket = connectScreen(t.url, demo.token);
    open.push(screen as Client);
    await once(screen, 'screen:welcome');
    // Connecting records "last seen".
    await vi.waitFor(() => expect(seenOf(demo.id)).toMatchObject({ offlineSince: null }), waitLong);

    const statuses: ScreenStatus[] = [];
    staff.on('screen:status', (st) => void (st.screenId === demo.id && statuses.push(st)));
    // Silent for two minutes, as far as the store knows.
    await t.app.store.write((draft) => {
      const seen = draft.seen.find((s) => s.screenId === demo.id);
      if (seen) seen.lastSeenAt = new Date(Date.now() - 120_000).toISOString();
    });
    const wentOffline = nextStatus(staff, demo.id);
    await expect(t.app.scheduler.runNow('heartbeat-sweep')).resolves.toBe(1);
    expect(await wentOffline).toMatchObject({ screenId: demo.id, zoneId, online: false });
    const marked = seenOf(demo.id);
    expect(marked?.offlineSince).not.toBeNull();

    // Twice: nothing more is marked, written or announced.
    await expect(t.app.scheduler.runNow('heartbeat-sweep')).resolves.toBe(0);
    await staff.timeout(5000).emitWithAck('screens:watch', { zoneId });
    expect(seenOf(demo.id)).toEqual(marked);
    expect(statuses.filter((s) => !s.online)).toHaveLength(1);

    const cameBack = nextStatus(staff, demo.id);
    const ack = await screen.timeout(5000).emitWithAck('screen:heartbeat', { manifestVersion: null, clientTime: Date.now() });
    expect(ack.ok).toBe(true);
    expect(await cameBack).toMatchObject({ screenId: demo.id, online: true });
    const back = seenOf(demo.id);
    expect(back?.offlineSince).toBeNull();
    expect(Date.parse(back?.lastSeenAt ?? '')).toBeGreaterThan(Date.parse(marked?.lastSeenAt ?? ''));

    // Written coarsely: another heartbeat right after does not write the store again.
    await screen.timeout(5000).emitWithAck('screen:heartbeat', { manifestVersion: null, clientTime: Date.now() });
    // A write queued now lands after any the heartbeat might have queued.
    await t.app.store.write(() => undefined);
    expect(seenOf(demo.id)).toEqual(back);
    await expect(t.app.scheduler.runNow('heartbeat-sweep')).resolves.toBe(0);
  });
});

describe('the retention clean-up', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { ZONECAST_JOBS: 'false' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
  const MIN = 60_000;
  const DAY = 24 * 60 * MIN;
  const MONTH = 31 * DAY;

  const session = (idHash: string, expiresAt: string, absoluteExpiresAt = iso(DAY)): StoredSession => ({ idHash, userId: t.admin.user.id, createdAt: iso(-DAY), lastSeenAt: iso(-MIN), expiresAt, absoluteExpiresAt });
  const counter = (key: string, firstAt: string, lockedUntil: string | null): LoginCounter => ({ key, failures: 5, firstAt, lockedUntil });
  const pairing = (id: string, expiresAt: string, claimedAt: string | null = null): StoredPairing => ({
    id, code: id.padStart(6, '0').slice(-6), secretHash: id, address: '127.0.0.1', createdAt: iso(-DAY), expiresAt, viewport: null,
    claimedScreenId: claimedAt ? 'scr-gone' : null, claimedAt, claimedBy: claimedAt ? t.admin.user.id : null,
  });
  const alert = (id: string, expiresAt: string, clearedAt: string | null): Alert => ({
    id, severity: 'severe', title: '暴雨', text: '', mediaHash: null, targetZoneIds: ['binzhou'], ttlMinutes: 60, source: 'composer', capRef: null, revision: 1,
    createdBy: 'u', createdAt: iso(-15 * MONTH), updatedAt: iso(-15 * MONTH), expiresAt, clearedAt, clearedBy: clearedAt ? 'u' : null,
  });
  const delivery = (alertId: string, screenId: string, lastAttemptAt: string | null): Delivery => ({
    alertId, screenId, zoneId: 'binzhou', state: 'pending', attempts: lastAttemptAt ? 1 : 0, lastAttemptAt, deliveredAt: null, displayedAt: null, frameAt: null, nextRetryAt: null,
  });
  const ids = (data: Readonly<Data>) => ({
    sessions: data.sessions.map((s) => s.idHash).filter((h) => h.startsWith('t-')).sort(),
    counters: data.loginCounters.map((c) => c.key).sort(),
    pairings: data.pairings.map((p) => p.id).sort(),
    alerts: data.alerts.map((a) => a.id).sort(),
    capLinks: data.capLinks.map((l) => l.identifier).sort(),
    deliveries: [...t.app.deliveries.read().entries()].map(({ delivery: d }) => `${d.alertId}/${d.screenId}`).sort(),
    seen: data.seen.map((s) => s.screenId).sort(),
  });

  it('removes what has expired, keeps what is live, and does nothing the second time', async () => {
    await t.app.store.write((draft) => {
      draft.sessions.push(session('t-idle-gone', iso(-MIN)), session('t-absolute-gone', iso(MIN), iso(-MIN)), session('t-live', iso(MIN)));
      draft.loginCounters.push(
        counter('user:window-passed', iso(-20 * MIN), null),
        counter('user:lock-passed', iso(-40 * MIN), iso(-10 * MIN)),
        counter('user:still-locked', iso(-20 * MIN), iso(5 * MIN)),
        counter('addr:in-window', iso(-MIN), null),
      );
      draft.pairings.push(pairing('111111', iso(-MIN)), pairing('222222', iso(5 * MIN)), pairing('333333', iso(-DAY), iso(-25 * 60 * MIN)), pairing('444444', iso(-DAY), iso(-60 * MIN)));
      draft.alerts.push(alert('old-cleared', iso(-14 * MONTH), iso(-14 * MONTH)), alert('old-expired', iso(-14 * MONTH), null), alert('recent', iso(-12 * MONTH), null));
      draft.seen.push({ screenId: 'scr-deleted', lastSeenAt: iso(-DAY), offlineSince: null });
      // CAP Updates that amended them go with their alerts.
      draft.capLinks.push({ sender: 'cma', identifier: 'upd-old', alertId: 'old-expired' }, { sender: 'cma', identifier: 'upd-recent', alertId: 'recent' });
    });
    // Delivery boards are in the delivery journal; 'vanished' is an alert that is already gone.
    await t.app.deliveries.write((draft) => {
      for (const d of [
        delivery('old-cleared', 's1', null),
        delivery('old-expired', 's1', iso(-14 * MONTH)),
        delivery('recent', 's1', iso(-12 * MONTH)),
        delivery('vanished', 's1', iso(-14 * MONTH)),
        delivery('vanished', 's2', null),
      ])
        draft.put(1, d);
    });

    const removed = await t.app.scheduler.runNow('retention');
    expect(removed).toEqual({ sessions: 2, 'login-counters': 2, pairings: 2, alerts: 5, seen: 1 });
    expect(ids(t.app.store.read())).toEqual({
      sessions: ['t-live'],
      counters: ['addr:in-window', 'user:still-locked'],
      pairings: ['222222', '444444'],
      alerts: ['recent'],
      capLinks: ['upd-recent'],
      deliveries: ['recent/s1', 'vanished/s2'],
      seen: [],
    });
    // The test admin's own session is live and stays.
    expect(t.app.store.read().sessions.length).toBeGreaterThanOrEqual(2);

    const before = JSON.stringify(t.app.store.read());
    await expect(t.app.scheduler.runNow('retention')).resolves.toEqual({ sessions: 0, 'login-counters': 0, pairings: 0, alerts: 0, seen: 0 });
    expect(JSON.stringify(t.app.store.read())).toBe(before);
  });

  it('does the other steps when one fails, logs it with its step, and fails the job', async () => {
    const { lines, log } = memoryLog();
    await t.app.store.write((draft) => {
      draft.sessions.push(session('t-failing-run', iso(-MIN)));
    });
    const audit = { pruneAudit: async () => Promise.reject(new Error('audit dir unreadable')) };
    await expect(runRetention({ store: t.app.store, audit, log })).rejects.toThrow('retention steps failed: audit');
    expect(t.app.store.read().sessions.some((s) => s.idHash === 't-failing-run')).toBe(false);
    expect(lines.find((l) => l.level === 'error')?.obj).toMatchObject({ job: 'retention', step: 'audit' });
  });
});
