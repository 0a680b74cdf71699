import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Layout, Manifest } from '../../../content/index.js';
import { buildTestApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ demo: true });
});
afterAll(() => t.close());

type Preview = { manifest: Manifest; at: number };

describe('POST /api/preview', () => {
  it('draws a draft item alone on a stored screen, at its true size, without saving it', async () => {
    const before = t.app.store.read().content.length;
    const res = (await t.api('POST', '/api/preview', {
      screenId: 'scr-beiji',
      content: { kind: 'text', zoneId: 'beiji', title: '草稿', validFrom: null, validTo: null, durationS: 20, body: '预览中的通知正文', align: 'left' },
    })) as unknown as Preview;
    const m = res.manifest;
    expect(m.screen).toMatchObject({ width: 1152, height: 384, pixelPitchMm: 4 });
    expect(m.layout?.regions).toHaveLength(1);
    expect(m.layout?.regions[0]).toMatchObject({ x: 0, y: 0, width: 1152, height: 384 });
    expect(m.layout?.regions[0]?.candidates[0]).toMatchObject({ itemId: 'preview', durationMs: 20_000 });
    expect(m.items.preview).toMatchObject({ body: '预览中的通知正文' });
    expect(t.app.store.read().content).toHaveLength(before);
  });

  it('moves the instant inside a draft item’s validity, so that it shows', async () => {
    const res = (await t.api('POST', '/api/preview', {
      screen: { zoneId: 'potou', width: 768, height: 256, pixelPitchMm: 5, viewingDistanceM: 8 },
      content: { kind: 'text', zoneId: 'potou', title: '将来', validFrom: '2031-01-01T08:00:00+08:00', validTo: null, durationS: null, body: '五年后', align: 'center' },
    })) as unknown as Preview;
    expect(res.at).toBe(Date.parse('2031-01-01T08:00:00+08:00'));
    expect(res.manifest.layout?.regions[0]?.candidates).toHaveLength(1);
  });

  it('shows a screen with a draft of its layout instead of the stored one', async () => {
    const screen = t.app.store.read().screens.find((s) => s.id === 'scr-chengguan');
    const stored = t.app.store.read().layouts.find((l) => l.id === screen?.layoutId) as Layout;
    const { id, createdAt: _c, updatedAt: _u, ...input } = stored;
    const draft = { ...input, id, regions: stored.regions.map((r) => (r.id === 'main' ? { ...r, width: r.width - 100 } : r)) };
    const res = (await t.api('POST', '/api/preview', { screenId: 'scr-chengguan', layout: draft })) as unknown as Preview;
    const main = res.manifest.layout?.regions.find((r) => r.id === 'main');
    expect(main?.width).toBe((stored.regions.find((r) => r.id === 'main')?.width ?? 0) - 100);
    // The same candidates the screen's own manifest has for that region.
    const own = await t.app.manifests.resolve('scr-chengguan');
    expect(main?.candidates.map((c) => c.itemId)).toEqual(own.layout?.regions.find((r) => r.id === 'main')?.candidates.map((c) => c.itemId));
    expect(t.app.store.read().layouts.find((l) => l.id === id)?.regions).toEqual(stored.regions);
  });

  it('refuses a draft layout whose regions leave the canvas, with a code', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/preview',
      headers: { cookie: t.admin.cookie },
      payload: { layout: { zoneId: 'binzhou', name: 'x', width: 100, height: 100, background: '#000000', regions: [{ id: 'a', name: 'a', x: 50, y: 0, width: 80, height: 10, playlistId: null }] } },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'REGION_OUT_OF_CANVAS' });
  });

  it('asks for a screen or a layout', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/preview', headers: { cookie: t.admin.cookie }, payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
