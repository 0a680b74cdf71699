import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lockedRegionChanges,
  localTime,
  regionShowing,
  resolveRegions,
  screenOpen,
  type Explain,
  type Layout,
  type Manifest,
  type Region,
} from '../../content/index.js';
import { buildTestApp, connectScreen, once, type ScreenSocket, type TestApp, type TestUser } from '../helpers/app.js';
import { publishContent, publishers, type Publishers } from '../helpers/fixtures.js';

/*
 * Tiers: the city locks a region of a base layout for its policy releases; a village layout
 * derived from it keeps that region as it is and adds its own three-affairs region, so the
 * village screen shows both side by side. Explain says what the screen shows and why.
 */

let t: TestApp;
let city: Publishers; // an editor and a reviewer bound to the city: city-level
let village: Publishers;
let town: Publishers;
let townEditor: TestUser;
let otherTownEditor: TestUser;
let screenToken = '';
const sockets: ScreenSocket[] = [];

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, as: TestUser = t.admin) {
  const res = await t.app.inject({ method, url, payload: payload as object | undefined, headers: { cookie: as.cookie } });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : null };
}

function expectError(res: { status: number; body: Record<string, unknown> | null }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ ok: false, code });
  const message = res.body?.message as { zh: string; en: string };
  expect(message.zh).toMatch(/[\u4e00-\u9fff]/);
}

const base = { validFrom: null, validTo: null, durationS: null };
const policy = (id: string, zoneId: string) => ({
  ...base,
  id,
  kind: 'policy',
  zoneId,
  title: `政策${id}`,
  docNumber: '彬政办发〔2026〕35号',
  issuer: '彬州市人民政府办公室',
  issuedDate: '2026-11-01',
  sourceUrl: 'https://www.binzhou.gov.cn/',
  body: '政策正文',
  interpretation: { title: '政策解读', body: '解读正文', sourceUrl: null },
});
const affairs = (id: string, zoneId: string) => ({ ...base, id, kind: 'three-affairs', zoneId, title: `三务公开${id}`, category: 'finance', period: '2026年第四季度', body: '财务收支', rows: [] });
const rulePlaylist = (id: string, zoneId: string, kinds: string[], scope: string) => ({
  id,
  zoneId,
  name: id,
  mode: 'rule',
  entries: [],
  rule: { kinds, scope, limit: 10 },
  defaultDurationS: 20,
  scheduleId: null,
});

const W = 960;
const H = 320;
const region = (id: string, x: number, width: number, playlistId: string | null, over: Partial<Region> = {}): Region => ({ id, name: `区域${id}`, x, y: 0, width, height: H, playlistId, ...over });
const cityLayout = (over: Partial<Layout> = {}) => ({
  id: 'lay-city',
  zoneId: 'bz',
  name: '市级底版',
  width: W,
  height: H,
  background: '#0b1f3a',
  regions: [region('policy', 0, 640, 'pl-city-policy', { name: '市级政策发布', locked: true }), region('free', 640, 320, null)],
  ...over,
});
const villageLayout = (over: Partial<Layout> = {}) => ({
  id: 'lay-pt',
  zoneId: 'pt',
  name: '坡头村',
  width: W,
  height: H,
  background: '#0b1f3a',
  baseLayoutId: 'lay-city',
  regions: [region('affairs', 640, 320, 'pl-pt-affairs', { name: '三务公开' })],
  ...over,
});

