import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, type TestUser } from '../../helpers/app.js';
import { publishers, submitAndApprove } from '../../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, as: TestUser = t.admin) {
  const res = await t.app.inject({ method, url, payload: payload as object | undefined, headers: { cookie: as.cookie } });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : null };
}

function expectError(res: { status: number; body: Record<string, unknown> | null }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ ok: false, code });
  const message = res.body?.message as { zh: string; en: string };
  expect(message.zh).toMatch(/[\u4e00-\u9fff]/);
  expect(message.en.length).toBeGreaterThan(3);
}

const city = { tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' };
const now = Date.now();
const isoIn = (days: number) => new Date(now + days * 86_400_000).toISOString();

describe('zones', () => {
  it('creates the three tiers and names them by the template', async () => {
    const c = await call('POST', '/api/zones', { id: 'bz', ...city });
    expect(c.status).toBe(201);
    expect(c.body?.name).toBe('彬州市政务公开专区');
    const town = await call('POST', '/api/zones', { id: 'bj', tier: 'town', parentId: 'bz', divisionCode: '610482101000', shortName: '北极镇' });
    expect(town.status).toBe(201);
    const village = await call('POST', '/api/zones', { id: 'pt', tier: 'village', parentId: 'bj', divisionCode: '610482101201', shortName: '坡头村' });
    expect(village.body?.name).toBe('彬州市北极镇坡头村政务公开专区');
    const list = await call('GET', '/api/zones?tier=town');
    expect((list.body as unknown as { id: string }[]).map((z) => z.id)).toEqual(['bj']);
  });

  it('renames the subtree when a parent’s short name changes', async () => {
    await call('PUT', '/api/zones/bj', { tier: 'town', parentId: 'bz', divisionCode: '610482101000', shortName: '北极镇人民政府' });
    expect((await call('GET', '/api/zones/pt')).body?.name).toBe('彬州市北极镇人民政府坡头村政务公开专区');
    await call('PUT', '/api/zones/bj', { tier: 'town', parentId: 'bz', divisionCode: '610482101000', shortName: '北极镇' });
  });

  it('rejects bad zones with clear codes', async () => {
    expectError(await call('POST', '/api/zones', { ...city, divisionCode: '12345' }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/zones', { ...city, divisionCode: '610482000000' }), 409, 'ZONE_CODE_TAKEN');
    expectError(await call('POST', '/api/zones', { tier: 'village', parentId: 'bz', divisionCode: '610482101202', shortName: 'x' }), 422, 'ZONE_PARENT_INVALID');
    expectError(await call('POST', '/api/zones', { tier: 'village', parentId: 'bj', divisionCode: '610482102202', shortName: 'x' }), 422, 'ZONE_CODE_INVALID');
    expectError(await call('POST', '/api/zones', { tier: 'town', parentId: 'nope', divisionCode: '610482102000', shortName: 'x' }), 422, 'ZONE_PARENT_INVALID');
    expectError(await call('POST', '/api/zones', { ...city, extra: 1 }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/zones', { id: 'bz', tier: 'city', parentId: null, divisionCode: '620100000000', shortName: '兰州市' }), 409, 'ID_TAKEN');
    expectError(await call('DELETE', '/api/zones/bj'), 409, 'ZONE_HAS_CHILDREN');
    expectError(await call('GET', '/api/zones/missing'), 404, 'NOT_FOUND');
    expectError(await call('GET', '/api/zones/bad%20id'), 400, 'VALIDATION_FAILED');
  });

  it('answers malformed JSON and wrong content types with codes, not crashes', async () => {
    const headers = { cookie: t.admin.cookie };
    const bad = await t.app.inject({ method: 'POST', url: '/api/zones', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"tier":' });
    expectError({ status: bad.statusCode, body: JSON.parse(bad.body) as Record<string, unknown> }, 400, 'BAD_JSON');
    const xml = await t.app.inject({ method: 'POST', url: '/api/zones', headers: { ...headers, 'content-type': 'application/xml' }, payload: '<zone/>' });
    expectError({ status: xml.statusCode, body: JSON.parse(xml.body) as Record<string, unknown> }, 415, 'UNSUPPORTED_CONTENT_TYPE');
    expectError(await call('GET', '/api/nothing-here'), 404, 'ROUTE_NOT_FOUND');
  });
});

describe('schedules, playlists, layouts, screens and content', () => {
  it('accepts a full chain and refers between entities', async () => {
    const sch = await call('POST', '/api/schedules', { id: 'night', zoneId: 'bj', name: '夜间', validFrom: null, validTo: null, dayparts: [{ days: [1, 2, 3, 4, 5], start: '22:00', end: '06:00' }], priority: 1, weight: 2 });
    expect(sch.status).toBe(201);
    const who = await publishers(t, 'bz');
    const item = await call('POST', '/api/content', {
      id: 'n1', kind: 'notice', zoneId: 'bj', title: '公示', validFrom: null, validTo: null, durationS: null,
      body: '内容', publicityStart: isoIn(-1), publicityEnd: isoIn(6), contact: '',
    }, who.editor);
    expect(item.status).toBe(201);
    expect(item.body).toMatchObject({ status: 'draft', published: null });
    expect((await submitAndApprove(t, 'n1', who)).status).toBe('published');
    const pl = await call('POST', '/api/playlists', { id: 'pl1', name: '公示', zoneId: 'bj', mode: 'fixed', entries: [{ contentId: 'n1', scheduleId: 'night' }], rule: null, defaultDurationS: 10, scheduleId: null });
    expect(pl.status).toBe(201);
    const lay = await call('POST', '/api/layouts', { id: 'l1', zoneId: 'bj', name: '横屏', width: 1152, height: 384, background: '#000000', regions: [{ id: 'main', name: '主区', x: 0, y: 0, width: 1152, height: 384, playlistId: 'pl1' }] });
    expect(lay.status).toBe(201);
    const scr = await call('POST', '/api/screens', { id: 's1', zoneId: 'bj', name: '北极镇屏', width: 1152, height: 384, pixelPitchMm: 4, viewingDistanceM: 10, openingHours: [], layoutId: 'l1' });
    expect(scr.status).toBe(201);
    expect(typeof scr.body?.deviceToken).toBe('string');
    expect(JSON.stringify(scr.body)).not.toContain('tokenHash');
    const manifest = await call('GET', '/api/screens/s1/manifest');
    expect(manifest.status).toBe(200);
    const region = (manifest.body?.layout as { regions: { candidates: { itemId: string; priority: number; weight: number; dayparts: unknown[] }[] }[] }).regions[0];
    expect(region?.candidates[0]).toMatchObject({ itemId: 'n1', priority: 1, weight: 2 });
  });

  it('refuses to delete what is still referenced', async () => {
    expectError(await call('DELETE', '/api/schedules/night'), 409, 'IN_USE');
    expectError(await call('DELETE', '/api/content/n1'), 409, 'IN_USE');
    expectError(await call('DELETE', '/api/playlists/pl1'), 409, 'IN_USE');
    expectError(await call('DELETE', '/api/layouts/l1'), 409, 'IN_USE');
  });

  it('rejects bad schedules', async () => {
    const base = { name: 'x', zoneId: 'bz', validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1 };
    expect((await call('POST', '/api/schedules', base)).status).toBe(201);
    expectError(await call('POST', '/api/schedules', { ...base, dayparts: [{ days: [8], start: '08:00', end: '09:00' }] }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/schedules', { ...base, dayparts: [{ days: [1], start: '8:00', end: '09:00' }] }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/schedules', { ...base, dayparts: [{ days: [1], start: '24:30', end: '09:00' }] }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/schedules', { ...base, validFrom: isoIn(2), validTo: isoIn(1) }), 422, 'WINDOW_INVALID');
    expectError(await call('POST', '/api/schedules', { ...base, weight: 0 }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/schedules', { ...base, validFrom: '2026-13-45' }), 400, 'VALIDATION_FAILED');
  });

  it('rejects bad playlists', async () => {
    const base = { name: 'x', zoneId: 'bj', mode: 'fixed', entries: [], rule: null, defaultDurationS: 10, scheduleId: null };
    expectError(await call('POST', '/api/playlists', { ...base, entries: [{ contentId: 'ghost' }] }), 422, 'REFERENCE_MISSING');
    expectError(await call('POST', '/api/playlists', { ...base, zoneId: 'ghost' }), 422, 'REFERENCE_MISSING');
    expectError(await call('POST', '/api/playlists', { ...base, mode: 'rule' }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/playlists', { ...base, mode: 'rule', rule: { kinds: ['poster'], scope: 'ancestors', limit: 5 } }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/playlists', { ...base, defaultDurationS: 0 }), 400, 'VALIDATION_FAILED');
  });

  it('rejects bad layouts', async () => {
    const region = { id: 'a', name: 'a', x: 0, y: 0, width: 100, height: 100, playlistId: null };
    const base = { name: 'x', zoneId: 'bz', width: 200, height: 100, background: '#000000', regions: [region] };
    expect((await call('POST', '/api/layouts', base)).status).toBe(201);
    expectError(await call('POST', '/api/layouts', { ...base, regions: [{ ...region, x: 150 }] }), 422, 'REGION_OUT_OF_CANVAS');
    expectError(await call('POST', '/api/layouts', { ...base, regions: [region, region] }), 422, 'REGION_ID_DUPLICATE');
    expectError(await call('POST', '/api/layouts', { ...base, regions: [{ ...region, playlistId: 'ghost' }] }), 422, 'REFERENCE_MISSING');
    expectError(await call('POST', '/api/layouts', { ...base, background: 'red' }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/layouts', { ...base, width: -5 }), 400, 'VALIDATION_FAILED');
  });

  it('rejects bad screens', async () => {
    const base = { zoneId: 'bj', name: 'x', width: 1152, height: 384, pixelPitchMm: 4, viewingDistanceM: 10, openingHours: [], layoutId: null };
    expectError(await call('POST', '/api/screens', { ...base, zoneId: 'ghost' }), 422, 'REFERENCE_MISSING');
    expectError(await call('POST', '/api/screens', { ...base, layoutId: 'ghost' }), 422, 'REFERENCE_MISSING');
    expectError(await call('POST', '/api/screens', { ...base, width: 1152.5 }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/screens', { ...base, pixelPitchMm: 0 }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/screens', { ...base, tokenHash: 'x' }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/screens/ghost/token'), 404, 'NOT_FOUND');
    expectError(await call('GET', '/api/screens/ghost/manifest'), 404, 'NOT_FOUND');
  });

  it('rejects bad content of each kind', async () => {
    const common = { zoneId: 'bj', title: 't', validFrom: null, validTo: null, durationS: null };
    expect((await call('POST', '/api/content', { ...common, kind: 'text', body: 'x', align: 'left' })).status).toBe(201);
    expectError(await call('POST', '/api/content', { ...common, kind: 'text', body: 'x', align: 'left', status: 'published' }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/content', { ...common, kind: 'poster', body: 'x' }), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/content', { ...common, kind: 'text', body: 'x' }), 400, 'VALIDATION_FAILED'); // no align
    expectError(await call('POST', '/api/content', { ...common, kind: 'text', body: 'x', align: 'left', zoneId: 'ghost' }), 422, 'REFERENCE_MISSING');
    expectError(
      await call('POST', '/api/content', { ...common, kind: 'notice', body: 'x', contact: '', publicityStart: isoIn(3), publicityEnd: isoIn(1) }),
      422,
      'WINDOW_INVALID',
    );
    expectError(await call('POST', '/api/content', { ...common, kind: 'image', mediaHash: 'a'.repeat(64), fit: 'contain', caption: '' }), 422, 'REFERENCE_MISSING');
    expectError(
      await call('POST', '/api/content', {
        ...common, kind: 'policy', docNumber: '彬政发〔2026〕1号', issuer: '彬州市人民政府', issuedDate: '2026-01-01', sourceUrl: 'not a url', body: 'x',
        interpretation: { title: '解读', body: 'x', sourceUrl: null },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await call('POST', '/api/content', { ...common, kind: 'three-affairs', category: 'sports', period: 'Q1', body: '', rows: [] }), 400, 'VALIDATION_FAILED');
    expectError(await call('PUT', '/api/content/n1', { ...common, kind: 'text', body: 'x', align: 'left' }), 409, 'CONFLICT');
    expectError(await call('PUT', '/api/content/ghost', { ...common, kind: 'text', body: 'x', align: 'left' }), 404, 'NOT_FOUND');
    expectError(await call('PUT', '/api/content/n1', { ...common, id: 'other', kind: 'text', body: 'x', align: 'left' }), 400, 'VALIDATION_FAILED');
  });
});

describe('system routes', () => {
  it('reports health with the server clock', async () => {
    const res = await call('GET', '/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, timeZone: 'Asia/Shanghai' });
    expect(Math.abs((res.body?.time as number) - Date.now())).toBeLessThan(60_000);
  });

  it('publishes OpenAPI with a schema for every route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const spec = JSON.parse(res.body) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(spec.openapi).toMatch(/^3\./);
    for (const p of ['/api/zones', '/api/screens/{id}', '/api/content', '/api/layouts', '/api/playlists', '/api/schedules/{id}', '/api/media', '/api/health']) {
      expect(spec.paths[p], p).toBeDefined();
    }
    for (const [p, ops] of Object.entries(spec.paths)) for (const [m, op] of Object.entries(ops)) expect(Object.keys(op.responses), `${m} ${p}`).not.toHaveLength(0);
    const ui = await t.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
  });
});
