import { Type, type Static } from 'typebox';
import { IdSchema } from './common.js';
import type { ErrorCode } from './errors.js';
import { isWithin, type Zone } from './zone.js';

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
    locked: Type.Optional(
      Type.Boolean({
        description:
          'Locked by a city-level user (absent means false): only city-level users may change or remove it, and layouts derived from this one show it as it is',
      }),
    ),
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
  baseLayoutId: Type.Optional(
    Type.Union([IdSchema, Type.Null()], {
      description:
        'A layout of this zone or a zone above whose locked regions this one shows, beside regions of its own (absent means null). Same canvas size; no chains.',
    }),
  ),
};

export const LayoutInputSchema = Type.Object({ id: Type.Optional(IdSchema), ...layoutFields }, { additionalProperties: false });
/** A layout as stored and listed; the API always fills in `baseLayoutId` and each region's `locked`. */
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

/*
 * Tiers. A city-level user may lock regions of a layout. A layout of a lower tier names that
 * layout as its base and shows the base's locked regions as they are (geometry and playlist),
 * beside regions of its own that may neither reuse a locked region's id nor overlap one. So a
 * village screen shows the city's policy releases next to its own three-affairs disclosure, and
 * the village cannot move, rebind or drop the city's region.
 */

type LayoutShape = Pick<Layout, 'width' | 'height' | 'regions'> & { readonly baseLayoutId?: string | null | undefined };

/** A region with its lock made explicit, as the API presents it. */
export type LockableRegion = Region & { locked: boolean };

/** A region a screen shows, and whether it came from the base layout. */
export type ResolvedRegion = LockableRegion & { inherited: boolean };

/** A problem with a layout: an error code and which region or layout it concerns. */
export interface LayoutProblem {
  readonly code: ErrorCode;
  readonly detail: string;
}

/** True when the region is locked. */
export function isLocked(region: Pick<Region, 'locked'>): boolean {
  return region.locked === true;
}

/** A layout with its defaults made explicit: no base, unlocked regions (documents before tiers lack both). */
export function normalizeLayout<L extends LayoutShape>(layout: L): L & { baseLayoutId: string | null; regions: LockableRegion[] } {
  return { ...layout, baseLayoutId: layout.baseLayoutId ?? null, regions: layout.regions.map((r) => ({ ...r, locked: isLocked(r) })) };
}

/** True when two regions share at least one pixel. */
export function regionsOverlap(a: Pick<Region, 'x' | 'y' | 'width' | 'height'>, b: Pick<Region, 'x' | 'y' | 'width' | 'height'>): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * The regions a screen with `layout` shows: the base's locked regions first, as they are, then
 * the layout's own. Writes keep own regions clear of locked ones; should stored data disagree
 * (a base edited outside the API), the lock wins and the clashing own region is left out.
 */
export function resolveRegions(layout: LayoutShape, base: LayoutShape | undefined): ResolvedRegion[] {
  const locked = base && layout.baseLayoutId ? base.regions.filter(isLocked) : [];
  const out: ResolvedRegion[] = locked.map((r) => ({ ...r, locked: true, inherited: true }));
  for (const r of layout.regions) {
    if (locked.some((l) => l.id === r.id || regionsOverlap(l, r))) continue;
    out.push({ ...r, locked: isLocked(r), inherited: false });
  }
  return out;
}

/**
 * Why `layout` (owned by `zoneId`) may not derive from `base`, or undefined. The base must be a
 * layout of the same zone or one above, not itself derived, of the same canvas size; own
 * regions may not reuse a locked region's id or overlap a locked region.
 */
export function checkDerivedLayout(
  layout: LayoutShape & { readonly id?: string; readonly zoneId: string },
  base: LayoutShape & { readonly id: string; readonly zoneId: string },
  zones: ReadonlyMap<string, Pick<Zone, 'id' | 'parentId'>>,
): LayoutProblem | undefined {
  if (base.id === layout.id) return { code: 'LAYOUT_BASE_INVALID', detail: 'a layout cannot be its own base' };
  if (base.baseLayoutId) return { code: 'LAYOUT_BASE_INVALID', detail: `base ${base.id} is itself derived from ${base.baseLayoutId}` };
  if (!isWithin(layout.zoneId, base.zoneId, zones)) return { code: 'LAYOUT_BASE_INVALID', detail: `base ${base.id} belongs to zone ${base.zoneId}, which is not ${layout.zoneId} or above it` };
  if (base.width !== layout.width || base.height !== layout.height) {
    return { code: 'LAYOUT_BASE_MISMATCH', detail: `base ${base.id} is ${base.width}×${base.height}, this layout ${layout.width}×${layout.height}` };
  }
  for (const l of base.regions.filter(isLocked)) {
    for (const r of layout.regions) {
      if (r.id === l.id) return { code: 'REGION_ID_DUPLICATE', detail: `region ${r.id} is a locked region of base ${base.id}` };
      if (regionsOverlap(l, r)) return { code: 'REGION_OVERLAPS_LOCKED', detail: `region ${r.id} overlaps locked region ${l.id} of base ${base.id}` };
    }
  }
  return undefined;
}

function sameRegion(a: Region, b: Region): boolean {
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.x === b.x &&
    a.y === b.y &&
    a.width === b.width &&
    a.height === b.height &&
    a.playlistId === b.playlistId &&
    (a.widget ?? null) === (b.widget ?? null) &&
    isLocked(a) === isLocked(b)
  );
}

/**
 * The locked regions a write adds, changes or removes, which only city-level users may do.
 * `before` is the stored layout (undefined on create), `after` the new one (undefined on
 * delete); `baseOf` finds a layout by id. Leaving a base that has locked regions, or switching
 * to another, counts as changing those regions; deriving a new layout from a base does not.
 */
export function lockedRegionChanges(
  before: LayoutShape | undefined,
  after: LayoutShape | undefined,
  baseOf: (id: string) => LayoutShape | undefined,
): string[] {
  const changed: string[] = [];
  const ownBefore = (before?.regions ?? []).filter(isLocked);
  const ownAfter = (after?.regions ?? []).filter(isLocked);
  for (const r of ownBefore) if (!ownAfter.some((a) => sameRegion(a, r))) changed.push(r.id);
  for (const r of ownAfter) if (!ownBefore.some((b) => sameRegion(b, r)) && !changed.includes(r.id)) changed.push(r.id);
  // Deleting an unused derived layout takes nothing from any screen; replacing its base does.
  const oldBase = before?.baseLayoutId ?? null;
  if (after && oldBase !== null && oldBase !== (after.baseLayoutId ?? null)) {
    for (const r of (baseOf(oldBase)?.regions ?? []).filter(isLocked)) changed.push(`${oldBase}/${r.id}`);
  }
  return changed;
}