beforeAll(async () => {
  t = await buildTestApp();
  const zones = [
    { id: 'bz', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' },
    { id: 'bj', tier: 'town', parentId: 'bz', divisionCode: '610482101000', shortName: '北极镇' },
    { id: 'pt', tier: 'village', parentId: 'bj', divisionCode: '610482101201', shortName: '坡头村' },
    { id: 'dj', tier: 'village', parentId: 'bj', divisionCode: '610482101205', shortName: '丁家村' },
    { id: 'cg', tier: 'town', parentId: 'bz', divisionCode: '610482001000', shortName: '城关街道' },
  ];
  for (const z of zones) await t.api('POST', '/api/zones', z);
  city = await publishers(t, 'bz');
  town = await publishers(t, 'bj');
  village = await publishers(t, 'pt');
  townEditor = town.editor;
  otherTownEditor = await t.addUser({ username: 'cg-editor', role: 'editor', zoneId: 'cg' });

  await publishContent(t, policy('p-city-1', 'bz'), city);
  await publishContent(t, policy('p-city-2', 'bz'), city);
  await publishContent(t, affairs('ta-pt', 'pt'), village);
  await publishContent(t, affairs('ta-bj', 'bj'), town);
  await publishContent(t, affairs('ta-dj', 'dj'), await publishers(t, 'dj'));
  await t.api('POST', '/api/content', affairs('ta-pt-draft', 'pt'), village.editor);

  // The city's policy releases for every zone below, in a region the city locks.
  await t.api('POST', '/api/playlists', rulePlaylist('pl-city-policy', 'bz', ['policy'], 'ancestors'), city.editor);
  await t.api('POST', '/api/layouts', cityLayout(), city.editor);
  // The village's own three-affairs disclosure, beside it.
  await t.api('POST', '/api/playlists', rulePlaylist('pl-pt-affairs', 'pt', ['three-affairs'], 'self'), village.editor);
  await t.api('POST', '/api/layouts', villageLayout(), village.editor);
  const created = await t.api('POST', '/api/screens', {
    id: 'scr-pt',
    zoneId: 'pt',
    name: '坡头村村委会LED屏',
    width: W,
    height: H,
    pixelPitchMm: 4,
    viewingDistanceM: 6,
    openingHours: [{ days: [1, 2, 3, 4, 5, 6, 7], start: '06:00', end: '22:00' }],
    layoutId: 'lay-pt',
  });
  screenToken = created.deviceToken as string;
  // The first call of each content route compiles its large schemas: slow on a loaded machine.
}, 180_000);
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await t.close();
});

const ids = (xs: { itemId: string }[] | undefined) => (xs ?? []).map((x) => x.itemId).sort();

