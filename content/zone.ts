import { Type, type Static } from 'typebox';
import { IdSchema } from './common.js';
import type { ErrorCode } from './errors.js';

/** The three tiers of disclosure zones. */
export const ZONE_TIERS = ['city', 'town', 'village'] as const;
export type ZoneTier = (typeof ZONE_TIERS)[number];

export const ZoneTierSchema = Type.Enum(ZONE_TIERS);

const zoneFields = {
  tier: ZoneTierSchema,
  parentId: Type.Union([IdSchema, Type.Null()]),
  divisionCode: Type.String({ pattern: '^\\d{12}$', description: '12-digit administrative division code (行政区划代码)' }),
  shortName: Type.String({ minLength: 1, maxLength: 40, description: 'e.g. 彬州市, 北极镇, 坡头村' }),
};

export const ZoneInputSchema = Type.Object({ id: Type.Optional(IdSchema), ...zoneFields }, { additionalProperties: false });
export const ZoneSchema = Type.Object(
  { id: IdSchema, ...zoneFields, name: Type.String({ description: 'Full name built by the naming template' }) },
  { additionalProperties: false },
);
export type ZoneInput = Static<typeof ZoneInputSchema>;
export type Zone = Static<typeof ZoneSchema>;

/** Naming templates per tier; `{city}`, `{town}` and `{village}` are the short names on the path. */
export interface ZoneNaming {
  readonly city: string;
  readonly town: string;
  readonly village: string;
}

/** Binzhou's rule (彬州市政务公开专区标准化规范化建设工作方案, 六统一 1). */
export const BINZHOU_NAMING: ZoneNaming = {
  city: '{city}政务公开专区',
  town: '{city}{town}政务公开专区',
  village: '{city}{town}{village}政务公开专区',
};

type ZoneLike = Pick<Zone, 'id' | 'tier' | 'parentId' | 'shortName'>;

/** The zone and its ancestors, nearest first; stops at a missing parent or a cycle. */
export function ancestry<Z extends Pick<Zone, 'id' | 'parentId'>>(zoneId: string, byId: ReadonlyMap<string, Z>): Z[] {
  const out: Z[] = [];
  const seen = new Set<string>();
  let cur = byId.get(zoneId);
  while (cur && !seen.has(cur.id)) {
    out.push(cur);
    seen.add(cur.id);
    cur = cur.parentId === null ? undefined : byId.get(cur.parentId);
  }
  return out;
}

/** True when `zoneId` is `rootId` or lies below it. */
export function isWithin(zoneId: string, rootId: string, byId: ReadonlyMap<string, Pick<Zone, 'id' | 'parentId'>>): boolean {
  return ancestry(zoneId, byId).some((z) => z.id === rootId);
}

/** Builds a zone's full name from the template of its tier and the short names on its path. */
export function zoneName(zone: ZoneLike, byId: ReadonlyMap<string, ZoneLike>, naming: ZoneNaming = BINZHOU_NAMING): string {
  const vars: Record<ZoneTier, string> = { city: '', town: '', village: '' };
  const path = zone.parentId === null ? [zone] : [zone, ...ancestry(zone.parentId, byId)];
  for (const z of path) vars[z.tier] = z.shortName;
  return naming[zone.tier].replace(/\{(city|town|village)\}/g, (_, k: ZoneTier) => vars[k]);
}

const PARENT_TIER: Record<ZoneTier, ZoneTier | null> = { city: null, town: 'city', village: 'town' };

/** The tier a zone's parent must have, or null for a city. */
export function parentTierOf(tier: ZoneTier): ZoneTier | null {
  return PARENT_TIER[tier];
}

/**
 * Checks the tier rule and the division-code hierarchy (省2 市2 县2 乡3 村3): a city ends in six
 * zeros, a town shares its city's first six digits, a village its town's first nine.
 */
export function checkZone(
  zone: Pick<Zone, 'tier' | 'divisionCode'>,
  parent: Pick<Zone, 'tier' | 'divisionCode'> | undefined,
): ErrorCode | undefined {
  const want = PARENT_TIER[zone.tier];
  if ((want === null) !== (parent === undefined)) return 'ZONE_PARENT_INVALID';
  if (parent && parent.tier !== want) return 'ZONE_PARENT_INVALID';
  const code = zone.divisionCode;
  if (!/^\d{12}$/.test(code)) return 'ZONE_CODE_INVALID';
  switch (zone.tier) {
    case 'city':
      return code.endsWith('000000') && !code.startsWith('0000') ? undefined : 'ZONE_CODE_INVALID';
    case 'town':
      return parent && code.slice(0, 6) === parent.divisionCode.slice(0, 6) && code.slice(6, 9) !== '000' && code.endsWith('000')
        ? undefined
        : 'ZONE_CODE_INVALID';
    case 'village':
      return parent && code.slice(0, 9) === parent.divisionCode.slice(0, 9) && !code.endsWith('000') ? undefined : 'ZONE_CODE_INVALID';
  }
}
