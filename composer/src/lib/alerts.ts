import { DELIVERY_STATES, isWithin, mediaUrl, type Delivery, type DeliveryState, type Media, type Zone } from '../../../content/index.js';

type ZoneMap = ReadonlyMap<string, Pick<Zone, 'id' | 'parentId'>>;

/** How the time to live is typed: a number of minutes or of hours. */
export type TtlUnit = 'minutes' | 'hours';

/** The minutes a typed time to live stands for (undefined while nothing is typed). */
export function ttlMinutes(value: number | null | undefined, unit: TtlUnit): number | undefined {
  if (value === null || value === undefined || !Number.isFinite(value)) return undefined;
  return unit === 'hours' ? Math.round(value * 60) : value;
}

/** Minutes as people would type them: whole hours in hours, anything else in minutes. */
export function splitTtl(minutes: number): { value: number; unit: TtlUnit } {
  return minutes >= 60 && minutes % 60 === 0 ? { value: minutes / 60, unit: 'hours' } : { value: minutes, unit: 'minutes' };
}

/** True when `zoneId` lies strictly below one of `roots`. */
function coveredBelow(zoneId: string, roots: ReadonlySet<string>, zones: ZoneMap): boolean {
  for (const root of roots) if (root !== zoneId && isWithin(zoneId, root, zones)) return true;
  return false;
}

/**
 * The targets worth sending: each target covers its whole subtree, so a zone below another
 * target adds nothing and is dropped. Order is kept; duplicates go.
 */
export function minimalTargets(ids: Iterable<string>, zones: ZoneMap): string[] {
  const set = new Set(ids);
  return [...set].filter((id) => !coveredBelow(id, set, zones));
}

/**
 * Checking a zone on the tree makes it a target and drops the targets below it (now covered);
 * unchecking removes it.
 */
export function toggleTarget(targets: readonly string[], zoneId: string, checked: boolean, zones: ZoneMap): string[] {
  if (!checked) return targets.filter((id) => id !== zoneId);
  return minimalTargets([...targets.filter((id) => !isWithin(id, zoneId, zones)), zoneId], zones);
}

/** The zones the targets reach: the targets and everything below them. */
export function coveredZones(targets: readonly string[], zones: readonly Zone[]): Set<string> {
  const byId = new Map(zones.map((z) => [z.id, z]));
  return new Set(zones.filter((z) => targets.some((t) => isWithin(z.id, t, byId))).map((z) => z.id));
}

/** True for a zone shown checked because a target above it already covers it. */
export function coveredByAncestor(zoneId: string, targets: readonly string[], zones: ZoneMap): boolean {
  return coveredBelow(zoneId, new Set(targets), zones);
}

/** The screens an alert to `targets` reaches: those in any target's subtree. */
export function screensReached<S extends { readonly zoneId: string }>(screens: readonly S[], targets: readonly string[], zones: ZoneMap): S[] {
  return screens.filter((s) => targets.some((t) => isWithin(s.zoneId, t, zones)));
}

/** How many of `screens` each zone's subtree holds, for the counts beside the tree's nodes. */
export function screensPerSubtree(screens: readonly { readonly zoneId: string }[], zones: ZoneMap): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of screens) {
    // Walk up from the screen's zone; a missing parent (outside the readable zones) ends the walk.
    const seen = new Set<string>();
    for (let z = zones.get(s.zoneId); z && !seen.has(z.id); z = z.parentId === null ? undefined : zones.get(z.parentId)) {
      seen.add(z.id);
      counts.set(z.id, (counts.get(z.id) ?? 0) + 1);
    }
  }
  return counts;
}

/** A delivery board's counters: one per state, and the total. */
export type BoardCounts = Record<DeliveryState, number> & { readonly total: number };

/** How many target screens are in each state. */
export function boardCounts(deliveries: readonly Pick<Delivery, 'state'>[]): BoardCounts {
  const counts = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
  for (const d of deliveries) counts[d.state] += 1;
  return { ...counts, total: deliveries.length };
}

/** The board with one screen's new state in place (or added, for a screen new to the targets). */
export function mergeDelivery(board: readonly Delivery[], d: Delivery): Delivery[] {
  const i = board.findIndex((x) => x.screenId === d.screenId);
  if (i < 0) return [...board, d];
  const next = [...board];
  next[i] = d;
  return next;
}

/** The deliveries of a board answer, whether the server sends the list itself or `{ deliveries }`. */
export function boardDeliveries(body: unknown): Delivery[] {
  if (Array.isArray(body)) return body as Delivery[];
  if (body !== null && typeof body === 'object' && 'deliveries' in body && Array.isArray(body.deliveries)) return body.deliveries as Delivery[];
  return [];
}

/** The largest size with the screen's aspect ratio that fits the box (never larger than the screen). */
export function fitBox(width: number, height: number, maxWidth: number, maxHeight: number): { width: number; height: number; scale: number } {
  if (width <= 0 || height <= 0) return { width: 0, height: 0, scale: 0 };
  const scale = Math.min(1, Math.max(0, maxWidth) / width, Math.max(0, maxHeight) / height);
  return { width: Math.floor(width * scale), height: Math.floor(height * scale), scale };
}

/**
 * The picture a screen of this size gets with an alert, as the server chooses it: the rendition
 * made for its size, else the largest rendition, else the original.
 */
export function alertImageFor(media: Pick<Media, 'hash' | 'originalFile' | 'width' | 'height' | 'renditions'>, box: { width: number; height: number } | null): { url: string; width: number; height: number } {
  const exact = box ? media.renditions.find((r) => r.box === `${box.width}x${box.height}`) : undefined;
  const r = exact ?? [...media.renditions].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  if (r) return { url: mediaUrl(media.hash, r.file), width: r.width, height: r.height };
  return { url: mediaUrl(media.hash, media.originalFile), width: media.width, height: media.height };
}

/** Upload progress as a whole percentage; an unknown total reads 0 until the end. */
export function uploadPercent(loaded: number, total: number | null): number {
  if (!total || total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((loaded / total) * 100)));
}
