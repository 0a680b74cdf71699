import { Type, type Static } from 'typebox';
import { IdSchema } from './common.js';
import type { ErrorCode } from './errors.js';

export const RegionSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }),
    name: Type.String({ minLength: 1, maxLength: 40 }),
    x: Type.Integer({ minimum: 0 }),
    y: Type.Integer({ minimum: 0 }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    playlistId: Type.Union([IdSchema, Type.Null()]),
    widget: Type.Optional(Type.Union([Type.Literal('clock'), Type.Null()], { description: 'A built-in widget instead of a playlist' })),
  },
  { additionalProperties: false },
);
export type Region = Static<typeof RegionSchema>;

const layoutFields = {
  zoneId: IdSchema,
  name: Type.String({ minLength: 1, maxLength: 60 }),
  width: Type.Integer({ minimum: 16, maximum: 16384 }),
  height: Type.Integer({ minimum: 16, maximum: 16384 }),
  background: Type.String({ pattern: '^#[0-9a-fA-F]{6}$' }),
  regions: Type.Array(RegionSchema, { maxItems: 32 }),
};

export const LayoutInputSchema = Type.Object({ id: Type.Optional(IdSchema), ...layoutFields }, { additionalProperties: false });
export const LayoutSchema = Type.Object(
  { id: IdSchema, ...layoutFields, createdAt: Type.String(), updatedAt: Type.String() },
  { additionalProperties: false },
);
export type LayoutInput = Static<typeof LayoutInputSchema>;
export type Layout = Static<typeof LayoutSchema>;

/** Regions must lie on the canvas and have distinct ids. */
export function checkLayout(layout: Pick<Layout, 'width' | 'height' | 'regions'>): ErrorCode | undefined {
  const ids = new Set<string>();
  for (const r of layout.regions) {
    if (ids.has(r.id)) return 'REGION_ID_DUPLICATE';
    ids.add(r.id);
    if (r.x + r.width > layout.width || r.y + r.height > layout.height) return 'REGION_OUT_OF_CANVAS';
  }
  return undefined;
}
