import sharp from 'sharp';

/**
 * A landscape JPEG whose left half is red and right half blue, so that a test can tell where
 * the pixels went after auto-orientation; `orientation` writes that EXIF tag (1–8).
 */
export async function photoJpeg(width: number, height: number, opts: { orientation?: number; quality?: number } = {}): Promise<Buffer> {
  const half = Math.floor(width / 2);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="${half}" height="${height}" fill="#ff0000"/>` +
    `<rect x="${half}" width="${width - half}" height="${height}" fill="#0000ff"/>` +
    `<circle cx="${half}" cy="${Math.floor(height / 2)}" r="${Math.floor(Math.min(width, height) / 5)}" fill="#ffeb3b"/></svg>`;
  const img = sharp(Buffer.from(svg)).jpeg({ quality: opts.quality ?? 90 });
  return (opts.orientation === undefined ? img : img.withMetadata({ orientation: opts.orientation })).toBuffer();
}

/**
 * A decompression bomb: a single-colour PNG that is a few hundred KB on disk but decodes to
 * width × height pixels.
 */
export async function bombPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000000' } })
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
}

/** The RGB colour of one pixel of an encoded image. */
export async function pixelAt(image: Uint8Array, x: number, y: number): Promise<[number, number, number]> {
  const { data } = await sharp(image).extract({ left: x, top: y, width: 1, height: 1 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return [data[0] ?? -1, data[1] ?? -1, data[2] ?? -1];
}
