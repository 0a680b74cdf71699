import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord, Manifest } from '../../../content/index.js';
import { buildTestApp, type TestApp, type TestUser } from '../../helpers/app.js';
import { photoJpeg } from '../../helpers/images.js';

/* A notice's optional picture: checked like any media reference, and carried to screens with the notice. */

let t: TestApp;
let editor: TestUser;
let reviewer: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  await t.api('POST', '/api/zones', { id: 'city', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' });
  await t.api('POST', '/api/zones', { id: 'chengguan', tier: 'town', parentId: 'city', divisionCode: '610482001000', shortName: '城关街道' });
  await t.api('POST', '/api/playlists', {
    id: 'pl-notices', name: '公示公告', zoneId: 'city', mode: 'rule', entries: [], defaultDurationS: 10, scheduleId: null,
    rule: { kinds: ['notice'], scope: 'ancestors', limit: 10 },
  });
  await t.api('POST', '/api/layouts', {
    id: 'lay', zoneId: 'city', name: '公示屏', width: 1280, height: 720, background: '#0b1f3a',
    regions: [
      { id: 'main', name: '主区', x: 0, y: 0, width: 800, height: 720, playlistId: null },
      { id: 'side', name: '公示', x: 800, y: 0, width: 480, height: 720, playlistId: 'pl-notices' },
    ],
  });
  await t.api('POST', '/api/screens', { id: 'scr-chengguan', zoneId: 'chengguan', name: '城关街道LED屏', width: 1280, height: 720, pixelPitchMm: 2.5, viewingDistanceM: 5, openingHours: [], layoutId: 'lay' });
  editor = await t.addUser({ username: 'np-editor', role: 'editor', zoneId: 'chengguan' });
  reviewer = await t.addUser({ username: 'np-reviewer', role: 'reviewer', zoneId: 'chengguan' });
});

afterAll(async () => {
  await t?.close();
});

const notice = (mediaHash?: string | null) => ({
  kind: 'notice',
  zoneId: 'chengguan',
  title: '配图公示',
  validFrom: null,
  validTo: null,
  durationS: null,
  body: '现予公示。',
  publicityStart: new Date(Date.now() - 3_600_000).toISOString(),
  publicityEnd: new Date(Date.now() + 86_400_000).toISOString(),
  contact: '',
  ...(mediaHash === undefined ? {} : { mediaHash }),
});

describe('a notice’s picture', () => {
  it('must name stored media', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/content', payload: notice('c'.repeat(64)), headers: { cookie: editor.cookie } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'REFERENCE_MISSING' });
    // None at all, or null, is fine.
    for (const hash of [undefined, null]) {
      const ok = await t.app.inject({ method: 'POST', url: '/api/content', payload: notice(hash), headers: { cookie: editor.cookie } });
      expect(ok.statusCode).toBe(201);
    }
  });

  it('reaches the town’s screen with the notice once approved, as an asset fitted to the region', async () => {
    const { media } = await t.app.media.ingest(await photoJpeg(800, 600), '示意图.jpg');
    const created = (await t.api('POST', '/api/content', notice(media.hash), editor)) as unknown as ContentRecord;
    await t.api('POST', `/api/content/${created.id}/submit`, undefined, editor);
    await t.api('POST', `/api/content/${created.id}/approve`, undefined, reviewer);
    const manifest = (await t.api('GET', '/api/screens/scr-chengguan/manifest')) as unknown as Manifest;
    expect(manifest.items[created.id]).toMatchObject({ kind: 'notice', mediaHash: media.hash });
    const side = manifest.layout?.regions.find((r) => r.id === 'side');
    expect(side?.candidates.some((c) => c.itemId === created.id)).toBe(true);
    expect(manifest.assets.find((a) => a.mediaHash === media.hash)).toMatchObject({ box: `${side?.width}x${side?.height}`, mime: 'image/webp' });
  });
});
