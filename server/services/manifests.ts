import { createHash } from 'node:crypto';
import {
  DEFAULT_MM_PER_METRE,
  MANIFEST_HORIZON_MS,
  MANIFEST_SCHEMA_VERSION,
  ancestry,
  canonicalJson,
  instant,
  intersectWindows,
  isWithin,
  mediaHashesOf,
  type Candidate,
  type ContentItem,
  type Manifest,
  type ManifestAsset,
  type ManifestBody,
  type ManifestRegion,
  type Playlist,
  type RuleScope,
  type Schedule,
  type Window,
  type Zone,
} from '../../content/index.js';
import type { MediaService } from './media.js';
import type { Data, StoredScreen, Store } from './store.js';

/** A committed change, described by the entity before and after it (either may be absent). */
export type Change =
  | { entity: 'zone'; before?: Zone; after?: Zone }
  | { entity: 'screen'; before?: StoredScreen; after?: StoredScreen }
  | { entity: 'content'; before?: ContentItem; after?: ContentItem }
  | { entity: 'layout'; id: string }
  | { entity: 'playlist'; id: string }
  | { entity: 'schedule'; id: string };

export interface ManifestService {
  /** Resolves a screen's manifest from the committed store at instant `now`. */
  resolve(screenId: string, now?: number): Promise<Manifest>;
  /** Resolvers for many screens over one snapshot, sharing the work of screens alike. */
  resolveMany(screenIds: readonly string[], now?: number): { screenId: string; manifest: () => Promise<Manifest> }[];
  /** Screens whose manifest a change may alter; a superset, narrowed later by hash. */
  affectedScreens(change: Change): string[];
}

