import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest, ScreenWelcome } from '../../content/index.js';
import { buildTestApp, connectScreen, once, record, type ScreenSocket, type TestApp } from '../helpers/app.js';
import { publishContent, publishers, type Publishers } from '../helpers/fixtures.js';

let t: TestApp;
const sockets: ScreenSocket[] = [];
const byScreen = new Map<string, ScreenSocket>();
const welcomes = new Map<string, ScreenWelcome>();
const pushes = new Map<string, { version: string; manifest: Manifest }[]>();
let extraToken = '';
let who: Publishers;

const api: TestApp['api'] = (method, url, payload) => t.api(method, url, payload);

async function connect(id: string, token: string): Promise<ScreenSocket> {
  const s = connectScreen(t.url, token);
  sockets.push(s);
  byScreen.set(id, s);
  pushes.set(id, record(s, 'manifest:changed'));
  welcomes.set(id, await once(s, 'screen:welcome'));
  return s;
}

/** Lets in-flight socket frames arrive before asserting that something did not. */
const settle = async () => {
  await api('GET', '/api/health');
  await new Promise((r) => setTimeout(r, 300));
};

const notice = (over: Record<string, unknown>) => ({
  kind: 'notice',
  title: '拟认定名单公示',
  validFrom: null,
  validTo: null,
  durationS: null,
  body: '公示内容',
  publicityStart: new Date(Date.now() - 3_600_000).toISOString(),
  publicityEnd: new Date(Date.now() + 5 * 86_400_000).toISOString(),
  contact: '',
  ...over,
});

beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  who = await publishers(t, 'binzhou');
  // A second 北极镇 screen whose layout shows policies only: a notice there must not reach it.
  await api('POST', '/api/layouts', {
    id: 'lay-policy-only', zoneId: 'beiji', name: '仅政策', width: 1152, height: 384, background: '#000000',
    regions: [{ id: 'main', name: '政策', x: 0, y: 0, width: 1152, height: 384, playlistId: 'pl-main' }],
  });
  const created = await api('POST', '/api/screens', {
    id: 'scr-beiji-2', zoneId: 'beiji', name: '北极镇二号屏', width: 1152, height: 384, pixelPitchMm: 4, viewingDistanceM: 10, openingHours: [], layoutId: 'lay-policy-only',
  });
  extraToken = created.deviceToken as string;
  await t.listen();
  for (const s of t.demo) await connect(s.id, s.token);
  await connect('scr-beiji-2', extraToken);
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await t.close();
});

describe('screen connections', () => {
  it('refuses a connection without a valid device token, with a coded reason', async () => {
    const s = connectScreen(t.url, 'not-a-real-token-at-all');
    sockets.push(s);
    const err = await new Promise<Error & { data?: { code?: string } }>((resolve) => s.once('connect_error', resolve));
    expect(err.data?.code).toBe('DEVICE_TOKEN_INVALID');
  });

  it('welcomes a screen with its zone path, its manifest version and the server clock', async () => {
    const w = welcomes.get('scr-potou');
    expect(w?.zoneIds).toEqual(['potou', 'beiji', 'binzhou']);
    const manifest = await api('GET', '/api/screens/scr-potou/manifest');
    expect(w?.manifestVersion).toBe(manifest.version);
    expect(Math.abs((w?.serverTime ?? 0) - Date.now())).toBeLessThan(30_000);
  });

  it('keeps a screen’s reports for diagnostics', async () => {
    const s = byScreen.get('scr-potou');
    if (!s) throw new Error('no socket');
    const res = await s.timeout(5000).emitWithAck('screen:report', { kind: 'assets-failed', manifestVersion: 'v1', failures: [{ url: '/media/x/1x1.webp', error: 'HTTP 404' }] });
    expect(res.ok).toBe(true);
    const reports = (await api('GET', '/api/screens/scr-potou/reports')) as unknown as { report: { kind: string } }[];
    expect(reports.map((r) => r.report.kind)).toEqual(['assets-failed']);
    expect(await api('GET', '/api/screens/scr-nanjie/reports')).toEqual([]);
  });

  it('answers heartbeats with the server time and fetches the manifest on request', async () => {
    const s = sockets[0];
    if (!s) throw new Error('no socket');
    const beat = await s.timeout(5000).emitWithAck('screen:heartbeat', { manifestVersion: null, clientTime: Date.now() });
    expect(beat.ok && typeof beat.data.serverTime).toBe('number');
    const fetched = await s.timeout(5000).emitWithAck('manifest:fetch');
    expect(fetched.ok && fetched.data.screenId).toBe(t.demo[0]?.id);
  });
});

describe('targeted pushes', () => {
  it('pushes a town notice to that town and its villages only, not to an unaffected screen in the same town', async () => {
    for (const p of pushes.values()) p.length = 0;
    // Created and submitted it shows nowhere; approved, it is pushed once to each screen it reaches.
    const created = await publishContent(t, notice({ id: 'c-beiji-new', zoneId: 'beiji' }), who);
    expect(created).toMatchObject({ id: 'c-beiji-new', status: 'published' });
    await settle();
    const got = (id: string) => pushes.get(id) ?? [];
    for (const id of ['scr-beiji', 'scr-potou', 'scr-dingjia']) {
      expect(got(id), id).toHaveLength(1);
      const push = got(id)[0];
      expect(Object.keys(push?.manifest.items ?? {})).toContain('c-beiji-new');
      const current = await api('GET', `/api/screens/${id}/manifest`);
      expect(push?.version).toBe(current.version);
    }
    for (const id of ['scr-beiji-2', 'scr-chengguan', 'scr-nanjie', 'scr-city-hall']) expect(got(id), id).toHaveLength(0);
  });

  it('pushes a city notice to every screen that shows notices', async () => {
    for (const p of pushes.values()) p.length = 0;
    await publishContent(t, notice({ id: 'c-city-new', zoneId: 'binzhou' }), who);
    await settle();
    for (const s of t.demo) expect(pushes.get(s.id), s.id).toHaveLength(1);
    expect(pushes.get('scr-beiji-2')).toHaveLength(0);
  });

  it('pushes nothing when a change leaves every manifest as it was (a draft, submitted for review)', async () => {
    for (const p of pushes.values()) p.length = 0;
    await t.api('POST', '/api/content', notice({ id: 'c-draft', zoneId: 'binzhou' }), who.editor);
    await t.api('POST', '/api/content/c-draft/submit', undefined, who.editor);
    await settle();
    for (const [id, p] of pushes) expect(p, id).toHaveLength(0);
  });

  it('pushes a layout change only to the screens using it', async () => {
    for (const p of pushes.values()) p.length = 0;
    await api('PUT', '/api/layouts/lay-policy-only', {
      zoneId: 'beiji', name: '仅政策', width: 1152, height: 384, background: '#102030',
      regions: [{ id: 'main', name: '政策', x: 0, y: 0, width: 1152, height: 384, playlistId: 'pl-main' }],
    });
    await settle();
    expect(pushes.get('scr-beiji-2')).toHaveLength(1);
    expect(pushes.get('scr-beiji-2')?.[0]?.manifest.layout?.background).toBe('#102030');
    for (const s of t.demo) expect(pushes.get(s.id), s.id).toHaveLength(0);
  });

  it('disconnects a screen whose token is replaced', async () => {
    const target = byScreen.get('scr-beiji-2');
    if (!target) throw new Error('no socket');
    expect(target.connected).toBe(true);
    const gone = new Promise<string>((resolve) => target.once('disconnect', resolve));
    await api('POST', '/api/screens/scr-beiji-2/token');
    expect(await gone).toBe('io server disconnect');
  });
});
