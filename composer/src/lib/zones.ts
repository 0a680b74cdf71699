import { ZONE_TIERS, isWithin, type Zone } from '../../../content/index.js';

/** One node of the zone tree as el-tree shows it. */
export interface ZoneNode {
  readonly id: string;
  /** The short name (彬州市, 北极镇, 坡头村), which el-tree filters and announces. */
  readonly label: string;
  readonly zone: Zone;
  readonly children: ZoneNode[];
}

const tierRank = (z: Zone) => ZONE_TIERS.indexOf(z.tier);

/**
 * Builds the city → towns → villages forest from `parentId`. A zone whose parent the user cannot
 * read becomes a root, so a village editor sees their village (and the zones above it that they
 * may read) without holes.
 */
export function zoneForest(zones: readonly Zone[]): ZoneNode[] {
  const nodes = new Map(zones.map((z) => [z.id, { id: z.id, label: z.shortName, zone: z, children: [] as ZoneNode[] }]));
  const roots: ZoneNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.zone.parentId === null ? undefined : nodes.get(node.zone.parentId);
    (parent ? parent.children : roots).push(node);
  }
  const order = (a: ZoneNode, b: ZoneNode) =>
    tierRank(a.zone) - tierRank(b.zone) || a.zone.divisionCode.localeCompare(b.zone.divisionCode) || a.zone.shortName.localeCompare(b.zone.shortName, 'zh-CN');
  const sort = (list: ZoneNode[]) => {
    list.sort(order);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** The zones at or below `rootId` among `zones`. */
export function subtreeIds(rootId: string, zones: readonly Zone[]): Set<string> {
  const byId = new Map(zones.map((z) => [z.id, z]));
  return new Set(zones.filter((z) => isWithin(z.id, rootId, byId)).map((z) => z.id));
}

/**
 * Which zones a staff socket watches for live screen state: the user's own zone (its room covers
 * the subtree), or every root zone for someone bound to the whole system.
 */
export function watchRoots(userZoneId: string | null, zones: readonly Zone[]): string[] {
  if (userZoneId !== null) return [userZoneId];
  const ids = new Set(zones.map((z) => z.id));
  return zones.filter((z) => z.parentId === null || !ids.has(z.parentId)).map((z) => z.id);
}