/** SHA-256 of the canonical JSON of a manifest body: its version. */
export function manifestVersion(body: ManifestBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function scopeHolds(scope: RuleScope, itemZoneId: string, screenZoneId: string, zones: ReadonlyMap<string, Zone>): boolean {
  switch (scope) {
    case 'self':
      return itemZoneId === screenZoneId;
    case 'ancestors':
      return isWithin(screenZoneId, itemZoneId, zones);
    case 'subtree':
      return isWithin(itemZoneId, screenZoneId, zones);
    case 'lineage':
      return isWithin(screenZoneId, itemZoneId, zones) || isWithin(itemZoneId, screenZoneId, zones);
  }
}

function windowOf(item: ContentItem, schedule: Schedule | undefined): Window {
  const w = (a: string | null, b: string | null): Window => ({ from: a ? instant(a) : null, to: b ? instant(b) : null });
  const parts = [w(item.validFrom, item.validTo)];
  if (item.kind === 'notice') parts.push(w(item.publicityStart, item.publicityEnd));
  if (schedule) parts.push(w(schedule.validFrom, schedule.validTo));
  return intersectWindows(...parts);
}

/** What every screen of one zone with one layout shares: the layout with its candidates, items and assets. */
interface SharedPart {
  readonly layout: ManifestBody['layout'];
  readonly items: Record<string, ContentItem>;
  readonly assets: ManifestAsset[];
  /** canonicalJson of each, computed once for all the screens sharing them. */
  readonly json: { readonly layout: string; readonly items: string; readonly assets: string };
}

/**
 * The canonical JSON of a manifest body, assembled from pre-serialised shared parts. Keys are in
 * canonicalJson's sorted order, so the result equals canonicalJson(body) byte for byte (a test
 * holds it to that).
 */
function bodyJson(shared: SharedPart, body: Pick<ManifestBody, 'schemaVersion' | 'screen' | 'screenId' | 'timeZone'>): string {
  return (
    `{"assets":${shared.json.assets},"items":${shared.json.items},"layout":${shared.json.layout},` +
    `"schemaVersion":${canonicalJson(body.schemaVersion)},"screen":${canonicalJson(body.screen)},` +
    `"screenId":${canonicalJson(body.screenId)},"timeZone":${canonicalJson(body.timeZone)}}`
  );
}

/** Builds manifests from the store; pure apart from creating missing media renditions. */
export function createManifests(deps: { store: Store; media: MediaService; timeZone: string; mmPerMetre?: number }): ManifestService {
  const { store, media, timeZone } = deps;
  const mmPerMetre = deps.mmPerMetre ?? DEFAULT_MM_PER_METRE;

  /**
   * A resolver over one committed snapshot. Screens of the same zone and layout share their
   * candidates, items and assets, so a city-wide change resolves each (zone, layout) once.
   */
  function resolverFor(data: Readonly<Data>, now: number) {
    const zones = new Map(data.zones.map((z) => [z.id, z]));
    const schedules = new Map(data.schedules.map((s) => [s.id, s]));
    // Screens show only the approved version of each item; drafts and pending edits never reach them.
    const shown = data.content.flatMap((c) => (c.published ? [c.published] : []));
    const contentById = new Map(shown.map((c) => [c.id, c]));
    const screens = new Map(data.screens.map((s) => [s.id, s]));
    const layouts = new Map(data.layouts.map((l) => [l.id, l]));
    const playlists = new Map(data.playlists.map((p) => [p.id, p]));
    const newestFirst = [...shown].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? -1 : 1));
    const shared = new Map<string, Promise<SharedPart>>();

    function candidatesFor(playlist: Playlist, zoneId: string) {
      const picks: { item: ContentItem; scheduleId: string | null; durationS?: number; weight?: number }[] = [];
      if (playlist.mode === 'fixed') {
        for (const e of playlist.entries) {
          const item = contentById.get(e.contentId);
          if (item) picks.push({ item, scheduleId: e.scheduleId ?? playlist.scheduleId, durationS: e.durationS, weight: e.weight });
        }
      } else if (playlist.rule) {
        const rule = playlist.rule;
        for (const c of newestFirst) {
          if ((rule.kinds as readonly string[]).includes(c.kind) && scopeHolds(rule.scope, c.zoneId, zoneId, zones)) picks.push({ item: c, scheduleId: playlist.scheduleId });
        }
      }
      const out: { candidate: Candidate; item: ContentItem }[] = [];
      for (const p of picks) {
        const schedule = p.scheduleId ? schedules.get(p.scheduleId) : undefined;
        const win = windowOf(p.item, schedule);
        if (win.to !== null && (win.to <= now || (win.from !== null && win.from >= win.to))) continue;
        out.push({
          item: p.item,
          candidate: {
            itemId: p.item.id,
            from: win.from,
            to: win.to,
            dayparts: schedule?.dayparts ?? [],
            priority: schedule?.priority ?? 0,
            weight: p.weight ?? schedule?.weight ?? 1,
            durationMs: Math.round((p.durationS ?? p.item.durationS ?? playlist.defaultDurationS) * 1000),
          },
        });
        if (playlist.mode === 'rule' && playlist.rule && out.length >= playlist.rule.limit) break;
      }
      return out;
    }

    async function buildShared(layoutId: string | null, zoneId: string): Promise<SharedPart> {
      const layout = layoutId ? layouts.get(layoutId) : undefined;
      const items: Record<string, ContentItem> = {};
      const assets = new Map<string, ManifestAsset>();
      const regions: ManifestRegion[] = [];
      for (const region of layout?.regions ?? []) {
        const playlist = region.playlistId ? playlists.get(region.playlistId) : undefined;
        const found = playlist ? candidatesFor(playlist, zoneId) : [];
        for (const { item } of found) {
          items[item.id] = item;
          for (const hash of mediaHashesOf(item)) {
            const asset = await media.assetFor(hash, region.width, region.height);
            if (asset) assets.set(`${asset.mediaHash}@${asset.box}`, asset);
          }
        }
        regions.push({
          id: region.id,
          name: region.name,
          x: region.x,
          y: region.y,
          width: region.width,
          height: region.height,
          widget: region.widget ?? null,
          candidates: found.map((f) => f.candidate),
        });
      }
      const manifestLayout = layout ? { id: layout.id, width: layout.width, height: layout.height, background: layout.background, regions } : null;
      const assetList = [...assets.values()].sort((a, b) => (a.url < b.url ? -1 : 1));
      return {
        layout: manifestLayout,
        items,
        assets: assetList,
        json: { layout: canonicalJson(manifestLayout), items: canonicalJson(items), assets: canonicalJson(assetList) },
      };
    }

    return async function resolveOne(screenId: string): Promise<Manifest> {
      const screen = screens.get(screenId);
      if (!screen) throw new Error(`no screen ${screenId}`);
      const key = `${screen.layoutId ?? ''}\u0000${screen.zoneId}`;
      let part = shared.get(key);
      if (!part) {
        part = buildShared(screen.layoutId, screen.zoneId);
        shared.set(key, part);
      }
      const sp = await part;
      const own = {
        schemaVersion: MANIFEST_SCHEMA_VERSION,
        screenId: screen.id,
        timeZone,
        screen: {
          name: screen.name,
          width: screen.width,
          height: screen.height,
          pixelPitchMm: screen.pixelPitchMm,
          viewingDistanceM: screen.viewingDistanceM,
          mmPerMetre,
          openingHours: screen.openingHours,
        },
      };
      const version = createHash('sha256').update(bodyJson(sp, own)).digest('hex');
      return { ...own, layout: sp.layout, items: sp.items, assets: sp.assets, version, generatedAt: now, horizonUntil: now + MANIFEST_HORIZON_MS };
    };
  }

  const resolve = (screenId: string, now = Date.now()): Promise<Manifest> => resolverFor(store.read(), now)(screenId);
  const resolveMany = (screenIds: readonly string[], now = Date.now()) => {
    const one = resolverFor(store.read(), now);
    return screenIds.map((id) => ({ screenId: id, manifest: () => one(id) }));
  };

  function screensWhere(pred: (s: StoredScreen) => boolean): string[] {
    return store
      .read()
      .screens.filter(pred)
      .map((s) => s.id);
  }

  function layoutsUsingPlaylists(data: Readonly<Data>, playlistIds: Set<string>): Set<string> {
    return new Set(data.layouts.filter((l) => l.regions.some((r) => r.playlistId && playlistIds.has(r.playlistId))).map((l) => l.id));
  }

  function affectedScreens(change: Change): string[] {
    const data = store.read();
    const zones = new Map(data.zones.map((z) => [z.id, z]));
    switch (change.entity) {
      case 'screen':
        return [change.after?.id ?? change.before?.id ?? ''].filter(Boolean);
      case 'zone': {
        // A zone's own subtree, and (when it moved) the screens above its old and new parents,
        // whose subtree rules may have gained or lost its content.
        const id = change.after?.id ?? change.before?.id ?? '';
        const above = new Set<string>();
        for (const p of [change.before?.parentId, change.after?.parentId]) if (p) for (const z of ancestry(p, zones)) above.add(z.id);
        return screensWhere((s) => above.has(s.zoneId) || isWithin(s.zoneId, id, zones));
      }
      case 'content': {
        // Rule playlists reach up (ancestors) and down (subtree) from a screen's zone, so any
        // screen on the lineage of the item's zone may change; fixed lists name the item.
        const zoneIds = [change.before?.zoneId, change.after?.zoneId].filter((z): z is string => Boolean(z));
        const itemId = change.after?.id ?? change.before?.id ?? '';
        const onLineage = new Set<string>();
        for (const zid of zoneIds) for (const z of ancestry(zid, zones)) onLineage.add(z.id);
        const fixed = new Set(data.playlists.filter((p) => p.entries.some((e) => e.contentId === itemId)).map((p) => p.id));
        const fixedLayouts = layoutsUsingPlaylists(data, fixed);
        return screensWhere(
          (s) =>
            onLineage.has(s.zoneId) ||
            zoneIds.some((zid) => isWithin(s.zoneId, zid, zones)) ||
            (s.layoutId !== null && fixedLayouts.has(s.layoutId)),
        );
      }
      case 'layout':
        return screensWhere((s) => s.layoutId === change.id);
      case 'playlist': {
        const layouts = layoutsUsingPlaylists(data, new Set([change.id]));
        return screensWhere((s) => s.layoutId !== null && layouts.has(s.layoutId));
      }
      case 'schedule': {
        const playlists = new Set(
          data.playlists.filter((p) => p.scheduleId === change.id || p.entries.some((e) => e.scheduleId === change.id)).map((p) => p.id),
        );
        const layouts = layoutsUsingPlaylists(data, playlists);
        return screensWhere((s) => s.layoutId !== null && layouts.has(s.layoutId));
      }
    }
  }

  return { resolve, resolveMany, affectedScreens };
}
