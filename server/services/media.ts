import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import {
  IMAGE_FORMATS,
  MEDIA_LIMITS,
  mediaUrl,
  renditionName,
  type ManifestAsset,
  type Media,
  type Rendition,
} from '../../content/index.js';
import { AppError } from '../errors.js';
import { fsyncDir, writeFileDurably } from './durable-file.js';
import type { Store } from './store.js';

export interface MediaService {
  /** Validates, orients and stores an image once by SHA-256, with renditions for the boxes in use. */
  ingest(buffer: Buffer, originalName: string): Promise<{ media: Media; created: boolean }>;
  /** The asset for `hash` fitted to a w×h region, creating the rendition if it is missing. */
  assetFor(hash: string, width: number, height: number): Promise<ManifestAsset | undefined>;
  /** The directory media files are served from. */
  readonly root: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const MIME: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
};

/** Major brands of ISO-BMFF still images (AVIF, HEIF): MP4's container, but images for sharp. */
const IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

/** Recognises the video containers accepted as-is (no transcoding): WebM and MP4. */
export function sniffVideo(b: Uint8Array): { format: 'webm' | 'mp4'; mime: string } | undefined {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length > 12 && buf[0] === 0x1a && buf[1] === 0x45 && buf[2] === 0xdf && buf[3] === 0xa3) {
    if (buf.subarray(0, 64).toString('latin1').includes('webm')) return { format: 'webm', mime: 'video/webm' };
  }
  // An MP4 opens with an ftyp box of at least 16 bytes; its major brand tells a video from an AVIF.
  if (buf.length >= 16 && buf.toString('latin1', 4, 8) === 'ftyp') {
    const size = buf.readUInt32BE(0);
    if (size >= 16 && size <= buf.length && !IMAGE_BRANDS.has(buf.toString('latin1', 8, 12))) return { format: 'mp4', mime: 'video/mp4' };
  }
  return undefined;
}

/** Decoding options used for every untrusted image: strict, bounded, first frame only. */
const decodeOptions = { failOn: 'truncated', limitInputPixels: MEDIA_LIMITS.maxPixels } as const satisfies SharpOptions;

/** Maps sharp's errors on untrusted input onto our codes. */
function classify(err: unknown): AppError {
  const msg = (err as Error).message ?? String(err);
  if (/pixel limit/i.test(msg)) return new AppError('MEDIA_TOO_MANY_PIXELS', msg);
  if (/unsupported image format|Input buffer is empty|bad seek/i.test(msg)) return new AppError('MEDIA_UNSUPPORTED', msg);
  return new AppError('MEDIA_CORRUPT', msg);
}

