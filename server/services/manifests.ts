import { createHash } from 'node:crypto';
import {
  DEFAULT_MM_PER_METRE,
  MANIFEST_HORIZON_MS,
  MANIFEST_SCHEMA_VERSION,
  ancestry,
  canonicalJson,
  considerPlaylist,
  contentPool,
  explainScreen,
  isWithin,
  mediaHashesOf,
  resolveRegions,
  type ContentItem,
  type ContentRecord,
  type ContentPool,
  type Explain,
  type ExplainRegionInput,
  type Layout,
  type Manifest,
  type ManifestAsset,
  type ManifestBody,
  type ManifestRegion,
  type ResolvedRegion,
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
  /**
   * What the screen shows at `at` and why each considered item is in or out. The manifest is
   * resolved at `at`, or at `now` for a future instant: the screen keeps the manifest it holds
   * until data changes, since nothing is pushed on a time boundary.
   */
  explain(screenId: string, at: number, now?: number): Promise<Explain>;
  /** Screens whose manifest a change may alter; a superset, narrowed later by hash. */
  affectedScreens(change: Change): string[];
  /**
   * A manifest for what is being edited, not yet saved: built by the same functions over the
   * committed data with the drafts laid over it (see PreviewSpec).
   */
  preview(spec: PreviewSpec, now?: number): Promise<Manifest>;
}

// Screens by id, once per version of the collection: a screen that connects resolves its own
// manifest, and 10,000 connecting should not index 10,000 screens each.
const screenIndex = new WeakMap<readonly StoredScreen[], ReadonlyMap<string, StoredScreen>>();
function screensById(screens: readonly StoredScreen[]): ReadonlyMap<string, StoredScreen> {
  let map = screenIndex.get(screens);
  if (!map) screenIndex.set(screens, (map = new Map(screens.map((s) => [s.id, s]))));
  return map;
}

/** The id a preview gives what has none yet (a new layout, an unsaved item, a screen to be). */
export const PREVIEW_ID = 'preview';

/**
 * What a preview shows: a screen (stored, or one described), optionally with a draft layout in
 * place of its own, or a draft item alone on the whole screen.
 */
export interface PreviewSpec {
  readonly screen: Pick<StoredScreen, 'zoneId' | 'name' | 'width' | 'height' | 'pixelPitchMm' | 'viewingDistanceM' | 'openingHours' | 'layoutId'> & { readonly id?: string };
  /** A layout as it is being edited; replaces the stored one of the same id, and the screen shows it. */
  readonly layout?: Layout;
  /** An item as it is being edited, shown alone over the whole screen as if it were published. */
  readonly content?: ContentItem;
}

