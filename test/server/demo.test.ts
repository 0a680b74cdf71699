import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTENT_KINDS,
  ContentItemSchema,
  ContentRecordSchema,
  LayoutSchema,
  ManifestSchema,
  PlaylistSchema,
  ScheduleSchema,
  ScreenSchema,
  ZoneSchema,
  checkLayout,
  checkZone,
  screenShowing,
  type Manifest,
} from '../../content/index.js';
import { seedDemo } from '../../server/seed/demo.js';
import { manifestVersion } from '../../server/services/manifests.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ demo: true });
});
afterAll(async () => t.close());

describe('demo seed', () => {
  it('seeds a city, two towns and three villages with valid codes and a screen in each at different sizes', () => {
    const d = t.app.store.read();
    expect(d.zones.map((z) => z.tier).sort()).toEqual(['city', 'town', 'town', 'village', 'village', 'village']);
    const byId = new Map(d.zones.map((z) => [z.id, z]));
    for (const z of d.zones) {
      expect(Value.Check(ZoneSchema, z), z.id).toBe(true);
      expect(checkZone(z, z.parentId ? byId.get(z.parentId) : undefined), z.id).toBeUndefined();
      expect(d.screens.filter((s) => s.zoneId === z.id), z.id).toHaveLength(1);
    }
    expect(new Set(d.screens.map((s) => `${s.width}x${s.height}`)).size).toBe(d.screens.length);
  });

  it('stores only schema-valid documents', () => {
    const d = t.app.store.read();
    for (const { tokenHash, ...screen } of d.screens) {
      expect(Value.Check(ScreenSchema, screen), screen.id).toBe(true);
      expect(tokenHash, screen.id).toMatch(/^[a-f0-9]{64}$/);
    }
    for (const c of d.content) {
      expect(Value.Check(ContentRecordSchema, c), c.id).toBe(true);
      // Seeded as approved: what screens show is the published version, equal to the working copy.
      expect(c.status, c.id).toBe('published');
      expect(Value.Check(ContentItemSchema, c.published), c.id).toBe(true);
      const { status: _s, published, review: _r, ...version } = c;
      expect(published, c.id).toEqual(version);
    }
    for (const l of d.layouts) {
      expect(Value.Check(LayoutSchema, l), l.id).toBe(true);
      expect(checkLayout(l), l.id).toBeUndefined();
    }
    for (const p of d.playlists) expect(Value.Check(PlaylistSchema, p), p.id).toBe(true);
    for (const s of d.schedules) expect(Value.Check(ScheduleSchema, s), s.id).toBe(true);
  });

  it('has Chinese demo content of every kind', () => {
    const kinds = new Set(t.app.store.read().content.map((c) => c.kind));
    for (const k of CONTENT_KINDS) expect(kinds.has(k), k).toBe(true);
    for (const c of t.app.store.read().content) expect(c.title, c.id).toMatch(/[\u4e00-\u9fff]/);
  });

  it('gives every demo screen a valid manifest whose regions show something now, with assets that load', async () => {
    for (const s of t.demo) {
      const res = await t.app.inject({ method: 'GET', url: '/api/player/manifest', headers: { authorization: `Bearer ${s.token}` } });
      expect(res.statusCode, s.id).toBe(200);
      const m = JSON.parse(res.body) as Manifest;
      expect(Value.Check(ManifestSchema, m), s.id).toBe(true);
      const { version, generatedAt: _g, horizonUntil: _h, ...body } = m;
      expect(version, 'version is SHA-256 of the canonical body').toBe(manifestVersion(body));
      expect(m.horizonUntil - m.generatedAt).toBeGreaterThanOrEqual(7 * 86_400_000);
      const showing = screenShowing(m, Date.now());
      expect(showing.regions.main, s.id).not.toBeNull();
      for (const a of m.assets) {
        const file = await t.app.inject({ method: 'GET', url: a.url });
        expect(file.statusCode, a.url).toBe(200);
        expect(file.rawPayload.length).toBe(a.bytes);
      }
    }
  });

  it('serves the player page and seeds only once', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/player/' });
    // 200 with the built player, 503 with instructions before `npm run build`.
    expect([200, 503]).toContain(page.statusCode);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('ZoneCast');
    const again = await seedDemo({ store: t.app.store, media: t.app.media, dataDir: t.dataDir });
    expect(again).toBeNull();
    expect(t.app.store.read().zones).toHaveLength(6);
  });
});