async function writeSynced(file: string, data: Uint8Array): Promise<void> {
  const h = await open(file, 'wx', 0o644);
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Creates the sharp-based media pipeline storing files under `dataDir/media/<sha256>/`. */
export function createMedia(deps: { store: Store; dataDir: string }): MediaService {
  const { store } = deps;
  const root = path.join(deps.dataDir, 'media');
  mkdirSync(root, { recursive: true });
  let rootSynced = false;
  const inflight = new Map<string, Promise<Rendition>>();
  const ingesting = new Map<string, Promise<{ media: Media; created: boolean }>>();

  /** Every box an image may be shown in: each layout region and each whole screen. */
  function boxesInUse(): [number, number][] {
    const data = store.read();
    const boxes = new Map<string, [number, number]>();
    for (const l of data.layouts) for (const r of l.regions) boxes.set(`${r.width}x${r.height}`, [r.width, r.height]);
    for (const s of data.screens) boxes.set(`${s.width}x${s.height}`, [s.width, s.height]);
    return [...boxes.values()];
  }

  async function render(input: Sharp, w: number, h: number): Promise<{ data: Buffer; info: OutputInfo }> {
    return input
      .resize(w, h, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 86, effort: 2 })
      .toBuffer({ resolveWithObject: true });
  }

  async function ingest(buffer: Buffer, originalName: string): Promise<{ media: Media; created: boolean }> {
    if (buffer.length === 0) throw new AppError('MEDIA_UNSUPPORTED', 'empty file');
    const hash = sha256(buffer);
    const existing = store.read().media.find((m) => m.hash === hash);
    if (existing) return { media: existing, created: false };
    // The same bytes uploaded twice at once would race in storeFiles (one removing the directory
    // the other just committed, or renaming onto it), so later callers wait for the first.
    const running = ingesting.get(hash);
    if (running) return { media: (await running).media, created: false };
    const p = ingestNew(hash, buffer, originalName).finally(() => ingesting.delete(hash));
    ingesting.set(hash, p);
    return p;
  }

  async function ingestNew(hash: string, buffer: Buffer, originalName: string): Promise<{ media: Media; created: boolean }> {
    const video = sniffVideo(buffer);
    if (video) return storeFiles(hash, buffer, originalName, { format: video.format, mime: video.mime, width: 0, height: 0 }, async () => []);

    let meta: Metadata;
    try {
      meta = await sharp(buffer, decodeOptions).metadata();
    } catch (e) {
      throw classify(e);
    }
    // sharp names AVIF "heif"; HEVC-coded HEIF (HEIC) is neither listed nor decodable by sharp's libvips.
    const format = meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : 'heic') : (meta.format as string | undefined);
    if (!format || !(IMAGE_FORMATS as readonly string[]).includes(format)) {
      throw new AppError('MEDIA_UNSUPPORTED', `format ${format ?? 'unknown'}`);
    }
    if ((meta.width ?? 0) * (meta.height ?? 0) > MEDIA_LIMITS.maxPixels) throw new AppError('MEDIA_TOO_MANY_PIXELS');

    // Decode once, oriented and bounded by the largest box, so that every rendition comes from
    // the same pixels and a truncated or corrupt file fails here, before anything is written.
    const boxes = boxesInUse();
    const maxW = Math.max(1, ...boxes.map((b) => b[0]));
    const maxH = Math.max(1, ...boxes.map((b) => b[1]));
    let base: { data: Buffer; info: OutputInfo };
    try {
      base = await sharp(buffer, decodeOptions)
        .autoOrient()
        .resize(maxW, maxH, { fit: 'inside', withoutEnlargement: true })
        .raw()
        .toBuffer({ resolveWithObject: true });
    } catch (e) {
      throw classify(e);
    }
    const oriented = (meta.orientation ?? 1) >= 5 ? { w: meta.height ?? 0, h: meta.width ?? 0 } : { w: meta.width ?? 0, h: meta.height ?? 0 };
    const raw = { width: base.info.width, height: base.info.height, channels: base.info.channels };

    return storeFiles(hash, buffer, originalName, { format, mime: MIME[format] ?? 'application/octet-stream', width: oriented.w, height: oriented.h }, async (dir) => {
      const renditions: Rendition[] = [];
      for (const [w, h] of boxes) {
        const out = await render(sharp(base.data, { raw }), w, h);
        const file = renditionName(w, h);
        await writeSynced(path.join(dir, file), out.data);
        renditions.push({ box: `${w}x${h}`, file, width: out.info.width, height: out.info.height, bytes: out.data.length, sha256: sha256(out.data) });
      }
      return renditions;
    });
  }

  /**
   * Writes the original and its renditions into a temp directory, renames it into place and
   * then commits the record; on any failure nothing is left behind.
   */
  async function storeFiles(
    hash: string,
    buffer: Buffer,
    originalName: string,
    info: { format: string; mime: string; width: number; height: number },
    makeRenditions: (dir: string) => Promise<Rendition[]>,
  ): Promise<{ media: Media; created: boolean }> {
    if (!rootSynced) {
      // media/ was made at start; its entry in DATA_DIR must be durable before files go in it.
      await fsyncDir(path.dirname(root));
      rootSynced = true;
    }
    const tmpDir = path.join(root, `.tmp-${randomBytes(8).toString('hex')}`);
    await mkdir(tmpDir);
    try {
      const originalFile = `original.${info.format === 'jpeg' ? 'jpg' : info.format}`;
      await writeSynced(path.join(tmpDir, originalFile), buffer);
      const renditions = await makeRenditions(tmpDir);
      await fsyncDir(tmpDir);
      const finalDir = path.join(root, hash);
      // A directory without a store record is a leftover of a crash between rename and commit.
      await rm(finalDir, { recursive: true, force: true });
      await rename(tmpDir, finalDir);
      await fsyncDir(root);
      const media: Media = {
        hash,
        mime: info.mime,
        format: info.format,
        width: info.width,
        height: info.height,
        bytes: buffer.length,
        originalName: originalName.slice(0, 200),
        originalFile,
        createdAt: new Date().toISOString(),
        renditions,
      };
      try {
        return await store.write((d) => {
          const dup = d.media.find((m) => m.hash === hash);
          if (dup) return { media: dup, created: false };
          d.media.push(media);
          return { media, created: true };
        });
      } catch (e) {
        await rm(finalDir, { recursive: true, force: true });
        throw e;
      }
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
    }
  }

  async function createRendition(m: Media, w: number, h: number): Promise<Rendition> {
    const dir = path.join(root, m.hash);
    const original = await readFile(path.join(dir, m.originalFile));
    const out = await render(sharp(original, decodeOptions).autoOrient(), w, h);
    const file = renditionName(w, h);
    await writeFileDurably(path.join(dir, file), out.data);
    const rendition: Rendition = { box: `${w}x${h}`, file, width: out.info.width, height: out.info.height, bytes: out.data.length, sha256: sha256(out.data) };
    await store.write((d) => {
      const rec = d.media.find((x) => x.hash === m.hash);
      if (rec && !rec.renditions.some((r) => r.box === rendition.box)) rec.renditions.push(rendition);
    });
    return rendition;
  }

  async function assetFor(hash: string, width: number, height: number): Promise<ManifestAsset | undefined> {
    const m = store.read().media.find((x) => x.hash === hash);
    if (!m) return undefined;
    if (m.mime.startsWith('video/')) {
      return { mediaHash: hash, box: 'original', sha256: hash, url: mediaUrl(hash, m.originalFile), mime: m.mime, bytes: m.bytes, width: m.width, height: m.height };
    }
    const box = `${width}x${height}`;
    let r = m.renditions.find((x) => x.box === box);
    if (!r) {
      const key = `${hash}@${box}`;
      let p = inflight.get(key);
      if (!p) {
        p = createRendition(m, width, height).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      r = await p;
    }
    return { mediaHash: hash, box, sha256: r.sha256, url: mediaUrl(hash, r.file), mime: 'image/webp', bytes: r.bytes, width: r.width, height: r.height };
  }

  return { ingest, assetFor, root };
}

/** True when a stored media file exists (used before sending it). */
export async function mediaFileExists(root: string, hash: string, file: string): Promise<boolean> {
  try {
    return (await stat(path.join(root, hash, file))).isFile();
  } catch {
    return false;
  }
}
