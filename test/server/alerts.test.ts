import { io as ioClient } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ALERT_POLICY, alertStatus, type Alert, type AlertAck, type AlertInput, type AuditEntry, type Delivery } from '../../content/index.js';
import { buildTestApp, connectScreen, once, record, type ScreenSocket, type TestApp, type TestUser } from '../helpers/app.js';

const SYSTEM = { kind: 'system' as const, userId: null, username: null };

let t: TestApp;
let open: ScreenSocket[] = [];
let imageHash = '';
let videoHash = '';

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  await t.listen();
  const media = t.app.store.read().media;
  imageHash = media.find((m) => m.mime.startsWith('image/'))?.hash ?? '';
  videoHash = media.find((m) => m.mime.startsWith('video/'))?.hash ?? '';
});
afterAll(async () => t.close());
afterEach(async () => {
  for (const s of open) s.disconnect();
  open = [];
  // Each test starts without active alerts, so that retries and connects see only its own.
  const now = Date.now();
  for (const a of t.app.store.read().alerts) if (alertStatus(a, now) === 'active') await t.app.alerts.clear(a.id, SYSTEM);
  await t.app.alerts.flush();
});

const input = (over: Partial<AlertInput> = {}): AlertInput => ({
  severity: 'extreme',
  title: '暴雨红色预警',
  text: '预计未来3小时北极镇将出现特大暴雨,请立即转移至安全地带。',
  mediaHash: null,
  targetZoneIds: ['beiji'],
  ttlMinutes: 60,
  ...over,
});

function tokenOf(screenId: string): string {
  const demo = t.demo.find((s) => s.id === screenId);
  if (!demo) throw new Error(`no demo screen ${screenId}`);
  return demo.token;
}

/** A connected demo screen, past its welcome. */
async function screen(screenId: string): Promise<ScreenSocket> {
  const s = connectScreen(t.url, tokenOf(screenId));
  open.push(s);
  await once(s, 'screen:welcome');
  return s;
}

async function staff(cookie: string): Promise<ScreenSocket> {
  const s: ScreenSocket = ioClient(t.url, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie } });
  open.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

const ack = (s: ScreenSocket, a: AlertAck) => s.timeout(5000).emitWithAck('alert:ack', a);

async function send(body: AlertInput, as?: TestUser): Promise<Alert> {
  return (await t.api('POST', '/api/alerts', body, as)) as unknown as Alert;
}

async function board(alertId: string): Promise<Map<string, Delivery>> {
  const res = (await t.api('GET', `/api/alerts/${alertId}/deliveries`)) as unknown as { deliveries: Delivery[] };
  return new Map(res.deliveries.map((d) => [d.screenId, d]));
}

/** A delivery as it is on disk: the delivery journal's committed record for the alert's current revision. */
function stored(alertId: string, screenId: string, app = t.app): Delivery | undefined {
  const alert = app.store.read().alerts.find((a) => a.id === alertId);
  return alert ? app.deliveries.read().get(alertId, alert.revision, screenId) : undefined;
}

/** Lets in-flight socket frames arrive before asserting that something did not. */
const settle = async () => {
  await t.api('GET', '/api/health');
  await new Promise((r) => setTimeout(r, 300));
};

async function failure(method: 'POST' | 'GET', url: string, payload: object | undefined, as: TestUser = t.admin): Promise<{ status: number; code: string }> {
  const res = await t.app.inject({ method, url, payload, headers: { cookie: as.cookie } });
  return { status: res.statusCode, code: (JSON.parse(res.body) as { code: string }).code };
}

