import { Type, type Static } from 'typebox';
import { DaypartSchema, IdSchema, Sha256Schema } from './common.js';
import { ContentItemSchema } from './content-item.js';

/** Bumped on any change a player must understand; a player refuses a newer one. */
export const MANIFEST_SCHEMA_VERSION = 1;

/** How far ahead a manifest is guaranteed to hold without a new one (at least 7 days). */
export const MANIFEST_HORIZON_MS = 8 * 24 * 60 * 60 * 1000;

const NullableMs = Type.Union([Type.Number(), Type.Null()]);

/** One item that may show in a region, with the time rules that decide when. */
export const CandidateSchema = Type.Object(
  {
    itemId: IdSchema,
    from: NullableMs,
    to: NullableMs,
    dayparts: Type.Array(DaypartSchema, { description: 'All must-hold windows; empty means any time' }),
    priority: Type.Integer(),
    weight: Type.Integer({ minimum: 1 }),
    durationMs: Type.Integer({ minimum: 1000 }),
  },
  { additionalProperties: false },
);
export type Candidate = Static<typeof CandidateSchema>;

export const ManifestRegionSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    x: Type.Integer(),
    y: Type.Integer(),
    width: Type.Integer(),
    height: Type.Integer(),
    widget: Type.Union([Type.Literal('clock'), Type.Null()]),
    candidates: Type.Array(CandidateSchema),
  },
  { additionalProperties: false },
);
export type ManifestRegion = Static<typeof ManifestRegionSchema>;

export const ManifestAssetSchema = Type.Object(
  {
    mediaHash: Sha256Schema,
    box: Type.String({ description: 'Region box WxH the rendition fits, or "original"' }),
    sha256: Sha256Schema,
    url: Type.String(),
    mime: Type.String(),
    bytes: Type.Integer(),
    width: Type.Integer(),
    height: Type.Integer(),
  },
  { additionalProperties: false },
);
export type ManifestAsset = Static<typeof ManifestAssetSchema>;

/** The asset of `mediaHash` prepared for a region of `width`×`height`. */
export function findAsset(assets: readonly ManifestAsset[], mediaHash: string, width: number, height: number): ManifestAsset | undefined {
  const box = `${width}x${height}`;
  return assets.find((a) => a.mediaHash === mediaHash && a.box === box) ?? assets.find((a) => a.mediaHash === mediaHash);
}

/** The part of a manifest its version hash covers. */
export const ManifestBodySchema = Type.Object(
  {
    schemaVersion: Type.Integer(),
    screenId: IdSchema,
    timeZone: Type.String(),
    screen: Type.Object({
      name: Type.String(),
      width: Type.Integer(),
      height: Type.Integer(),
      pixelPitchMm: Type.Number(),
      viewingDistanceM: Type.Number(),
      mmPerMetre: Type.Number({ description: 'Character height per metre of viewing distance, for legibility' }),
      openingHours: Type.Array(DaypartSchema),
    }),
    layout: Type.Union([
      Type.Object({
        id: IdSchema,
        width: Type.Integer(),
        height: Type.Integer(),
        background: Type.String(),
        regions: Type.Array(ManifestRegionSchema),
      }),
      Type.Null(),
    ]),
    items: Type.Record(Type.String(), ContentItemSchema),
    assets: Type.Array(ManifestAssetSchema),
  },
  { additionalProperties: false },
);
export type ManifestBody = Static<typeof ManifestBodySchema>;

export const ManifestSchema = Type.Object(
  {
    ...ManifestBodySchema.properties,
    version: Type.String({ description: 'SHA-256 of the canonical JSON of the body' }),
    generatedAt: Type.Number(),
    horizonUntil: Type.Number({ description: 'The rules hold at least until this instant without a new manifest' }),
  },
  { additionalProperties: false },
);
export type Manifest = Static<typeof ManifestSchema>;

/**
 * JSON with object keys sorted, so that equal bodies hash equally on every machine. The
 * version hash is SHA-256 over these bytes in UTF-8.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