describe('a village screen under a city layout', () => {
  it('shows the city’s policy releases in the locked region beside its own three-affairs disclosure', async () => {
    const layout = await t.api('GET', '/api/layouts/lay-pt', undefined, village.editor);
    expect(layout).toMatchObject({ baseLayoutId: 'lay-city', regions: [{ id: 'affairs', locked: false }] });

    const m = (await t.api('GET', '/api/screens/scr-pt/manifest', undefined, village.editor)) as unknown as Manifest;
    const regions = m.layout?.regions ?? [];
    expect(regions.map((r) => r.id)).toEqual(['policy', 'affairs']);
    // The locked region exactly as the city drew it; the base's unlocked region is not inherited.
    expect(regions[0]).toMatchObject({ name: '市级政策发布', x: 0, y: 0, width: 640, height: H });
    expect(ids(regions[0]?.candidates)).toEqual(['p-city-1', 'p-city-2']);
    // Only the village's own disclosure: not the town's, not the neighbouring village's, not a draft.
    expect(ids(regions[1]?.candidates)).toEqual(['ta-pt']);
    expect(Object.keys(m.items).sort()).toEqual(['p-city-1', 'p-city-2', 'ta-pt']);
  });

  it('explains both regions, with a reason for each item left out', async () => {
    const open = '2026-12-01T10:00:00+08:00';
    const e = (await t.api('GET', `/api/screens/scr-pt/explain?at=${encodeURIComponent(open)}`, undefined, village.editor)) as unknown as Explain;
    expect(e.open).toBe(true);
    const [pol, aff] = e.regions;
    expect(pol).toMatchObject({ regionId: 'policy', locked: true, inherited: true, playlistId: 'pl-city-policy' });
    expect(['p-city-1', 'p-city-2']).toContain(pol?.showing);
    expect(aff).toMatchObject({ regionId: 'affairs', locked: false, inherited: false, showing: 'ta-pt' });
    const codes = (r: typeof aff) => Object.fromEntries((r?.candidates ?? []).map((c) => [c.itemId, c.reason.code]));
    // The town's disclosure is on the village's lineage but outside a self-scoped rule; the neighbouring village's is not considered.
    expect(codes(aff)).toEqual({ 'ta-pt': 'SHOWN', 'ta-pt-draft': 'NOT_PUBLISHED', 'ta-bj': 'OUT_OF_SCOPE' });
    expect(codes(pol)).toMatchObject({ 'ta-pt': 'KIND_NOT_IN_RULE', 'ta-bj': 'KIND_NOT_IN_RULE' });
    expect(Object.values(codes(pol)).filter((c) => c === 'SHOWN' || c === 'WAITING_IN_ROTATION').sort()).toEqual(['SHOWN', 'WAITING_IN_ROTATION']);
    for (const r of e.regions) for (const c of r.candidates) expect(c.reason.zh, c.itemId).toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('locked regions', () => {
  it('cannot be redefined, overlapped, locked, dropped or resized away by the village', async () => {
    const as = village.editor;
    expectError(await call('PUT', '/api/layouts/lay-pt', villageLayout({ regions: [region('policy', 640, 320, 'pl-pt-affairs')] }), as), 422, 'REGION_ID_DUPLICATE');
    expectError(await call('PUT', '/api/layouts/lay-pt', villageLayout({ regions: [region('affairs', 600, 360, 'pl-pt-affairs')] }), as), 422, 'REGION_OVERLAPS_LOCKED');
    expectError(await call('PUT', '/api/layouts/lay-pt', villageLayout({ regions: [region('affairs', 640, 320, 'pl-pt-affairs', { locked: true })] }), as), 403, 'REGION_LOCKED');
    expectError(await call('PUT', '/api/layouts/lay-pt', villageLayout({ baseLayoutId: null }), as), 403, 'REGION_LOCKED');
    expectError(await call('PUT', '/api/layouts/lay-pt', villageLayout({ width: 1920 }), as), 422, 'LAYOUT_BASE_MISMATCH');
    expectError(await call('PUT', '/api/layouts/lay-city', cityLayout({ regions: [] }), as), 403, 'FORBIDDEN_SCOPE');
    expectError(await call('DELETE', '/api/layouts/lay-city', undefined, city.editor), 409, 'IN_USE');
    // Its own region stays its own to change.
    const ok = await call('PUT', '/api/layouts/lay-pt', villageLayout({ regions: [region('affairs', 640, 320, 'pl-pt-affairs', { name: '村务财务公开' })] }), as);
    expect(ok.status).toBe(200);
    const m = (await t.api('GET', '/api/screens/scr-pt/manifest')) as unknown as Manifest;
    expect(m.layout?.regions.map((r) => r.name)).toEqual(['市级政策发布', '村务财务公开']);

    // Nor can the village point its screen at a layout of its own without the city's region.
    await t.api('POST', '/api/layouts', { ...villageLayout({ baseLayoutId: null }), id: 'lay-pt-plain', name: '村自有版式' }, as);
    const screen = (await t.api('GET', '/api/screens/scr-pt')) as Record<string, unknown>;
    const { id: _id, createdAt: _c, updatedAt: _u, ...input } = screen;
    expectError(await call('PUT', '/api/screens/scr-pt', { ...input, layoutId: 'lay-pt-plain' }, as), 403, 'REGION_LOCKED');
    expect((await call('PUT', '/api/screens/scr-pt', { ...input, name: '坡头村LED屏(改名)' }, as)).status).toBe(200);
    expect((await call('PUT', '/api/screens/scr-pt', { ...input, layoutId: 'lay-pt-plain' }, city.editor)).status).toBe(200);
    expect((await call('PUT', '/api/screens/scr-pt', input, city.editor)).status).toBe(200);
  });

  it('derive only from a base of the same zone or above that is not itself derived', async () => {
    const own = { zoneId: 'bj', name: '北极镇', width: W, height: H, background: '#000000', regions: [] };
    expectError(await call('POST', '/api/layouts', { ...own, baseLayoutId: 'lay-pt' }, townEditor), 422, 'LAYOUT_BASE_INVALID');
    expectError(await call('POST', '/api/layouts', { ...own, zoneId: 'dj', baseLayoutId: 'lay-pt' }, townEditor), 422, 'LAYOUT_BASE_INVALID');
    expectError(await call('POST', '/api/layouts', { ...own, baseLayoutId: 'nope' }, townEditor), 422, 'REFERENCE_MISSING');
    const derived = await call('POST', '/api/layouts', { ...own, id: 'lay-bj', baseLayoutId: 'lay-city' }, townEditor);
    expect(derived.status).toBe(201);
    // A base with layouts derived from it cannot take a base of its own (no chains).
    expectError(await call('PUT', '/api/layouts/lay-city', cityLayout({ baseLayoutId: 'lay-bj' }), city.editor), 422, 'LAYOUT_BASE_INVALID');
    expect((await call('DELETE', '/api/layouts/lay-bj', undefined, townEditor)).status).toBe(204);
  });

  it('may be set, changed and removed only by city-level users', async () => {
    const townLayout = {
      id: 'lay-bj-locked',
      zoneId: 'bj',
      name: '北极镇',
      width: W,
      height: H,
      background: '#000000',
      regions: [region('city', 0, 480, 'pl-city-policy', { locked: true }), region('own', 480, 480, null)],
    };
    expectError(await call('POST', '/api/layouts', townLayout, townEditor), 403, 'REGION_LOCKED');
    // The city's editor may lock a region of a town's layout; the town keeps the rest.
    expect((await call('POST', '/api/layouts', townLayout, city.editor)).status).toBe(201);
    const moved = { ...townLayout, regions: [region('city', 0, 400, 'pl-city-policy', { locked: true }), region('own', 480, 480, null)] };
    expectError(await call('PUT', '/api/layouts/lay-bj-locked', moved, townEditor), 403, 'REGION_LOCKED');
    expectError(await call('PUT', '/api/layouts/lay-bj-locked', { ...townLayout, regions: [region('city', 0, 480, 'pl-city-policy')] }, townEditor), 403, 'REGION_LOCKED');
    expectError(await call('PUT', '/api/layouts/lay-bj-locked', { ...townLayout, regions: [townLayout.regions[1]] }, townEditor), 403, 'REGION_LOCKED');
    expectError(await call('DELETE', '/api/layouts/lay-bj-locked', undefined, townEditor), 403, 'REGION_LOCKED');
    const renamed = await call('PUT', '/api/layouts/lay-bj-locked', { ...townLayout, background: '#102030', regions: [townLayout.regions[0], region('own', 480, 480, null, { name: '镇自定' })] }, townEditor);
    expect(renamed.status).toBe(200);
    expect((await call('PUT', '/api/layouts/lay-bj-locked', moved, city.editor)).status).toBe(200);
    expect((await call('DELETE', '/api/layouts/lay-bj-locked', undefined, city.editor)).status).toBe(204);
  });

  it('keep their base in their zone or above when a zone moves', async () => {
    const own = { zoneId: 'bj', name: '北极镇底版', width: W, height: H, background: '#000000', regions: [region('town', 0, 320, null, { locked: true })] };
    expect((await call('POST', '/api/layouts', { ...own, id: 'lay-bj-base' }, city.editor)).status).toBe(201);
    const village = { id: 'lay-dj', zoneId: 'dj', name: '丁家村', width: W, height: H, background: '#000000', baseLayoutId: 'lay-bj-base', regions: [] };
    expect((await call('POST', '/api/layouts', village, city.editor)).status).toBe(201);
    const move = { tier: 'village', parentId: 'cg', divisionCode: '610482001205', shortName: '丁家村' };
    const res = await call('PUT', '/api/zones/dj', move, t.admin);
    expectError(res, 422, 'LAYOUT_BASE_INVALID');
    expect(res.body?.detail).toContain('lay-dj');
    expect(t.app.store.read().zones.find((z) => z.id === 'dj')?.parentId).toBe('bj');
    // Without the derived layout, the same move goes through.
    expect((await call('DELETE', '/api/layouts/lay-dj', undefined, city.editor)).status).toBe(204);
    expect((await call('PUT', '/api/zones/dj', move, t.admin)).status).toBe(200);
    expect((await call('PUT', '/api/zones/dj', { ...move, parentId: 'bj', divisionCode: '610482101205' }, t.admin)).status).toBe(200);
    expect((await call('DELETE', '/api/layouts/lay-bj-base', undefined, city.editor)).status).toBe(204);
  });

  it('keeps derived layouts valid when the city edits the base', async () => {
    const overlapping = cityLayout({ regions: [...cityLayout().regions, region('banner', 700, 100, null, { locked: true })] });
    const res = await call('PUT', '/api/layouts/lay-city', overlapping, city.editor);
    expectError(res, 422, 'REGION_OVERLAPS_LOCKED');
    expect(res.body?.detail).toContain('lay-pt');
    expectError(await call('PUT', '/api/layouts/lay-city', cityLayout({ width: 1920 }), city.editor), 422, 'LAYOUT_BASE_MISMATCH');
  });
});

describe('a change to the base', () => {
  it('reaches the screens of layouts derived from it, through the layout and its playlists', async () => {
    expect(t.app.manifests.affectedScreens({ entity: 'layout', id: 'lay-city' })).toContain('scr-pt');
    expect(t.app.manifests.affectedScreens({ entity: 'playlist', id: 'pl-city-policy' })).toContain('scr-pt');
    expect(t.app.manifests.affectedScreens({ entity: 'content', after: { ...policy('p-x', 'bz'), createdAt: '', updatedAt: '' } as never })).toContain('scr-pt');

    await t.listen();
    const s = connectScreen(t.url, screenToken);
    sockets.push(s);
    await once(s, 'screen:welcome');
    const pushed = once(s, 'manifest:changed');
    const renamed = cityLayout({ regions: [region('policy', 0, 640, 'pl-city-policy', { name: '政策发布与解读', locked: true }), region('free', 640, 320, null)] });
    await t.api('PUT', '/api/layouts/lay-city', renamed, city.editor);
    const { manifest } = await pushed;
    expect(manifest.layout?.id).toBe('lay-pt');
    expect(manifest.layout?.regions.map((r) => r.name)).toEqual(['政策发布与解读', '村务财务公开']);
  });
});

describe('explain', () => {
  it('shows exactly what the player computes from its manifest, open or closed', async () => {
    const m = (await t.api('GET', '/api/screens/scr-pt/manifest')) as unknown as Manifest;
    const start = Date.now();
    const local = localTime(start, m.timeZone);
    const tomorrow10 = local.midnight + 34 * 3_600_000;
    // Now and just after, across slot boundaries tomorrow morning, tonight's closed hours, days ahead.
    const instants = [
      start,
      start + 5_000,
      start + 3_600_000,
      tomorrow10,
      tomorrow10 + 19_999,
      tomorrow10 + 20_000,
      tomorrow10 + 41_000,
      local.midnight + 23 * 3_600_000 + 60_000,
      start + 3 * 86_400_000 + 12_345,
    ];
    let seenOpen = 0;
    let seenClosed = 0;
    for (const at of instants) {
      const e = (await t.api('GET', `/api/screens/scr-pt/explain?at=${encodeURIComponent(new Date(at).toISOString())}`, undefined, village.editor)) as unknown as Explain;
      expect(e.manifestVersion, `at ${at}`).toBe(m.version);
      const open = screenOpen(m, at);
      expect(e.open).toBe(open);
      if (open) seenOpen++;
      else seenClosed++;
      for (const r of m.layout?.regions ?? []) {
        const want = open ? (regionShowing(r, at, m.timeZone)?.itemId ?? null) : null;
        expect(e.regions.find((x) => x.regionId === r.id)?.showing, `${r.id} at ${new Date(at).toISOString()}`).toBe(want);
      }
    }
    expect(seenOpen).toBeGreaterThan(0);
    expect(seenClosed).toBeGreaterThan(0);
  });

  it('explains now by default, and refuses what the caller may not read', async () => {
    const e = (await t.api('GET', '/api/screens/scr-pt/explain', undefined, townEditor)) as unknown as Explain;
    expect(Math.abs(e.at - Date.now())).toBeLessThan(10_000);
    expectError(await call('GET', '/api/screens/scr-pt/explain', undefined, otherTownEditor), 403, 'FORBIDDEN_SCOPE');
    expectError(await call('GET', '/api/screens/nope/explain'), 404, 'NOT_FOUND');
    expectError(await call('GET', '/api/screens/scr-pt/explain?at=yesterday'), 400, 'VALIDATION_FAILED');
  });
});

describe('layout rules in content/', () => {
  const lockedBase = { width: W, height: H, baseLayoutId: null, regions: [region('a', 0, 500, 'p', { locked: true }), region('b', 500, 460, 'q')] };
  const byId = (id: string) => (id === 'base' ? lockedBase : undefined);

  it('resolves the base’s locked regions first, and lets the lock win over a clashing own region', () => {
    const derived = { width: W, height: H, baseLayoutId: 'base', regions: [region('c', 500, 460, 'r'), region('a', 0, 10, 'x'), region('d', 400, 200, 'y')] };
    expect(resolveRegions(derived, lockedBase).map((r) => [r.id, r.inherited, r.locked])).toEqual([
      ['a', true, true],
      ['c', false, false],
    ]);
    expect(resolveRegions({ ...derived, baseLayoutId: null }, undefined).map((r) => r.id)).toEqual(['c', 'a', 'd']);
  });

  it('counts adding, changing or dropping a lock, and leaving a locking base, as a locked change', () => {
    const plain = { width: W, height: H, regions: [region('b', 500, 460, 'q')] };
    expect(lockedRegionChanges(plain, { ...plain, regions: [region('b', 500, 460, 'other')] }, byId)).toEqual([]);
    expect(lockedRegionChanges(undefined, lockedBase, byId)).toEqual(['a']);
    expect(lockedRegionChanges(lockedBase, { ...lockedBase, regions: [region('a', 0, 500, 'p')] }, byId)).toEqual(['a']);
    expect(lockedRegionChanges(lockedBase, undefined, byId)).toEqual(['a']);
    expect(lockedRegionChanges(undefined, { ...plain, baseLayoutId: 'base' }, byId)).toEqual([]);
    expect(lockedRegionChanges({ ...plain, baseLayoutId: 'base' }, { ...plain, baseLayoutId: null }, byId)).toEqual(['base/a']);
    // Deleting an unused derived layout takes nothing from a screen.
    expect(lockedRegionChanges({ ...plain, baseLayoutId: 'base' }, undefined, byId)).toEqual([]);
  });
});