describe('sending an alert', () => {
  it('reaches every screen under the target town with one room emit, and no other screen', async () => {
    const inside = { beiji: await screen('scr-beiji'), potou: await screen('scr-potou'), dingjia: await screen('scr-dingjia') };
    const outside = [await screen('scr-chengguan'), await screen('scr-nanjie')];
    const shown = Object.values(inside).map((s) => once(s, 'alert:show'));
    const strays = outside.map((s) => record(s, 'alert:show'));
    const to = vi.spyOn(t.app.realtime.io, 'to');

    const alert = await send(input({ mediaHash: imageHash }));
    const shows = await Promise.all(shown);
    const zoneEmits = to.mock.calls.filter(([rooms]) => JSON.stringify(rooms) === JSON.stringify(['zone:beiji']));
    to.mockRestore();
    expect(zoneEmits).toHaveLength(1);

    expect(alert).toMatchObject({ revision: 1, source: 'composer', capRef: null, clearedAt: null, createdBy: t.admin.user.id });
    expect(Date.parse(alert.expiresAt) - Date.parse(alert.createdAt)).toBe(60 * 60_000);
    for (const show of shows) {
      expect(show).toMatchObject({ alertId: alert.id, severity: 'extreme', presentation: 'takeover', title: alert.title, revision: 1, expiresAt: Date.parse(alert.expiresAt) });
      // One payload for the whole room: the image fitted to the largest target screen (丁家村, 1280×720).
      expect(show.image?.url).toBe(`/media/${imageHash}/1280x720.webp`);
    }
    await settle();
    expect(strays.flat()).toEqual([]);

    const b = await board(alert.id);
    expect([...b.keys()].sort()).toEqual(['scr-beiji', 'scr-dingjia', 'scr-potou']);
    for (const d of b.values()) expect(d).toMatchObject({ state: 'pending', attempts: 1, deliveredAt: null, displayedAt: null });
  });

  it('moves each delivery from pending to delivered to displayed, on the board and live to staff watching', async () => {
    const beiji = await screen('scr-beiji');
    const shown = once(beiji, 'alert:show');
    const alert = await send(input());
    await shown;

    const watcher = await staff(t.admin.cookie);
    const watch = await watcher.timeout(5000).emitWithAck('alerts:watch', { alertId: alert.id });
    expect(watch.ok && watch.data.deliveries.map((d: Delivery) => d.screenId).sort()).toEqual(['scr-beiji', 'scr-dingjia', 'scr-potou']);
    const live = record(watcher, 'alert:delivery');

    const before = Date.now();
    expect(await ack(beiji, { alertId: alert.id, revision: 1, stage: 'received', at: Date.now() })).toEqual({ ok: true, data: null });
    // Answered only once durable.
    expect(stored(alert.id, 'scr-beiji')).toMatchObject({ state: 'delivered', displayedAt: null });
    const frameAt = Date.now() - 5;
    expect(await ack(beiji, { alertId: alert.id, revision: 1, stage: 'displayed', at: frameAt })).toEqual({ ok: true, data: null });
    const d = stored(alert.id, 'scr-beiji');
    expect(d).toMatchObject({ state: 'displayed', frameAt: new Date(frameAt).toISOString(), nextRetryAt: null });
    expect(Date.parse(d?.deliveredAt ?? '')).toBeGreaterThanOrEqual(before);
    expect(Date.parse(d?.displayedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(d?.deliveredAt ?? ''));

    // A repeat, or a late "received", never takes it back.
    expect(await ack(beiji, { alertId: alert.id, revision: 1, stage: 'received', at: Date.now() })).toEqual({ ok: true, data: null });
    expect((await board(alert.id)).get('scr-beiji')).toEqual(d);

    await settle();
    expect(live.filter((x) => x.screenId === 'scr-beiji').map((x) => x.state)).toEqual(['delivered', 'displayed']);
    expect((await board(alert.id)).get('scr-potou')?.state).toBe('pending');
  });

  it('shows acknowledgements on the board as they arrive, before their batch is written', async () => {
    const alert = await t.app.alerts.create(input({ targetZoneIds: ['potou'] }), { actor: SYSTEM, source: 'composer', capRef: null });
    const written = t.app.alerts.recordAck('scr-potou', { alertId: alert.id, revision: 1, stage: 'displayed', at: Date.now() });
    expect(t.app.alerts.deliveries(alert.id).find((d) => d.screenId === 'scr-potou')?.state).toBe('displayed');
    expect(stored(alert.id, 'scr-potou')?.state).toBe('pending');
    await written;
    expect(stored(alert.id, 'scr-potou')?.state).toBe('displayed');
  });

  it('sends the alert at once to a screen that connects later, counted as an attempt', async () => {
    const alert = await send(input({ targetZoneIds: ['chengguan'], severity: 'minor', mediaHash: imageHash }));
    const s = connectScreen(t.url, tokenOf('scr-nanjie'));
    open.push(s);
    const order: string[] = [];
    s.onAny((event: string) => order.push(event));
    const show = await once(s, 'alert:show');
    expect(order.indexOf('screen:welcome')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('screen:welcome')).toBeLessThan(order.indexOf('alert:show'));
    expect(show).toMatchObject({ alertId: alert.id, presentation: 'banner', revision: 1 });
    // On connect the image is fitted to this screen (南街社区, 960×320).
    expect(show.image?.url).toBe(`/media/${imageHash}/960x320.webp`);
    expect(t.app.alerts.activeFor('scr-nanjie').map((a) => a.alertId)).toEqual([alert.id]);
    await t.app.alerts.flush();
    expect(stored(alert.id, 'scr-nanjie')?.attempts).toBe(2);
  });

  it('does not send an expired alert on connect, and lists it as expired', async () => {
    const alert = await send(input({ targetZoneIds: ['dingjia'] }));
    await t.app.store.write((d) => {
      const a = d.alerts.find((x) => x.id === alert.id);
      if (a) a.expiresAt = new Date(Date.now() - 1000).toISOString();
    });
    const s = connectScreen(t.url, tokenOf('scr-dingjia'));
    open.push(s);
    const shows = record(s, 'alert:show');
    await once(s, 'screen:welcome');
    await settle();
    expect(shows).toEqual([]);
    expect(t.app.alerts.activeFor('scr-dingjia')).toEqual([]);
    const expired = (await t.api('GET', '/api/alerts?status=expired')) as unknown as Alert[];
    expect(expired.map((a) => a.id)).toContain(alert.id);
    expect(await failure('POST', `/api/alerts/${alert.id}/clear`, undefined)).toEqual({ status: 409, code: 'ALERT_NOT_ACTIVE' });
    // Nothing is retried for it any more.
    await t.app.alerts.retryDue(Date.now() + ALERT_POLICY.retryEveryMs + 1);
    expect(stored(alert.id, 'scr-dingjia')?.nextRetryAt).toBeNull();
  });
});

describe('retrying screens that have not acknowledged', () => {
  it('re-sends until the policy gives up, marks the screen unreachable, and still takes its late acknowledgement', async () => {
    const potou = await screen('scr-potou');
    const shows = record(potou, 'alert:show');
    const alert = await send(input({ targetZoneIds: ['potou'] }));
    await settle();
    expect(shows).toHaveLength(1);

    let now = Date.now();
    // Not yet due: nothing happens, and nothing is written.
    expect(await t.app.alerts.retryDue(now)).toBe(0);
    for (let attempt = 2; attempt <= ALERT_POLICY.attemptsBeforeUnreachable; attempt++) {
      now += ALERT_POLICY.retryEveryMs + 1;
      expect(await t.app.alerts.retryDue(now)).toBe(1);
      // Idempotent: a second run at the same moment finds nothing due.
      expect(await t.app.alerts.retryDue(now)).toBe(0);
      expect(stored(alert.id, 'scr-potou')).toMatchObject({ state: 'pending', attempts: attempt, nextRetryAt: new Date(now + ALERT_POLICY.retryEveryMs).toISOString() });
    }
    await settle();
    expect(shows.map((s) => s.alertId)).toEqual(Array(ALERT_POLICY.attemptsBeforeUnreachable).fill(alert.id));

    now += ALERT_POLICY.retryEveryMs + 1;
    expect(await t.app.alerts.retryDue(now)).toBe(0);
    expect(stored(alert.id, 'scr-potou')).toMatchObject({ state: 'unreachable', attempts: ALERT_POLICY.attemptsBeforeUnreachable, nextRetryAt: null });

    expect(await ack(potou, { alertId: alert.id, revision: 1, stage: 'displayed', at: Date.now() })).toEqual({ ok: true, data: null });
    expect(stored(alert.id, 'scr-potou')?.state).toBe('displayed');
    expect(await t.app.alerts.retryDue(now + 60_000)).toBe(0);
  });

  it('does not retry a screen that displayed the alert', async () => {
    const dingjia = await screen('scr-dingjia');
    const shown = once(dingjia, 'alert:show');
    const alert = await send(input({ targetZoneIds: ['dingjia'] }));
    await shown;
    await ack(dingjia, { alertId: alert.id, revision: 1, stage: 'displayed', at: Date.now() });
    expect(await t.app.alerts.retryDue(Date.now() + ALERT_POLICY.retryEveryMs + 1)).toBe(0);
    expect(stored(alert.id, 'scr-dingjia')?.attempts).toBe(1);
  });
});

describe('amending and clearing', () => {
  it('amends with a new revision pushed to the old and new targets, and clears with alert:clear', async () => {
    const beiji = await screen('scr-beiji');
    const chengguan = await screen('scr-chengguan');
    const first = once(beiji, 'alert:show');
    const alert = await send(input());
    await first;
    await ack(beiji, { alertId: alert.id, revision: 1, stage: 'displayed', at: Date.now() });

    const again = once(beiji, 'alert:show');
    const added = once(chengguan, 'alert:show');
    const amended = (await t.api('POST', `/api/alerts/${alert.id}/amend`, input({ severity: 'moderate', title: '暴雨预警降级', targetZoneIds: ['beiji', 'chengguan'] }))) as unknown as Alert;
    expect(amended).toMatchObject({ id: alert.id, revision: 2, severity: 'moderate', createdAt: alert.createdAt });
    for (const show of await Promise.all([again, added])) expect(show).toMatchObject({ alertId: alert.id, revision: 2, presentation: 'banner', title: '暴雨预警降级' });

    // Every target starts over for the new revision, the new ones included.
    const b = await board(alert.id);
    expect([...b.keys()].sort()).toEqual(['scr-beiji', 'scr-chengguan', 'scr-dingjia', 'scr-nanjie', 'scr-potou']);
    expect(b.get('scr-beiji')).toMatchObject({ state: 'pending', attempts: 1, displayedAt: null });
    // A late acknowledgement of the first revision changes nothing.
    expect(await ack(beiji, { alertId: alert.id, revision: 1, stage: 'displayed', at: Date.now() })).toEqual({ ok: true, data: null });
    expect((await board(alert.id)).get('scr-beiji')?.state).toBe('pending');

    const cleared = [once(beiji, 'alert:clear'), once(chengguan, 'alert:clear')];
    const res = (await t.api('POST', `/api/alerts/${alert.id}/clear`)) as unknown as Alert;
    expect(res.clearedBy).toBe(t.admin.user.id);
    expect(await Promise.all(cleared)).toEqual([{ alertId: alert.id }, { alertId: alert.id }]);
    expect(t.app.alerts.activeFor('scr-beiji')).toEqual([]);
    expect(await failure('POST', `/api/alerts/${alert.id}/clear`, undefined)).toEqual({ status: 409, code: 'ALERT_NOT_ACTIVE' });
    expect(await failure('POST', `/api/alerts/${alert.id}/amend`, input())).toEqual({ status: 409, code: 'ALERT_NOT_ACTIVE' });
    // Cleared deliveries are not retried.
    expect(await t.app.alerts.retryDue(Date.now() + 60_000)).toBe(0);

    // A screen that was away during the all clear is told when it comes back.
    const potou = connectScreen(t.url, tokenOf('scr-potou'));
    open.push(potou);
    const clears = record(potou, 'alert:clear');
    await once(potou, 'screen:welcome');
    await settle();
    expect(clears).toContainEqual({ alertId: alert.id });
  });

  it('tells screens an amendment no longer aims at to drop the alert', async () => {
    const nanjie = await screen('scr-nanjie');
    const shown = once(nanjie, 'alert:show');
    const alert = await send(input({ targetZoneIds: ['chengguan'] }));
    await shown;
    const dropped = once(nanjie, 'alert:clear');
    await t.api('POST', `/api/alerts/${alert.id}/amend`, input({ targetZoneIds: ['beiji'] }));
    expect(await dropped).toEqual({ alertId: alert.id });
    expect([...(await board(alert.id)).keys()]).not.toContain('scr-nanjie');
  });

  it('records every create, amend and clear in the audit log', async () => {
    const alert = await send(input({ targetZoneIds: ['potou', 'dingjia'] }));
    await t.api('POST', `/api/alerts/${alert.id}/amend`, input({ targetZoneIds: ['potou'] }));
    await t.api('POST', `/api/alerts/${alert.id}/clear`);
    const page = (await t.api('GET', `/api/audit?entity=alert&entityId=${alert.id}`)) as unknown as { entries: AuditEntry[] };
    expect(page.entries.map((e) => e.action)).toEqual(['alert.clear', 'alert.amend', 'alert.create']);
    for (const e of page.entries) expect(e.actor).toMatchObject({ kind: 'staff', userId: t.admin.user.id });
    // Filed under the deepest zone holding every target, so that its town sees it.
    expect(page.entries.map((e) => e.zoneId)).toEqual(['potou', 'potou', 'beiji']);
    const created = page.entries[2];
    expect((created?.after as Alert).title).toBe(alert.title);
  });
});

describe('who may send and watch', () => {
  it('refuses a town editor by role and another city’s admin by scope; a city-level editor may send', async () => {
    const townEditor = await t.addUser({ username: 'cg-alert-editor', role: 'editor', zoneId: 'chengguan' });
    expect(await failure('POST', '/api/alerts', input({ targetZoneIds: ['chengguan'] }), townEditor)).toEqual({ status: 403, code: 'FORBIDDEN_ROLE' });

    await t.app.store.write((d) => void d.zones.push({ id: 'xunyi', tier: 'city', parentId: null, divisionCode: '610429000000', shortName: '旬邑县', name: '彬州市旬邑县政务公开专区' }));
    const otherCity = await t.addUser({ username: 'xunyi-alert-admin', role: 'city-admin', zoneId: 'xunyi' });
    expect(await failure('POST', '/api/alerts', input(), otherCity)).toEqual({ status: 403, code: 'FORBIDDEN_SCOPE' });

    const cityEditor = await t.addUser({ username: 'bz-alert-editor', role: 'editor', zoneId: 'binzhou' });
    const alert = await send(input(), cityEditor);
    expect(await failure('POST', `/api/alerts/${alert.id}/clear`, undefined, otherCity)).toEqual({ status: 403, code: 'FORBIDDEN_SCOPE' });
    expect(await failure('GET', `/api/alerts/${alert.id}/deliveries`, undefined, otherCity)).toEqual({ status: 403, code: 'FORBIDDEN_SCOPE' });
    const list = (await t.api('GET', '/api/alerts', undefined, otherCity)) as unknown as Alert[];
    expect(list.map((a) => a.id)).not.toContain(alert.id);

    // A reader of another town may not watch the board; a reader of the target town may.
    const cgInspector = await t.addUser({ username: 'cg-alert-inspector', role: 'inspector', zoneId: 'chengguan' });
    const refused = await (await staff(cgInspector.cookie)).timeout(5000).emitWithAck('alerts:watch', { alertId: alert.id });
    expect(refused).toMatchObject({ ok: false, code: 'FORBIDDEN_SCOPE' });
    const bjInspector = await t.addUser({ username: 'bj-alert-inspector', role: 'inspector', zoneId: 'beiji' });
    expect((await (await staff(bjInspector.cookie)).timeout(5000).emitWithAck('alerts:watch', { alertId: alert.id })).ok).toBe(true);
    expect(await (await staff(bjInspector.cookie)).timeout(5000).emitWithAck('alerts:watch', { alertId: 'alr-nothing' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('refuses bad input with clear codes', async () => {
    expect(await failure('POST', '/api/alerts', input({ targetZoneIds: ['atlantis'] }))).toEqual({ status: 422, code: 'REFERENCE_MISSING' });
    expect(await failure('POST', '/api/alerts', input({ mediaHash: 'f'.repeat(64) }))).toEqual({ status: 422, code: 'REFERENCE_MISSING' });
    expect(await failure('POST', '/api/alerts', input({ mediaHash: videoHash }))).toEqual({ status: 422, code: 'ALERT_IMAGE_INVALID' });
    expect(await failure('POST', '/api/alerts', input({ ttlMinutes: 0 }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await failure('POST', '/api/alerts', input({ ttlMinutes: ALERT_POLICY.maxTtlMinutes + 1 }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await failure('POST', '/api/alerts', input({ targetZoneIds: [] }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await failure('POST', '/api/alerts', { ...input(), severity: 'apocalyptic' })).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await failure('POST', '/api/alerts/alr-nothing/amend', input())).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await failure('GET', '/api/alerts/alr-nothing', undefined)).toEqual({ status: 404, code: 'NOT_FOUND' });
    // The service checks what the CAP ingest hands it too.
    await expect(t.app.alerts.create(input({ ttlMinutes: 0 }), { actor: SYSTEM, source: 'cap', capRef: null })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });

    const beiji = await screen('scr-beiji');
    expect(await ack(beiji, { alertId: 'alr-nothing', revision: 1, stage: 'received', at: Date.now() })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await (beiji.timeout(5000).emitWithAck as (e: string, a: unknown) => Promise<unknown>)('alert:ack', { alertId: 'x', stage: 'seen' })).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
  });

  it('keeps one alert per CAP message', async () => {
    const capRef = { sender: 'w-nws.webmaster@noaa.gov', identifier: 'SX-2026-0001' };
    const alert = await t.app.alerts.create(input(), { actor: SYSTEM, source: 'cap', capRef });
    expect(t.app.alerts.findByCapRef(capRef.sender, capRef.identifier)?.id).toBe(alert.id);
    expect(t.app.alerts.findByCapRef(capRef.sender, 'other')).toBeUndefined();
    await expect(t.app.alerts.create(input(), { actor: SYSTEM, source: 'cap', capRef })).rejects.toMatchObject({ code: 'ALERT_DUPLICATE' });
  });
});

describe('after a restart', () => {
  it('keeps retry state and acknowledgements in the store, and goes on from there', async () => {
    const first = await buildTestApp({ demo: true });
    const tokens = new Map(first.demo.map((s) => [s.id, s.token]));
    const alert = await first.app.alerts.create(input({ targetZoneIds: ['potou', 'dingjia'] }), { actor: SYSTEM, source: 'composer', capRef: null });
    let now = Date.now() + ALERT_POLICY.retryEveryMs + 1;
    expect(await first.app.alerts.retryDue(now)).toBe(2);
    // Still waiting for its batch when the server shuts down: written on close.
    void first.app.alerts.recordAck('scr-dingjia', { alertId: alert.id, revision: 1, stage: 'displayed', at: Date.now() });
    await first.close({ keepData: true });

    const again = await buildTestApp({ dataDir: first.dataDir });
    try {
      const d = (id: string) => stored(alert.id, id, again.app);
      expect(d('scr-potou')).toMatchObject({ state: 'pending', attempts: 2, nextRetryAt: new Date(now + ALERT_POLICY.retryEveryMs).toISOString() });
      expect(d('scr-dingjia')?.state).toBe('displayed');
      expect(await again.app.alerts.retryDue(now + 1)).toBe(0);
      now += ALERT_POLICY.retryEveryMs + 1;
      expect(await again.app.alerts.retryDue(now)).toBe(1);
      expect(d('scr-potou')?.attempts).toBe(3);

      await again.listen();
      const potou = connectScreen(again.url, tokens.get('scr-potou') ?? '');
      try {
        expect(await once(potou, 'alert:show')).toMatchObject({ alertId: alert.id, revision: 1 });
      } finally {
        potou.disconnect();
      }
    } finally {
      await again.close();
    }
  });
});
