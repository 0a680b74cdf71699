import { Type, type Static } from 'typebox';
import { IdSchema, type Daypart, type Window } from './common.js';
import { CONTENT_KIND_LABELS, ContentKindSchema, type ContentItem, type ContentKind, type ContentRecord } from './content-item.js';
import { CandidateSchema, type Candidate, type Manifest } from './manifest.js';
import type { Playlist, RuleScope } from './playlist.js';
import { CONTENT_STATUS_LABELS, type ContentStatus } from './review.js';
import { activeCandidates, candidateActive, intersectWindows, regionShowing, screenOpen, windowHolds } from './rules.js';
import type { Schedule } from './schedule.js';
import { instant, localTime, parseClock, zoneOffsetMs } from './time.js';
import { isWithin, type Zone } from './zone.js';

/*
 * Which items a region considers, which of them its manifest carries, and why each one is or
 * is not on screen at an instant. The manifest service builds candidates with
 * `considerPlaylist`, and the explain API runs the same function with every exclusion kept,
 * then evaluates the manifest with the player's own functions from rules.ts.
 */

type ZoneMap = ReadonlyMap<string, Pick<Zone, 'id' | 'parentId'>>;

/** True when a rule of `scope` on a screen in `screenZoneId` reaches content owned by `itemZoneId`. */
export function ruleScopeHolds(scope: RuleScope, itemZoneId: string, screenZoneId: string, zones: ZoneMap): boolean {
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

/** The window an item may show in: its validity, a notice's publicity period and its schedule's validity, intersected. */
export function candidateWindow(item: ContentItem, schedule: Schedule | undefined): Window {
  const w = (a: string | null, b: string | null): Window => ({ from: a ? instant(a) : null, to: b ? instant(b) : null });
  const parts = [w(item.validFrom, item.validTo)];
  if (item.kind === 'notice') parts.push(w(item.publicityStart, item.publicityEnd));
  if (schedule) parts.push(w(schedule.validFrom, schedule.validTo));
  return intersectWindows(...parts);
}

/** Everything playlists choose from, indexed once per store snapshot. */
export interface ContentPool {
  readonly zones: ZoneMap;
  readonly schedules: ReadonlyMap<string, Schedule>;
  /** Every item by id, whatever its review status. */
  readonly records: ReadonlyMap<string, ContentRecord>;
  /** Every item, newest first (by the published version, or else the working copy), then by id: the order rules take. */
  readonly newestFirst: readonly ContentRecord[];
}

/** Indexes zones, schedules and content for `considerPlaylist`. */
export function contentPool(data: {
  readonly zones: readonly Pick<Zone, 'id' | 'parentId'>[];
  readonly schedules: readonly Schedule[];
  readonly content: readonly ContentRecord[];
}): ContentPool {
  const version = (r: ContentRecord) => r.published ?? r;
  const newestFirst = [...data.content].sort((a, b) => {
    const ca = version(a).createdAt;
    const cb = version(b).createdAt;
    return ca < cb ? 1 : ca > cb ? -1 : a.id < b.id ? -1 : 1;
  });
  return {
    zones: new Map(data.zones.map((z) => [z.id, z])),
    schedules: new Map(data.schedules.map((s) => [s.id, s])),
    records: new Map(data.content.map((c) => [c.id, c])),
    newestFirst,
  };
}

/** Why the manifest leaves out an item that a region's playlist considers. */
export type Exclusion =
  | { readonly code: 'NOT_PUBLISHED'; readonly status: ContentStatus }
  | { readonly code: 'OUT_OF_SCOPE'; readonly scope: RuleScope }
  | { readonly code: 'KIND_NOT_IN_RULE'; readonly kinds: readonly ContentKind[] }
  /** Its window has ended, or never opens, as of the instant the manifest is resolved. */
  | { readonly code: 'WINDOW_CLOSED' }
  | { readonly code: 'OVER_RULE_LIMIT'; readonly limit: number };

/** One item a region's playlist considers. */
export interface Considered {
  /** The version screens show: the published one, or the working copy of an unpublished item. */
  readonly item: ContentItem;
  readonly schedule: Schedule | undefined;
  /** Its candidate in the manifest, or null when the manifest leaves it out. */
  readonly candidate: Candidate | null;
  /** Why the manifest leaves it out; null when it is in. */
  readonly exclusion: Exclusion | null;
}

/**
 * The items `playlist` considers for a screen in `screenZoneId`, resolved at `now`: those with a
 * candidate make the manifest, in manifest order. A fixed list takes its published entries; a
 * rule takes published items of its kinds in its scope, newest first, up to its limit, leaving
 * out those whose window has closed. With `all`, the items left out come too, each with why:
 * unpublished entries, items of the rule's kinds outside its scope but on the screen's lineage,
 * items in scope of other kinds, closed windows and items beyond the limit.
 */
export function considerPlaylist(playlist: Playlist, screenZoneId: string, pool: ContentPool, now: number, opts: { readonly all?: boolean } = {}): Considered[] {
  const all = opts.all === true;
  const out: Considered[] = [];
  const limit = playlist.mode === 'rule' && playlist.rule ? playlist.rule.limit : Number.POSITIVE_INFINITY;
  let taken = 0;

  const take = (item: ContentItem, scheduleId: string | null, durationS?: number, weight?: number): void => {
    const schedule = scheduleId ? pool.schedules.get(scheduleId) : undefined;
    const win = candidateWindow(item, schedule);
    if (win.to !== null && (win.to <= now || (win.from !== null && win.from >= win.to))) {
      if (all) out.push({ item, schedule, candidate: null, exclusion: { code: 'WINDOW_CLOSED' } });
      return;
    }
    if (taken >= limit) {
      if (all) out.push({ item, schedule, candidate: null, exclusion: { code: 'OVER_RULE_LIMIT', limit } });
      return;
    }
    taken++;
    const candidate: Candidate = {
      itemId: item.id,
      from: win.from,
      to: win.to,
      dayparts: schedule?.dayparts ?? [],
      priority: schedule?.priority ?? 0,
      weight: weight ?? schedule?.weight ?? 1,
      durationMs: Math.round((durationS ?? item.durationS ?? playlist.defaultDurationS) * 1000),
    };
    out.push({ item, schedule, candidate, exclusion: null });
  };
  const unpublished = (record: ContentRecord): void => {
    out.push({ item: record, schedule: undefined, candidate: null, exclusion: { code: 'NOT_PUBLISHED', status: record.status } });
  };

  if (playlist.mode === 'fixed') {
    for (const e of playlist.entries) {
      const record = pool.records.get(e.contentId);
      if (!record) continue;
      if (record.published) take(record.published, e.scheduleId ?? playlist.scheduleId, e.durationS, e.weight);
      else if (all) unpublished(record);
    }
  } else if (playlist.rule) {
    const rule = playlist.rule;
    for (const record of pool.newestFirst) {
      if (!all && taken >= limit) break;
      const item = record.published ?? record;
      const kindOk = rule.kinds.includes(item.kind);
      const scopeOk = ruleScopeHolds(rule.scope, item.zoneId, screenZoneId, pool.zones);
      if (kindOk && scopeOk) {
        if (record.published) take(record.published, playlist.scheduleId);
        else if (all) unpublished(record);
      } else if (all && record.published) {
        // Only what could plausibly be meant: the rule's kinds from the screen's lineage, or anything in scope.
        const onLineage = isWithin(screenZoneId, item.zoneId, pool.zones) || isWithin(item.zoneId, screenZoneId, pool.zones);
        if (kindOk && onLineage) out.push({ item, schedule: undefined, candidate: null, exclusion: { code: 'OUT_OF_SCOPE', scope: rule.scope } });
        else if (scopeOk) out.push({ item, schedule: undefined, candidate: null, exclusion: { code: 'KIND_NOT_IN_RULE', kinds: rule.kinds } });
      }
    }
  }
  return out;
}

/** Every reason the explain API gives, for an item, a region or the whole screen. */
export const EXPLAIN_CODES = [
  'SHOWN',
  'WAITING_IN_ROTATION',
  'LOWER_PRIORITY',
  'DAYPART_CLOSED',
  'BEFORE_VALID_FROM',
  'AFTER_VALID_TO',
  'NOTICE_NOT_YET',
  'NOTICE_ENDED',
  'SCHEDULE_NOT_YET',
  'SCHEDULE_ENDED',
  'OVER_RULE_LIMIT',
  'KIND_NOT_IN_RULE',
  'OUT_OF_SCOPE',
  'NOT_PUBLISHED',
  'SCREEN_CLOSED',
  'NO_LAYOUT',
  'NO_PLAYLIST',
  'NO_ACTIVE_ITEM',
  'WIDGET',
] as const;
export type ExplainCode = (typeof EXPLAIN_CODES)[number];

export const ExplainReasonSchema = Type.Object(
  { code: Type.Enum(EXPLAIN_CODES), zh: Type.String(), en: Type.String() },
  { additionalProperties: false, description: 'A machine-readable reason with its Chinese and English text' },
);
export type ExplainReason = Static<typeof ExplainReasonSchema>;

export const ExplainCandidateSchema = Type.Object(
  {
    itemId: IdSchema,
    title: Type.String(),
    kind: ContentKindSchema,
    zoneId: IdSchema,
    included: Type.Boolean({ description: 'In the rotation at this instant: on screen, or waiting its turn' }),
    reason: ExplainReasonSchema,
    candidate: Type.Union([CandidateSchema, Type.Null()], { description: 'The time rules the manifest carries for it; null when the manifest leaves it out' }),
  },
  { additionalProperties: false },
);
export type ExplainCandidate = Static<typeof ExplainCandidateSchema>;

export const ExplainRegionSchema = Type.Object(
  {
    regionId: Type.String(),
    name: Type.String(),
    locked: Type.Boolean(),
    inherited: Type.Boolean({ description: 'A locked region shown from the base layout' }),
    widget: Type.Union([Type.Literal('clock'), Type.Null()]),
    playlistId: Type.Union([IdSchema, Type.Null()]),
    showing: Type.Union([IdSchema, Type.Null()], { description: 'The item on screen, exactly as the player computes it from its manifest' }),
    slot: Type.Union([Type.Object({ start: Type.Number(), end: Type.Number() }, { additionalProperties: false }), Type.Null()]),
    reason: Type.Union([ExplainReasonSchema, Type.Null()], { description: 'Why the region shows no item, when it shows none' }),
    candidates: Type.Array(ExplainCandidateSchema, { description: 'Every item the region’s playlist considered, in manifest order' }),
  },
  { additionalProperties: false },
);
export type ExplainRegion = Static<typeof ExplainRegionSchema>;

/** What a screen shows at an instant, and why each item is or is not on it. */
export const ExplainSchema = Type.Object(
  {
    at: Type.Number({ description: 'The instant explained, epoch ms' }),
    screenId: IdSchema,
    timeZone: Type.String(),
    manifestVersion: Type.String(),
    resolvedAt: Type.Number({ description: 'The instant the manifest was resolved at: `at`, or now for a future instant (no push comes on a time boundary)' }),
    layoutId: Type.Union([IdSchema, Type.Null()]),
    open: Type.Boolean({ description: 'Inside the screen’s opening hours' }),
    reason: Type.Union([ExplainReasonSchema, Type.Null()], { description: 'Why the screen shows nothing: closed, or no layout' }),
    regions: Type.Array(ExplainRegionSchema),
  },
  { additionalProperties: false },
);
export type Explain = Static<typeof ExplainSchema>;

/** What the explainer needs of each layout region beyond the manifest. */
export interface ExplainRegionInput {
  readonly regionId: string;
  readonly locked: boolean;
  readonly inherited: boolean;
  readonly playlistId: string | null;
  /** From `considerPlaylist(…, { all: true })` over the snapshot and instant the manifest was resolved at. */
  readonly considered: readonly Considered[];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A local wall-clock time in the city's zone, YYYY-MM-DD HH:MM (with :SS when asked). */
function wallClock(t: number, timeZone: string, seconds = false): string {
  const lt = localTime(t, timeZone);
  const s = Math.floor(lt.msOfDay / 1000);
  const hm = `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}`;
  return `${lt.year}-${pad(lt.month)}-${pad(lt.day)} ${hm}${seconds ? `:${pad(s % 60)}` : ''}`;
}

const DAY_ZH = '一二三四五六日';
const DAY_EN = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function daypartsText(dayparts: readonly Daypart[]): { zh: string; en: string } {
  return {
    zh: dayparts.map((d) => `周${d.days.map((n) => DAY_ZH[n - 1] ?? '').join('')} ${d.start}–${d.end}`).join(';'),
    en: dayparts.map((d) => `${d.days.map((n) => DAY_EN[n - 1] ?? '').join('/')} ${d.start}–${d.end}`).join('; '),
  };
}

const SCOPE_TEXT: Record<RuleScope, { zh: string; en: string }> = {
  self: { zh: '仅本专区', en: 'this zone only' },
  ancestors: { zh: '本专区及上级', en: 'this zone and those above' },
  subtree: { zh: '本专区及下级', en: 'this zone and those below' },
  lineage: { zh: '本专区及上下级', en: 'this zone, those above and those below' },
};

const reason = (code: ExplainCode, zh: string, en: string): ExplainReason => ({ code, zh, en });

/**
 * Which part of an item's window fails at `t` (its validity, a notice's publicity period or its
 * schedule's validity), ended parts first; null when every part holds.
 */
function windowReason(item: ContentItem, schedule: Schedule | undefined, t: number, timeZone: string): ExplainReason | null {
  const parts: { from: string | null; to: string | null; notYet: ExplainCode; ended: ExplainCode; zh: string; en: string }[] = [
    { from: item.validFrom, to: item.validTo, notYet: 'BEFORE_VALID_FROM', ended: 'AFTER_VALID_TO', zh: '有效期', en: 'Validity' },
  ];
  if (item.kind === 'notice') parts.push({ from: item.publicityStart, to: item.publicityEnd, notYet: 'NOTICE_NOT_YET', ended: 'NOTICE_ENDED', zh: '公示期', en: 'The publicity period' });
  if (schedule) parts.push({ from: schedule.validFrom, to: schedule.validTo, notYet: 'SCHEDULE_NOT_YET', ended: 'SCHEDULE_ENDED', zh: `排期“${schedule.name}”`, en: `Schedule “${schedule.name}”` });
  for (const p of parts) {
    if (p.to !== null && t >= instant(p.to)) {
      const when = wallClock(instant(p.to), timeZone);
      return reason(p.ended, `${p.zh}已于 ${when} 结束`, `${p.en} ended at ${when}`);
    }
  }
  for (const p of parts) {
    if (p.from !== null && t < instant(p.from)) {
      const when = wallClock(instant(p.from), timeZone);
      return reason(p.notYet, `${p.zh}自 ${when} 开始`, `${p.en} starts at ${when}`);
    }
  }
  return null;
}

function exclusionReason(c: Considered, at: number, timeZone: string): ExplainReason {
  const e = c.exclusion;
  switch (e?.code) {
    case 'NOT_PUBLISHED': {
      const s = CONTENT_STATUS_LABELS[e.status];
      return reason('NOT_PUBLISHED', `未发布(${s.zh}),审核通过后才会上屏`, `Not published (${s.en.toLowerCase()}); it reaches screens once approved`);
    }
    case 'OUT_OF_SCOPE': {
      const s = SCOPE_TEXT[e.scope];
      return reason('OUT_OF_SCOPE', `所属专区不在播放规则的范围(${s.zh})内`, `Its zone is outside the rule’s scope (${s.en})`);
    }
    case 'KIND_NOT_IN_RULE': {
      const k = CONTENT_KIND_LABELS[c.item.kind];
      const zh = e.kinds.map((x) => CONTENT_KIND_LABELS[x].zh).join('、');
      const en = e.kinds.map((x) => CONTENT_KIND_LABELS[x].en).join(', ');
      return reason('KIND_NOT_IN_RULE', `类型“${k.zh}”不在播放规则的类型(${zh})中`, `Its kind (${k.en}) is not one of the rule’s kinds (${en})`);
    }
    case 'OVER_RULE_LIMIT':
      return reason('OVER_RULE_LIMIT', `超出播放规则的数量上限(最新的 ${e.limit} 条)`, `Beyond the rule’s limit (the newest ${e.limit})`);
    case 'WINDOW_CLOSED':
    default:
      // The window closed by the time the manifest was resolved, which is no later than `at`.
      return windowReason(c.item, c.schedule, at, timeZone) ?? reason('AFTER_VALID_TO', '有效期已结束', 'Its validity has ended');
  }
}

/**
 * What a screen shows at `at` and why, from its manifest (resolved at `at` or before) and what
 * each region's playlist considered. `showing` is `regionShowing` over the manifest, the
 * function the player runs every frame, so the two agree by construction; outside opening
 * hours nothing shows, as on the player's idle screen.
 */
export function explainScreen(
  manifest: Pick<Manifest, 'screenId' | 'layout' | 'screen' | 'timeZone' | 'version' | 'generatedAt'>,
  inputs: readonly ExplainRegionInput[],
  at: number,
): Explain {
  const tz = manifest.timeZone;
  const lt = localTime(at, tz);
  const open = screenOpen(manifest, at, lt);
  const closed = reason('SCREEN_CLOSED', '不在屏幕开放时间内,屏幕显示待机画面', 'Outside the screen’s opening hours: it shows its idle screen');
  const regions: ExplainRegion[] = [];
  for (const region of manifest.layout?.regions ?? []) {
    const input = inputs.find((i) => i.regionId === region.id);
    const onScreen = region.widget ? null : regionShowing(region, at, tz, lt);
    const showing = open ? onScreen : null;
    const top = activeCandidates(region.candidates, at, lt)[0]?.priority;
    const candidates: ExplainCandidate[] = [];
    for (const c of region.widget ? [] : (input?.considered ?? [])) {
      let why: ExplainReason;
      const cand = c.candidate;
      if (cand === null) {
        why = exclusionReason(c, at, tz);
      } else if (!candidateActive(cand, at, lt)) {
        if (windowHolds(cand, at)) {
          const d = daypartsText(cand.dayparts);
          why = reason('DAYPART_CLOSED', `不在排期时段内(${d.zh})`, `Outside its dayparts (${d.en})`);
        } else {
          why = windowReason(c.item, c.schedule, at, tz) ?? reason('AFTER_VALID_TO', '不在有效期内', 'Outside its validity');
        }
      } else if (top !== undefined && cand.priority < top) {
        why = reason('LOWER_PRIORITY', `优先级 ${cand.priority} 低于正在轮播的 ${top}`, `Priority ${cand.priority} is below the ${top} now in rotation`);
      } else if (!open) {
        why = closed;
      } else if (showing?.itemId === cand.itemId) {
        const until = wallClock(showing.slotEnd, tz, true);
        why = reason('SHOWN', `正在播放,本次至 ${until}`, `On screen until ${until}`);
      } else {
        const s = cand.durationMs / 1000;
        why = reason('WAITING_IN_ROTATION', `在轮播中,等待播放(权重 ${cand.weight},每次 ${s} 秒)`, `In the rotation, waiting its turn (weight ${cand.weight}, ${s} s a turn)`);
      }
      candidates.push({
        itemId: c.item.id,
        title: c.item.title,
        kind: c.item.kind,
        zoneId: c.item.zoneId,
        included: why.code === 'SHOWN' || why.code === 'WAITING_IN_ROTATION',
        reason: why,
        candidate: cand,
      });
    }
    let empty: ExplainReason | null = null;
    if (!showing) {
      if (!open) empty = closed;
      else if (region.widget) empty = reason('WIDGET', '显示时钟组件', 'Shows the clock widget');
      else if (!input?.playlistId) empty = reason('NO_PLAYLIST', '该区域未绑定播放列表', 'No playlist is bound to this region');
      else empty = reason('NO_ACTIVE_ITEM', '此刻没有可播放的内容', 'No item may show at this instant');
    }
    regions.push({
      regionId: region.id,
      name: region.name,
      locked: input?.locked ?? false,
      inherited: input?.inherited ?? false,
      widget: region.widget,
      playlistId: input?.playlistId ?? null,
      showing: showing?.itemId ?? null,
      slot: showing ? { start: showing.slotStart, end: showing.slotEnd } : null,
      reason: empty,
      candidates,
    });
  }
  const screenReason = manifest.layout === null ? reason('NO_LAYOUT', '屏幕未设置布局', 'The screen has no layout') : open ? null : closed;
  return {
    at,
    screenId: manifest.screenId,
    timeZone: tz,
    manifestVersion: manifest.version,
    resolvedAt: manifest.generatedAt,
    layoutId: manifest.layout?.id ?? null,
    open,
    reason: screenReason,
    regions,
  };
}

/*
 * A screen's day as a timeline: for each region, the stretches in which the same items are in
 * rotation. The rotation itself changes every few seconds; what changes on a timeline is the
 * set of active candidates (a window opening or closing, a daypart starting or ending) and the
 * screen's opening hours, so the day is cut at every such boundary and each piece evaluated
 * with rules.ts's own `activeCandidates` and `screenOpen`, the functions the player runs.
 */

export const TimelineItemSchema = Type.Object(
  {
    itemId: IdSchema,
    weight: Type.Integer(),
    durationMs: Type.Integer(),
    priority: Type.Integer(),
    share: Type.Number({ minimum: 0, maximum: 1, description: 'Its share of the rotation’s time: weight × duration over the sum of all' }),
  },
  { additionalProperties: false },
);
export type TimelineItem = Static<typeof TimelineItemSchema>;

export const TimelineSegmentSchema = Type.Object(
  {
    start: Type.Number({ description: 'Epoch ms, inclusive' }),
    end: Type.Number({ description: 'Epoch ms, exclusive' }),
    open: Type.Boolean({ description: 'Inside the screen’s opening hours; closed, the player shows its idle screen' }),
    items: Type.Array(TimelineItemSchema, { description: 'The items in rotation (the active ones of the highest priority), in manifest order' }),
  },
  { additionalProperties: false },
);
export type TimelineSegment = Static<typeof TimelineSegmentSchema>;

export const TimelineRegionSchema = Type.Object(
  {
    regionId: Type.String(),
    name: Type.String(),
    widget: Type.Union([Type.Literal('clock'), Type.Null()]),
    segments: Type.Array(TimelineSegmentSchema),
  },
  { additionalProperties: false },
);
export type TimelineRegion = Static<typeof TimelineRegionSchema>;

/** What a screen shows over one local day, region by region. */
export const TimelineSchema = Type.Object(
  {
    screenId: IdSchema,
    date: Type.String({ description: 'The local date, YYYY-MM-DD, in the city’s time zone' }),
    timeZone: Type.String(),
    from: Type.Number({ description: 'Local midnight that begins the day, epoch ms' }),
    to: Type.Number({ description: 'Local midnight that ends it, epoch ms' }),
    manifestVersion: Type.String(),
    resolvedAt: Type.Number(),
    layoutId: Type.Union([IdSchema, Type.Null()]),
    open: Type.Array(Type.Object({ start: Type.Number(), end: Type.Number() }, { additionalProperties: false }), { description: 'The opening hours that fall on the day' }),
    items: Type.Record(Type.String(), Type.Object({ title: Type.String(), kind: ContentKindSchema }, { additionalProperties: false }), { description: 'Title and kind of every item on the timeline' }),
    regions: Type.Array(TimelineRegionSchema),
  },
  { additionalProperties: false },
);
export type Timeline = Static<typeof TimelineSchema>;

/** Epoch ms of local midnight at the start of `date` (YYYY-MM-DD) in `timeZone`; NaN when malformed. */
export function localDayStart(date: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return Number.NaN;
  const utcMidnight = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Noon local is safely inside the day whatever the offset; its local midnight is the answer.
  const noon = utcMidnight + 12 * 3_600_000 - zoneOffsetMs(utcMidnight, timeZone);
  const lt = localTime(noon, timeZone);
  return `${lt.year}-${pad(lt.month)}-${pad(lt.day)}` === date ? lt.midnight : Number.NaN;
}

/** The local date (YYYY-MM-DD) of instant `t` in `timeZone`. */
export function localDate(t: number, timeZone: string): string {
  const lt = localTime(t, timeZone);
  return `${lt.year}-${pad(lt.month)}-${pad(lt.day)}`;
}

/**
 * The timeline of one local day (`date`) for a manifest: opening hours, and per region the
 * stretches in which the same items are in rotation with each one's share. Which item shows at
 * a given second within a stretch is `regionShowing`'s (and the explain API's) answer.
 */
export function screenTimeline(manifest: Pick<Manifest, 'screenId' | 'layout' | 'screen' | 'timeZone' | 'version' | 'generatedAt' | 'items'>, date: string): Timeline {
  const tz = manifest.timeZone;
  const from = localDayStart(date, tz);
  const to = localTime(from + 26 * 3_600_000, tz).midnight;
  const regions = manifest.layout?.regions ?? [];

  // Every instant the active set or the opening hours may change on this day.
  const cuts = new Set<number>([from, to]);
  const addClock = (hhmm: string) => {
    const minute = parseClock(hhmm);
    if (minute === undefined) return;
    const guess = from + minute * 60_000;
    // A wall-clock minute on a day whose offset changes (daylight saving) lies an hour off the naive sum.
    const t = guess - (zoneOffsetMs(guess, tz) - zoneOffsetMs(from, tz));
    if (t > from && t < to) cuts.add(t);
  };
  const addDayparts = (ds: readonly Daypart[]) => {
    for (const d of ds) {
      addClock(d.start);
      addClock(d.end);
    }
  };
  addDayparts(manifest.screen.openingHours);
  for (const r of regions) {
    for (const c of r.candidates) {
      addDayparts(c.dayparts);
      for (const w of [c.from, c.to]) if (w !== null && w > from && w < to) cuts.add(w);
    }
  }
  const bounds = [...cuts].sort((a, b) => a - b);

  const open: { start: number; end: number }[] = [];
  const lanes = regions.map((r) => ({ regionId: r.id, name: r.name, widget: r.widget, segments: [] as TimelineSegment[] }));
  const used = new Set<string>();
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i] ?? from;
    const end = bounds[i + 1] ?? to;
    const lt = localTime(start, tz);
    const isOpen = screenOpen(manifest, start, lt);
    const lastOpen = open[open.length - 1];
    if (isOpen) {
      if (lastOpen && lastOpen.end === start) lastOpen.end = end;
      else open.push({ start, end });
    }
    regions.forEach((r, k) => {
      const lane = lanes[k];
      if (!lane) return;
      const active = r.widget ? [] : activeCandidates(r.candidates, start, lt);
      const total = active.reduce((sum, c) => sum + c.weight * c.durationMs, 0);
      const items = active.map((c) => ({ itemId: c.itemId, weight: c.weight, durationMs: c.durationMs, priority: c.priority, share: total > 0 ? (c.weight * c.durationMs) / total : 0 }));
      for (const it of items) used.add(it.itemId);
      const prev = lane.segments[lane.segments.length - 1];
      if (prev && prev.end === start && prev.open === isOpen && JSON.stringify(prev.items) === JSON.stringify(items)) prev.end = end;
      else lane.segments.push({ start, end, open: isOpen, items });
    });
  }
  const items: Timeline['items'] = {};
  for (const id of used) {
    const item = manifest.items[id];
    if (item) items[id] = { title: item.title, kind: item.kind };
  }
  return {
    screenId: manifest.screenId,
    date,
    timeZone: tz,
    from,
    to,
    manifestVersion: manifest.version,
    resolvedAt: manifest.generatedAt,
    layoutId: manifest.layout?.id ?? null,
    open,
    items,
    regions: lanes,
  };
}
