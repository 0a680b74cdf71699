import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LightMyRequestResponse } from 'fastify';
import sharp from 'sharp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MEDIA_LIMITS, type ErrorBody, type Manifest, type Media } from '../../../content/index.js';
import { buildTestApp, type TestApp } from '../../helpers/app.js';
import { publishContent, publishers } from '../../helpers/fixtures.js';
import { bombPng, photoJpeg, pixelAt } from '../../helpers/images.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEMO_CLIP = path.resolve(here, '../../../server/seed/assets/demo-clip.webm');

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Uploaded {
  media: Media;
  created: boolean;
}

// A hall wall with three regions and a small village wall without a layout: five boxes in use.
const ZONE = { id: 'bz', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市' };
const LAYOUT = {
  id: 'lay-hall',
  zoneId: 'bz',
  name: '大厅三分区',
  width: 1920,
  height: 1080,
  background: '#0b1f3a',
  regions: [
    { id: 'main', name: '政策发布', x: 0, y: 0, width: 1200, height: 900, playlistId: null },
    { id: 'side', name: '公示公告', x: 1200, y: 0, width: 720, height: 900, playlistId: null },
    { id: 'ticker', name: '滚动字幕', x: 0, y: 900, width: 1920, height: 180, playlistId: null },
  ],
};
const screen = (id: string, width: number, height: number, layoutId: string | null) => ({
  id,
  zoneId: 'bz',
  name: `${id} LED屏`,
  width,
  height,
  pixelPitchMm: 2.5,
  viewingDistanceM: 8,
  openingHours: [],
  layoutId,
});
const BOXES: [number, number][] = [
  [1200, 900],
  [720, 900],
  [1920, 180],
  [1920, 1080],
  [768, 256],
];

/** A multipart/form-data body built by hand, so that tests control every byte of it. */
function multipart(parts: { name: string; data: Uint8Array | string; filename?: string; type?: string }[]) {
  const boundary = `----zonecast-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const file = p.filename === undefined ? '' : `; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'application/octet-stream'}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${file}\r\n\r\n`), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** The admin's session cookie: the API wants a logged-in user; /media/ files are public. */
const staff = (t: TestApp) => ({ cookie: t.admin.cookie });

function upload(t: TestApp, data: Uint8Array | string, filename = 'upload.bin', type = 'application/octet-stream'): Promise<LightMyRequestResponse> {
  const form = multipart([{ name: 'file', data, filename, type }]);
  return t.app.inject({ method: 'POST', url: '/api/media', payload: form.payload, headers: { ...form.headers, ...staff(t) } });
}

async function post(t: TestApp, url: string, payload: object): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url, payload, headers: staff(t) });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
}

/** What a failed upload must leave untouched: the store's records and the media directory. */
async function storedState(t: TestApp) {
  const records = (await t.app.inject({ method: 'GET', url: '/api/media', headers: staff(t) })).json<Media[]>();
  const entries = (await readdir(path.join(t.dataDir, 'media'))).sort();
  return { records, entries };
}

function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json<ErrorBody>();
  expect(body).toMatchObject({ ok: false, code });
  expect(body.message.zh).toMatch(/[\u4e00-\u9fff]/);
  expect(body.message.en.length).toBeGreaterThan(3);
}

/** The size sharp's fit-inside without enlargement gives, give or take a pixel of rounding. */
function expectFitted(actual: { width?: number; height?: number }, source: { width: number; height: number }, [bw, bh]: [number, number]): void {
  const scale = Math.min(bw / source.width, bh / source.height, 1);
  const width = actual.width ?? 0;
  const height = actual.height ?? 0;
  expect(width).toBeLessThanOrEqual(bw);
  expect(height).toBeLessThanOrEqual(bh);
  expect(Math.abs(width - source.width * scale)).toBeLessThanOrEqual(1);
  expect(Math.abs(height - source.height * scale)).toBeLessThanOrEqual(1);
}

let photo: Buffer;
let rotated: Buffer;
beforeAll(async () => {
  photo = await photoJpeg(1600, 900);
  rotated = await photoJpeg(400, 200, { orientation: 6 });
});

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
  await post(t, '/api/zones', ZONE);
  await post(t, '/api/layouts', LAYOUT);
  await post(t, '/api/screens', screen('scr-hall', 1920, 1080, 'lay-hall'));
  await post(t, '/api/screens', screen('scr-village', 768, 256, null));
});
afterEach(async () => t.close());

describe('POST /api/media', () => {
  it('stores a JPEG by the SHA-256 of its bytes with a WebP rendition for every region and screen box', async () => {
    const res = await upload(t, photo, '政务公开宣传画.jpg', 'image/jpeg');
    expect(res.statusCode, res.body).toBe(201);
    const { media, created } = res.json<Uploaded>();
    expect(created).toBe(true);
    expect(media).toMatchObject({
      hash: sha256(photo),
      mime: 'image/jpeg',
      format: 'jpeg',
      width: 1600,
      height: 900,
      bytes: photo.length,
      originalName: '政务公开宣传画.jpg',
      originalFile: 'original.jpg',
    });
    expect(media.renditions.map((r) => r.box).sort()).toEqual(BOXES.map(([w, h]) => `${w}x${h}`).sort());

    const dir = path.join(t.dataDir, 'media', media.hash);
    expect(await readFile(path.join(dir, 'original.jpg'))).toEqual(photo);
    for (const box of BOXES) {
      const r = media.renditions.find((x) => x.box === `${box[0]}x${box[1]}`);
      expect(r?.file).toBe(`${box[0]}x${box[1]}.webp`);
      const bytes = await readFile(path.join(dir, r?.file ?? ''));
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe('webp');
      expect({ width: meta.width, height: meta.height }).toEqual({ width: r?.width, height: r?.height });
      expectFitted(meta, media, box);
      expect(r).toMatchObject({ bytes: bytes.length, sha256: sha256(bytes) });
    }
    // Nothing but the original and the renditions, and no temp directory beside it.
    expect((await readdir(dir)).sort()).toEqual(['original.jpg', ...media.renditions.map((r) => r.file)].sort());
    expect(await readdir(path.join(t.dataDir, 'media'))).toEqual([media.hash]);

    const one = await t.app.inject({ method: 'GET', url: `/api/media/${media.hash}`, headers: staff(t) });
    expect(one.json<Media>()).toEqual(media);
  });

  it('answers the same bytes again with 200 and created: false, keeping one copy', async () => {
    const first = (await upload(t, photo, 'a.jpg')).json<Uploaded>();
    const again = await upload(t, photo, 'another-name.jpg');
    expect(again.statusCode).toBe(200);
    expect(again.json<Uploaded>()).toEqual({ media: first.media, created: false });
    expect(await readdir(path.join(t.dataDir, 'media'))).toEqual([first.media.hash]);
    expect((await t.app.inject({ method: 'GET', url: '/api/media', headers: staff(t) })).json<Media[]>()).toHaveLength(1);
  });

  it('stores the same bytes once when they are uploaded concurrently', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(t, photo, `copy-${i}.jpg`)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const hashes = new Set(results.map((r) => r.json<Uploaded>().media.hash));
    expect([...hashes]).toEqual([sha256(photo)]);
    expect(await readdir(path.join(t.dataDir, 'media'))).toEqual([sha256(photo)]);
    const [record] = (await t.app.inject({ method: 'GET', url: '/api/media', headers: staff(t) })).json<Media[]>();
    for (const r of record?.renditions ?? []) {
      expect(sha256(await readFile(path.join(t.dataDir, 'media', sha256(photo), r.file)))).toBe(r.sha256);
    }
  });

  it('applies the EXIF orientation: a landscape JPEG tagged 6 is stored and rendered portrait', async () => {
    expect(await sharp(rotated).metadata()).toMatchObject({ width: 400, height: 200, orientation: 6 });
    const res = await upload(t, rotated, 'phone.jpg', 'image/jpeg');
    expect(res.statusCode, res.body).toBe(201);
    const { media } = res.json<Uploaded>();
    expect({ width: media.width, height: media.height }).toEqual({ width: 200, height: 400 });
    for (const box of BOXES) {
      const r = media.renditions.find((x) => x.box === `${box[0]}x${box[1]}`);
      const bytes = await readFile(path.join(t.dataDir, 'media', media.hash, r?.file ?? ''));
      const meta = await sharp(bytes).metadata();
      expect(meta.height ?? 0).toBeGreaterThan(meta.width ?? 0);
      expectFitted(meta, media, box);
      // The pixels are turned, not tagged: a player must not rotate them a second time.
      expect(meta.orientation ?? 1).toBe(1);
    }
    // Orientation 6 turns the image clockwise, so the red left half ends up on top.
    const full = await readFile(path.join(t.dataDir, 'media', media.hash, '1200x900.webp'));
    const [tr, , tb] = await pixelAt(full, 100, 20);
    const [br, , bb] = await pixelAt(full, 100, 380);
    expect(tr).toBeGreaterThan(200);
    expect(tb).toBeLessThan(60);
    expect(bb).toBeGreaterThan(200);
    expect(br).toBeLessThan(60);
  });

  it('accepts every listed image format, AVIF included, as an image with renditions', async () => {
    const source = await photoJpeg(400, 300);
    const encoded = {
      png: await sharp(source).png().toBuffer(),
      webp: await sharp(source).webp().toBuffer(),
      gif: await sharp(source).gif().toBuffer(),
      tiff: await sharp(source).tiff().toBuffer(),
      // AVIF shares MP4's ISO-BMFF container: it must be decoded, not stored as a video.
      avif: await sharp(source).avif({ effort: 0 }).toBuffer(),
    };
    for (const [format, bytes] of Object.entries(encoded)) {
      const res = await upload(t, bytes, `poster.${format}`);
      expect(res.statusCode, `${format}: ${res.body}`).toBe(201);
      const { media } = res.json<Uploaded>();
      expect(media, format).toMatchObject({ format, mime: `image/${format}`, width: 400, height: 300, originalFile: `original.${format}` });
      expect(media.renditions, format).toHaveLength(BOXES.length);
      const served = await t.app.inject({ method: 'GET', url: `/media/${media.hash}/${media.originalFile}` });
      expect(served.rawPayload, format).toEqual(bytes);
    }
  });

  it('accepts a WebM video as it is, without renditions', async () => {
    const clip = await readFile(DEMO_CLIP);
    const res = await upload(t, clip, 'intro.webm', 'video/webm');
    expect(res.statusCode, res.body).toBe(201);
    const { media } = res.json<Uploaded>();
    expect(media).toMatchObject({ hash: sha256(clip), mime: 'video/webm', format: 'webm', originalFile: 'original.webm', bytes: clip.length, renditions: [] });
    const served = await t.app.inject({ method: 'GET', url: `/media/${media.hash}/original.webm` });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toMatch(/^video\/webm/);
    expect(served.rawPayload).toEqual(clip);
  });
});

describe('rejected uploads', () => {
  let before: Awaited<ReturnType<typeof storedState>>;
  beforeEach(async () => {
    // One good image already stored, so that "nothing new" is not trivially an empty store.
    expect((await upload(t, photo, 'good.jpg')).statusCode).toBe(201);
    before = await storedState(t);
  });
  afterEach(async () => {
    expect(await storedState(t)).toEqual(before);
  });

  it('refuses a plain-text file with 415 MEDIA_UNSUPPORTED', async () => {
    expectError(await upload(t, '这不是图片 not an image\n'.repeat(20), 'notes.jpg', 'image/jpeg'), 415, 'MEDIA_UNSUPPORTED');
  });

  it('refuses an SVG and a text file that only looks like an MP4 with 415 MEDIA_UNSUPPORTED', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>';
    expectError(await upload(t, svg, 'logo.svg', 'image/svg+xml'), 415, 'MEDIA_UNSUPPORTED');
    expectError(await upload(t, 'xxxxftypisom, and then plain text', 'clip.mp4', 'video/mp4'), 415, 'MEDIA_UNSUPPORTED');
  });

  it('refuses an empty file with 415 MEDIA_UNSUPPORTED', async () => {
    expectError(await upload(t, new Uint8Array(0), 'empty.jpg', 'image/jpeg'), 415, 'MEDIA_UNSUPPORTED');
  });

  it('refuses a JPEG cut in half with 422 MEDIA_CORRUPT', async () => {
    const other = await photoJpeg(1200, 800, { quality: 80 });
    expectError(await upload(t, other.subarray(0, Math.floor(other.length / 2)), 'cut.jpg', 'image/jpeg'), 422, 'MEDIA_CORRUPT');
  });

  it(`refuses a file over ${MEDIA_LIMITS.maxBytes} bytes with 413 MEDIA_TOO_LARGE`, async () => {
    expectError(await upload(t, randomBytes(MEDIA_LIMITS.maxBytes + 1), 'huge.jpg', 'image/jpeg'), 413, 'MEDIA_TOO_LARGE');
  });

  it('refuses a decompression bomb with 413 MEDIA_TOO_MANY_PIXELS', async () => {
    const bomb = await bombPng(10_000, 10_000);
    expect(10_000 * 10_000).toBeGreaterThan(MEDIA_LIMITS.maxPixels);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expectError(await upload(t, bomb, 'bomb.png', 'image/png'), 413, 'MEDIA_TOO_MANY_PIXELS');
  });

  it('refuses a form without a file with 400 MEDIA_MISSING_FILE', async () => {
    const form = multipart([{ name: 'title', data: '宣传画' }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/media', payload: form.payload, headers: { ...form.headers, ...staff(t) } });
    expectError(res, 400, 'MEDIA_MISSING_FILE');
  });

  it('refuses a body that is not multipart with 415 UNSUPPORTED_CONTENT_TYPE', async () => {
    expectError(await t.app.inject({ method: 'POST', url: '/api/media', headers: staff(t), payload: { file: 'x' } }), 415, 'UNSUPPORTED_CONTENT_TYPE');
    expectError(
      await t.app.inject({ method: 'POST', url: '/api/media', headers: { 'content-type': 'image/jpeg', ...staff(t) }, payload: photo }),
      415,
      'UNSUPPORTED_CONTENT_TYPE',
    );
  });
});

describe('GET /media/:hash/:file', () => {
  it('serves stored files at their hash URL, cached as immutable', async () => {
    const { media } = (await upload(t, photo, 'a.jpg')).json<Uploaded>();
    const original = await t.app.inject({ method: 'GET', url: `/media/${media.hash}/original.jpg` });
    expect(original.statusCode).toBe(200);
    expect(original.headers['cache-control']).toContain('immutable');
    expect(original.headers['cache-control']).toContain('max-age=31536000');
    expect(original.headers['content-type']).toMatch(/^image\/jpeg/);
    expect(original.rawPayload).toEqual(photo);
    for (const r of media.renditions) {
      const res = await t.app.inject({ method: 'GET', url: `/media/${media.hash}/${r.file}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toContain('immutable');
      expect(res.headers['content-type']).toMatch(/^image\/webp/);
      expect(sha256(res.rawPayload)).toBe(r.sha256);
    }
  });

  it('answers a file or hash that is not stored with 404 and a bilingual error', async () => {
    const { media } = (await upload(t, photo, 'a.jpg')).json<Uploaded>();
    expectError(await t.app.inject({ method: 'GET', url: `/media/${media.hash}/999x999.webp` }), 404, 'NOT_FOUND');
    expectError(await t.app.inject({ method: 'GET', url: `/media/${media.hash}/original.png` }), 404, 'NOT_FOUND');
    expectError(await t.app.inject({ method: 'GET', url: `/media/${'0'.repeat(64)}/original.jpg` }), 404, 'NOT_FOUND');
    expectError(await t.app.inject({ method: 'GET', url: `/api/media/${'0'.repeat(64)}`, headers: staff(t) }), 404, 'NOT_FOUND');
  });

  it('never reads a file outside the media directory', async () => {
    const { media } = (await upload(t, photo, 'a.jpg')).json<Uploaded>();
    const urls = [
      `/media/${media.hash}/..%2F..%2Fzonecast.json`,
      `/media/${media.hash}/%2e%2e%2f%2e%2e%2fzonecast.json`,
      `/media/${media.hash}/..%5C..%5Czonecast.json`,
      `/media/..%2F..%2Fzonecast.json/original.jpg`,
      `/media/${media.hash}/original.jpg%00.json`,
      `/media/${media.hash}/../../zonecast.json`,
      `/media/${media.hash}/.%2Foriginal.jpg`,
    ];
    for (const url of urls) {
      const res = await t.app.inject({ method: 'GET', url });
      expect([400, 404], url).toContain(res.statusCode);
      expect(res.json<ErrorBody>().ok, url).toBe(false);
      expect(res.body, url).not.toContain('"zones"');
    }
  });
});