/** SHA-256 of the canonical JSON of a manifest body: its version. */
export function manifestVersion(body: ManifestBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
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
    // Screens show only the approved version of each item; drafts and pending edits never reach them.
    const pool: ContentPool = contentPool(data);
    const screens = screensById(data.screens);
    const layouts = new Map(data.layouts.map((l) => [l.id, l]));
    const playlists = new Map(data.playlists.map((p) => [p.id, p]));
    const shared = new Map<string, Promise<SharedPart>>();

    /** The regions a layout shows: its base's locked regions, then its own. */
    function regionsOf(layout: Layout | undefined): ResolvedRegion[] {
      if (!layout) return [];
      return resolveRegions(layout, layout.baseLayoutId ? layouts.get(layout.baseLayoutId) : undefined);
    }

    async function buildShared(layoutId: string | null, zoneId: string): Promise<SharedPart> {
      const layout = layoutId ? layouts.get(layoutId) : undefined;
      const items: Record<string, ContentItem> = {};
      const assets = new Map<string, ManifestAsset>();
      const regions: ManifestRegion[] = [];
      for (const region of regionsOf(layout)) {
        const playlist = region.playlistId ? playlists.get(region.playlistId) : undefined;
        const found = playlist ? considerPlaylist(playlist, zoneId, pool, now) : [];
        for (const { item, candidate } of found) {
          if (!candidate) continue;
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
          candidates: found.flatMap((f) => (f.candidate ? [f.candidate] : [])),
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

    async function resolveOne(screenId: string): Promise<Manifest> {
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
    }

    /** Every item each region of the screen considers, with the ones the manifest leaves out, over the same snapshot and instant. */
    function considered(screenId: string): ExplainRegionInput[] {
      const screen = screens.get(screenId);
      if (!screen) throw new Error(`no screen ${screenId}`);
      return regionsOf(screen.layoutId ? layouts.get(screen.layoutId) : undefined).map((region) => {
        const playlist = region.playlistId ? playlists.get(region.playlistId) : undefined;
        return {
          regionId: region.id,
          locked: region.locked,
          inherited: region.inherited,
          playlistId: region.playlistId,
          considered: playlist ? considerPlaylist(playlist, screen.zoneId, pool, now, { all: true }) : [],
        };
      });
    }

    return { resolveOne, considered };
  }

  const resolve = (screenId: string, now = Date.now()): Promise<Manifest> => resolverFor(store.read(), now).resolveOne(screenId);
  const resolveMany = (screenIds: readonly string[], now = Date.now()) => {
    const { resolveOne } = resolverFor(store.read(), now);
    return screenIds.map((id) => ({ screenId: id, manifest: () => resolveOne(id) }));
  };
  const explain = async (screenId: string, at: number, now = Date.now()): Promise<Explain> => {
    // One snapshot for both, so the reasons describe exactly the manifest they sit beside.
    const resolver = resolverFor(store.read(), Math.min(at, now));
    const manifest = await resolver.resolveOne(screenId);
    return explainScreen(manifest, resolver.considered(screenId), at);
  };

  function screensWhere(pred: (s: StoredScreen) => boolean): string[] {
    return store
      .read()
      .screens.filter(pred)
      .map((s) => s.id);
  }

  /** Layouts derived from any of `ids`, with `ids` themselves: a base's locked regions show on its derived layouts. */
  function withDerived(data: Readonly<Data>, ids: Set<string>): Set<string> {
    const out = new Set(ids);
    for (const l of data.layouts) if (l.baseLayoutId && ids.has(l.baseLayoutId)) out.add(l.id);
    return out;
  }

  function layoutsUsingPlaylists(data: Readonly<Data>, playlistIds: Set<string>): Set<string> {
    return withDerived(data, new Set(data.layouts.filter((l) => l.regions.some((r) => r.playlistId && playlistIds.has(r.playlistId))).map((l) => l.id)));
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
      case 'layout': {
        const layouts = withDerived(data, new Set([change.id]));
        return screensWhere((s) => s.layoutId !== null && layouts.has(s.layoutId));
      }
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

  async function preview(spec: PreviewSpec, now = Date.now()): Promise<Manifest> {
    const data = store.read();
    const screenId = spec.screen.id ?? PREVIEW_ID;
    let layouts = data.layouts;
    let playlists = data.playlists;
    let content = data.content;
    let layoutId = spec.screen.layoutId;
    if (spec.layout) {
      const draft = spec.layout;
      layouts = [...data.layouts.filter((l) => l.id !== draft.id), draft];
      layoutId = draft.id;
    }
    if (spec.content) {
      const item = spec.content;
      const { width, height } = spec.screen;
      const review = { createdBy: null, updatedBy: null, submittedBy: null, submittedAt: null, reviewedBy: null, reviewedAt: null, returnReason: null };
      // The draft as if approved, in a list of its own, on one region the size of the screen.
      content = [...data.content.filter((c) => c.id !== item.id), { ...item, status: 'published', published: item, review } as ContentRecord];
      const stamp = new Date(now).toISOString();
      playlists = [
        ...data.playlists,
        { id: PREVIEW_ID, name: PREVIEW_ID, zoneId: spec.screen.zoneId, mode: 'fixed', entries: [{ contentId: item.id }], rule: null, defaultDurationS: item.durationS ?? 15, scheduleId: null, createdAt: stamp, updatedAt: stamp },
      ];
      layouts = [
        ...data.layouts.filter((l) => l.id !== PREVIEW_ID),
        { id: PREVIEW_ID, zoneId: spec.screen.zoneId, name: PREVIEW_ID, width, height, background: '#000000', baseLayoutId: null, regions: [{ id: 'main', name: 'main', x: 0, y: 0, width, height, playlistId: PREVIEW_ID, locked: false }], createdAt: stamp, updatedAt: stamp },
      ];
      layoutId = PREVIEW_ID;
    }
    const screen = { ...spec.screen, id: screenId, layoutId, tokenHash: '', createdAt: '', updatedAt: '' } as StoredScreen;
    const overlay: Data = { ...data, layouts, playlists, content, screens: [...data.screens.filter((s) => s.id !== screenId), screen] };
    return resolverFor(overlay, now).resolveOne(screenId);
  }

  return { resolve, resolveMany, explain, affectedScreens, preview };
}
