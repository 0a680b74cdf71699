import { Type, type Static } from 'typebox';
import { Sha256Schema } from './common.js';

/** Image formats accepted at upload. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'] as const;

/** Upload limits; the server enforces them, the composer shows them before upload. */
export const MEDIA_LIMITS = {
  maxBytes: 40 * 1024 * 1024,
  maxPixels: 60_000_000,
} as const;

/** The rendition file name of a box size: an image fitted inside w×h. */
export function renditionName(width: number, height: number): string {
  return `${width}x${height}.webp`;
}

/** The URL of a stored media file; the original's hash is in the path, so it never changes. */
export function mediaUrl(hash: string, file: string): string {
  return `/media/${hash}/${file}`;
}

export const RenditionSchema = Type.Object(
  {
    box: Type.String({ pattern: '^\\d+x\\d+$', description: 'The box the image was fitted inside' }),
    file: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    bytes: Type.Integer(),
    sha256: Sha256Schema,
  },
  { additionalProperties: false },
);
export type Rendition = Static<typeof RenditionSchema>;

export const MediaSchema = Type.Object(
  {
    hash: Sha256Schema,
    mime: Type.String(),
    format: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    bytes: Type.Integer(),
    originalName: Type.String(),
    originalFile: Type.String(),
    createdAt: Type.String(),
    renditions: Type.Array(RenditionSchema),
  },
  { additionalProperties: false },
);
export type Media = Static<typeof MediaSchema>;