describe('renditions on demand', () => {
  it('creates the rendition a manifest needs for a new region size and serves exactly those bytes', async () => {
    const { media } = (await upload(t, photo, 'poster.jpg')).json<Uploaded>();
    await publishContent(t, {
      id: 'c-poster',
      kind: 'image',
      zoneId: 'bz',
      title: '宣传画',
      validFrom: null,
      validTo: null,
      durationS: null,
      mediaHash: media.hash,
      fit: 'contain',
      caption: '',
    }, await publishers(t, 'bz'));
    await post(t, '/api/playlists', {
      id: 'pl-posters',
      name: '宣传画',
      zoneId: 'bz',
      mode: 'fixed',
      entries: [{ contentId: 'c-poster' }],
      rule: null,
      defaultDurationS: 10,
      scheduleId: null,
    });
    await post(t, '/api/layouts', {
      id: 'lay-portrait',
      zoneId: 'bz',
      name: '竖屏',
      width: 1080,
      height: 1920,
      background: '#000000',
      regions: [{ id: 'poster', name: '宣传画', x: 0, y: 0, width: 1080, height: 1500, playlistId: 'pl-posters' }],
    });
    await post(t, '/api/screens', screen('scr-portrait', 1080, 1920, 'lay-portrait'));
    expect(media.renditions.some((r) => r.box === '1080x1500')).toBe(false);

    const res = await t.app.inject({ method: 'GET', url: '/api/screens/scr-portrait/manifest', headers: staff(t) });
    expect(res.statusCode, res.body).toBe(200);
    const asset = res.json<Manifest>().assets.find((a) => a.mediaHash === media.hash);
    expect(asset).toMatchObject({ box: '1080x1500', mime: 'image/webp', url: `/media/${media.hash}/1080x1500.webp` });

    const served = await t.app.inject({ method: 'GET', url: asset?.url ?? '' });
    expect(served.statusCode).toBe(200);
    expect(sha256(served.rawPayload)).toBe(asset?.sha256);
    expect(served.rawPayload.length).toBe(asset?.bytes);
    const meta = await sharp(served.rawPayload).metadata();
    expect(meta.format).toBe('webp');
    expect({ width: meta.width, height: meta.height }).toEqual({ width: asset?.width, height: asset?.height });
    expectFitted(meta, media, [1080, 1500]);

    // The new rendition is recorded, and asking again serves the same one.
    const record = (await t.app.inject({ method: 'GET', url: `/api/media/${media.hash}`, headers: staff(t) })).json<Media>();
    expect(record.renditions.find((r) => r.box === '1080x1500')?.sha256).toBe(asset?.sha256);
    const again = (await t.app.inject({ method: 'GET', url: '/api/screens/scr-portrait/manifest', headers: staff(t) })).json<Manifest>();
    expect(again.assets).toEqual(res.json<Manifest>().assets);
  });

  it('lists a video in the manifest as its original, whose bytes hash to the media hash', async () => {
    const clip = await readFile(DEMO_CLIP);
    const { media } = (await upload(t, clip, 'intro.webm', 'video/webm')).json<Uploaded>();
    await publishContent(t, {
      id: 'c-clip',
      kind: 'video',
      zoneId: 'bz',
      title: '介绍短片',
      validFrom: null,
      validTo: null,
      durationS: 12,
      mediaHash: media.hash,
      muted: true,
    }, await publishers(t, 'bz'));
    await post(t, '/api/playlists', {
      id: 'pl-clips',
      name: '短片',
      zoneId: 'bz',
      mode: 'fixed',
      entries: [{ contentId: 'c-clip' }],
      rule: null,
      defaultDurationS: 10,
      scheduleId: null,
    });
    const put = await t.app.inject({
      method: 'PUT',
      url: '/api/layouts/lay-hall',
      headers: staff(t),
      payload: { ...LAYOUT, regions: LAYOUT.regions.map((r) => (r.id === 'main' ? { ...r, playlistId: 'pl-clips' } : r)) },
    });
    expect(put.statusCode, put.body).toBe(200);
    const manifest = (await t.app.inject({ method: 'GET', url: '/api/screens/scr-hall/manifest', headers: staff(t) })).json<Manifest>();
    const asset = manifest.assets.find((a) => a.mediaHash === media.hash);
    expect(asset).toMatchObject({ box: 'original', sha256: media.hash, mime: 'video/webm', url: `/media/${media.hash}/original.webm` });
    const served = await t.app.inject({ method: 'GET', url: asset?.url ?? '' });
    expect(sha256(served.rawPayload)).toBe(asset?.sha256);
  });
});
