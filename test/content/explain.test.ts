import { describe, expect, it } from 'vitest';
import {
  considerPlaylist,
  contentPool,
  explainScreen,
  regionShowing,
  screenShowing,
  type Considered,
  type ContentItem,
  type ContentRecord,
  type ContentStatus,
  type Daypart,
  type Explain,
  type ExplainCode,
  type Manifest,
  type ManifestRegion,
  type Playlist,
  type Schedule,
  type Zone,
} from '../../content/index.js';

const TZ = 'Asia/Shanghai';
/** Epoch ms of a Beijing wall-clock time. */
const bj = (s: string) => Date.parse(`${s}+08:00`);
const iso = (s: string) => `${s}+08:00`;
// 2026-12-01 is a Tuesday; the instant most tests explain.
const T = bj('2026-12-01T10:00:00');

// 彬州市 › 北极镇 › 坡头村, and 城关街道 beside 北极镇.
const ZONES: Zone[] = [
  { id: 'bz', tier: 'city', parentId: null, divisionCode: '610482000000', shortName: '彬州市', name: '' },
  { id: 'bj', tier: 'town', parentId: 'bz', divisionCode: '610482101000', shortName: '北极镇', name: '' },
  { id: 'pt', tier: 'village', parentId: 'bj', divisionCode: '610482101201', shortName: '坡头村', name: '' },
  { id: 'cg', tier: 'town', parentId: 'bz', divisionCode: '610482001000', shortName: '城关街道', name: '' },
];

let clock = 0;
/** An item of `kind` in `zoneId`; each one is created a minute after the last, so later ones are newer. */
function record(id: string, kind: 'policy' | 'text' | 'notice' | 'three-affairs', zoneId: string, over: { status?: ContentStatus; validFrom?: string; validTo?: string; publicity?: [string, string] } = {}): ContentRecord {
  const createdAt = new Date(Date.UTC(2026, 10, 1) + ++clock * 60_000).toISOString();
  const common = { id, zoneId, title: `标题${id}`, validFrom: over.validFrom ?? null, validTo: over.validTo ?? null, durationS: null, createdAt, updatedAt: createdAt };
  let item: ContentItem;
  switch (kind) {
    case 'policy':
      item = {
        ...common,
        kind,
        docNumber: '彬政办发〔2026〕1号',
        issuer: '彬州市人民政府办公室',
        issuedDate: '2026-11-01',
        sourceUrl: 'https://www.binzhou.gov.cn/',
        body: '正文',
        interpretation: { title: '解读', body: '解读正文', sourceUrl: null },
      };
      break;
    case 'notice':
      item = { ...common, kind, body: '公示内容', publicityStart: over.publicity?.[0] ?? iso('2026-11-01T00:00:00'), publicityEnd: over.publicity?.[1] ?? iso('2027-01-01T00:00:00'), contact: '' };
      break;
    case 'three-affairs':
      item = { ...common, kind, category: 'finance', period: '2026年第四季度', body: '财务公开', rows: [] };
      break;
    case 'text':
      item = { ...common, kind, body: '文字', align: 'left' };
      break;
  }
  const status = over.status ?? 'published';
  const review = { createdBy: null, updatedBy: null, submittedBy: null, submittedAt: null, reviewedBy: null, reviewedAt: null, returnReason: null };
  return { ...item, status, published: status === 'published' ? item : null, review } as ContentRecord;
}

function schedule(id: string, over: Partial<Schedule> = {}): Schedule {
  return { id, zoneId: 'bz', name: `排期${id}`, validFrom: null, validTo: null, dayparts: [], priority: 0, weight: 1, createdAt: '', updatedAt: '', ...over };
}

function playlist(over: Partial<Playlist>): Playlist {
  return { id: 'pl', name: '列表', zoneId: 'bz', mode: 'fixed', entries: [], rule: null, defaultDurationS: 10, scheduleId: null, createdAt: '', updatedAt: '', ...over };
}

/** A one-screen manifest whose regions carry the candidates `considerPlaylist` kept, as the server builds it. */
function manifestOf(regions: { id: string; considered: readonly Considered[]; widget?: 'clock' }[], openingHours: Daypart[] = []): Manifest {
  const mRegions: ManifestRegion[] = regions.map((r, i) => ({
    id: r.id,
    name: `区域${r.id}`,
    x: i * 100,
    y: 0,
    width: 100,
    height: 100,
    widget: r.widget ?? null,
    candidates: r.considered.flatMap((c) => (c.candidate ? [c.candidate] : [])),
  }));
  return {
    schemaVersion: 1,
    screenId: 'scr',
    timeZone: TZ,
    screen: { name: '屏', width: 100 * regions.length, height: 100, pixelPitchMm: 4, viewingDistanceM: 6, mmPerMetre: 8.3, openingHours },
    layout: { id: 'lay', width: 100 * regions.length, height: 100, background: '#000000', regions: mRegions },
    items: {},
    assets: [],
    version: 'v1',
    generatedAt: T,
    horizonUntil: T + 8 * 86_400_000,
  };
}

function explain(regions: { id: string; considered: readonly Considered[]; playlistId?: string | null; widget?: 'clock' }[], at: number, openingHours: Daypart[] = []): Explain {
  const inputs = regions.map((r) => ({ regionId: r.id, locked: false, inherited: false, playlistId: r.playlistId === undefined ? 'pl' : r.playlistId, considered: r.considered }));
  return explainScreen(manifestOf(regions, openingHours), inputs, at);
}

const reasons = (e: Explain, region = 0) => Object.fromEntries((e.regions[region]?.candidates ?? []).map((c) => [c.itemId, c.reason.code]));

describe('considerPlaylist: what a rule takes, and why it leaves the rest', () => {
  // Newest first: p-new-city … p-old-city.
  const content = [
    record('p-old-city', 'policy', 'bz'),
    record('p-expired', 'policy', 'bz', { validTo: iso('2026-11-20T00:00:00') }),
    record('p-village', 'policy', 'pt'),
    record('p-other-town', 'policy', 'cg'),
    record('t-town', 'text', 'bj'),
    record('t-other-town', 'text', 'cg'),
    record('p-draft', 'policy', 'bz', { status: 'draft' }),
    record('p-returned', 'policy', 'bj', { status: 'returned' }),
    record('p-tomorrow', 'policy', 'bz', { validFrom: iso('2026-12-02T00:00:00') }),
    record('p-town', 'policy', 'bj'),
    record('p-new-city', 'policy', 'bz'),
  ];
  const pool = contentPool({ zones: ZONES, schedules: [], content });
  // A town screen showing "policy releases of my zone and above", at most three.
  const rule = playlist({ mode: 'rule', rule: { kinds: ['policy'], scope: 'ancestors', limit: 3 } });

  it('takes the newest published items of its kinds in scope, up to its limit, including ones that start later', () => {
    const kept = considerPlaylist(rule, 'bj', pool, T).map((c) => c.item.id);
    expect(kept).toEqual(['p-new-city', 'p-town', 'p-tomorrow']);
  });

  it('with all, gives every exclusion a reason, and nothing from a sibling branch', () => {
    const all = considerPlaylist(rule, 'bj', pool, T, { all: true });
    expect(all.filter((c) => c.candidate).map((c) => c.item.id)).toEqual(['p-new-city', 'p-town', 'p-tomorrow']);
    expect(Object.fromEntries(all.map((c) => [c.item.id, c.exclusion?.code ?? 'IN']))).toEqual({
      'p-new-city': 'IN',
      'p-town': 'IN',
      'p-tomorrow': 'IN',
      'p-returned': 'NOT_PUBLISHED',
      'p-draft': 'NOT_PUBLISHED',
      't-town': 'KIND_NOT_IN_RULE',
      'p-village': 'OUT_OF_SCOPE',
      'p-expired': 'WINDOW_CLOSED',
      'p-old-city': 'OVER_RULE_LIMIT',
    });
  });

  it('explains each of them at an instant, with Chinese and English text', () => {
    const e = explain([{ id: 'main', considered: considerPlaylist(rule, 'bj', pool, T, { all: true }) }], T);
    expect(reasons(e)).toEqual({
      'p-new-city': expect.stringMatching(/^(SHOWN|WAITING_IN_ROTATION)$/),
      'p-town': expect.stringMatching(/^(SHOWN|WAITING_IN_ROTATION)$/),
      'p-tomorrow': 'BEFORE_VALID_FROM',
      'p-returned': 'NOT_PUBLISHED',
      'p-draft': 'NOT_PUBLISHED',
      't-town': 'KIND_NOT_IN_RULE',
      'p-village': 'OUT_OF_SCOPE',
      'p-expired': 'AFTER_VALID_TO',
      'p-old-city': 'OVER_RULE_LIMIT',
    });
    const byId = new Map(e.regions[0]?.candidates.map((c) => [c.itemId, c]));
    expect(byId.get('p-expired')?.reason.zh).toBe('有效期已于 2026-11-20 00:00 结束');
    expect(byId.get('p-tomorrow')?.reason.en).toBe('Validity starts at 2026-12-02 00:00');
    expect(byId.get('p-returned')?.reason.zh).toContain('已退回');
    expect(byId.get('p-village')?.reason.zh).toContain('本专区及上级');
    for (const c of e.regions[0]?.candidates ?? []) {
      expect(c.reason.zh, c.itemId).toMatch(/[\u4e00-\u9fff]/);
      expect(c.reason.en, c.itemId).toMatch(/^[A-Z]/);
      expect(c.included, c.itemId).toBe(c.reason.code === 'SHOWN' || c.reason.code === 'WAITING_IN_ROTATION');
    }
    expect(e.regions[0]?.candidates.filter((c) => c.reason.code === 'SHOWN')).toHaveLength(1);
  });

  it('reports a self-scoped rule’s items from above as out of scope', () => {
    const self = playlist({ mode: 'rule', rule: { kinds: ['policy'], scope: 'self', limit: 10 } });
    const all = considerPlaylist(self, 'pt', pool, T, { all: true });
    expect(all.find((c) => c.item.id === 'p-village')?.candidate).not.toBeNull();
    expect(all.find((c) => c.item.id === 'p-new-city')?.exclusion?.code).toBe('OUT_OF_SCOPE');
    expect(all.find((c) => c.item.id === 'p-other-town')).toBeUndefined();
  });
});

describe('explainScreen: time rules, priorities and the rotation', () => {
  const weekdayMornings = schedule('s-morning', { dayparts: [{ days: [1, 2, 3, 4, 5], start: '08:00', end: '09:00' }] });
  const urgent = schedule('s-urgent', { priority: 5 });
  const ended = schedule('s-ended', { validTo: iso('2026-11-30T00:00:00') });
  const content = [
    record('n-now', 'notice', 'bz'),
    record('n-later', 'notice', 'bz', { publicity: [iso('2026-12-05T00:00:00'), iso('2026-12-20T00:00:00')] }),
    record('n-over', 'notice', 'bz', { publicity: [iso('2026-11-01T00:00:00'), iso('2026-11-15T00:00:00')] }),
    record('t-a', 'text', 'bz'),
    record('t-b', 'text', 'bz'),
    record('t-morning', 'text', 'bz'),
    record('t-ended-schedule', 'text', 'bz'),
    record('t-draft', 'text', 'bz', { status: 'submitted' }),
    record('t-urgent', 'text', 'bz', { validFrom: iso('2026-12-01T12:00:00') }),
  ];
  const pool = contentPool({ zones: ZONES, schedules: [weekdayMornings, urgent, ended], content });
  const fixed = playlist({
    entries: [
      { contentId: 'n-now' },
      { contentId: 'n-later' },
      { contentId: 'n-over' },
      { contentId: 't-a', weight: 2 },
      { contentId: 't-b' },
      { contentId: 't-morning', scheduleId: 's-morning' },
      { contentId: 't-ended-schedule', scheduleId: 's-ended' },
      { contentId: 't-draft' },
      { contentId: 't-urgent', scheduleId: 's-urgent' },
    ],
  });
  const considered = considerPlaylist(fixed, 'bz', pool, T, { all: true });

  it('names the failing part of each window, closed dayparts, drafts and the rotation', () => {
    const e = explain([{ id: 'main', considered }], T);
    expect(reasons(e)).toEqual({
      'n-now': expect.stringMatching(/^(SHOWN|WAITING_IN_ROTATION)$/),
      'n-later': 'NOTICE_NOT_YET',
      'n-over': 'NOTICE_ENDED',
      't-a': expect.stringMatching(/^(SHOWN|WAITING_IN_ROTATION)$/),
      't-b': expect.stringMatching(/^(SHOWN|WAITING_IN_ROTATION)$/),
      't-morning': 'DAYPART_CLOSED',
      't-ended-schedule': 'SCHEDULE_ENDED',
      't-draft': 'NOT_PUBLISHED',
      't-urgent': 'BEFORE_VALID_FROM',
    });
    const morning = e.regions[0]?.candidates.find((c) => c.itemId === 't-morning');
    expect(morning?.reason.zh).toBe('不在排期时段内(周一二三四五 08:00–09:00)');
    expect(morning?.candidate?.dayparts).toEqual(weekdayMornings.dayparts);
    expect(e.regions[0]?.candidates.find((c) => c.itemId === 't-ended-schedule')?.reason.en).toBe('Schedule “排期s-ended” ended at 2026-11-30 00:00');
  });

  it('lets a higher priority push the rest out, and holds back what is only waiting', () => {
    const noon = bj('2026-12-01T12:00:05');
    const e = explain([{ id: 'main', considered }], noon);
    const codes = reasons(e);
    expect(codes['t-urgent']).toBe('SHOWN');
    expect(e.regions[0]?.showing).toBe('t-urgent');
    for (const id of ['n-now', 't-a', 't-b']) expect(codes[id], id).toBe('LOWER_PRIORITY');
    expect(e.regions[0]?.candidates.find((c) => c.itemId === 't-a')?.reason.zh).toBe('优先级 0 低于正在轮播的 5');
  });

  it('shows what the player computes from the manifest, at every instant of two days', () => {
    const m = manifestOf([{ id: 'main', considered }]);
    const region = m.layout?.regions[0] as ManifestRegion;
    const inputs = [{ regionId: 'main', locked: false, inherited: false, playlistId: 'pl', considered }];
    let shown = 0;
    for (let t = bj('2026-12-01T00:00:00'); t < bj('2026-12-03T00:00:00'); t += 7 * 60_000 + 13_000) {
      const e = explainScreen(m, inputs, t);
      const expected = regionShowing(region, t, TZ);
      expect(e.regions[0]?.showing ?? null, new Date(t).toISOString()).toBe(expected?.itemId ?? null);
      expect(e.regions[0]?.slot).toEqual(expected ? { start: expected.slotStart, end: expected.slotEnd } : null);
      const onScreen = e.regions[0]?.candidates.filter((c) => c.reason.code === 'SHOWN').map((c) => c.itemId) ?? [];
      expect(onScreen).toEqual(expected ? [expected.itemId] : []);
      if (expected) shown++;
    }
    expect(shown).toBeGreaterThan(0);
  });

  it('says the screen is closed outside opening hours, and shows nothing there', () => {
    const office: Daypart[] = [{ days: [1, 2, 3, 4, 5], start: '08:30', end: '18:00' }];
    const night = bj('2026-12-01T21:00:00');
    const e = explain([{ id: 'main', considered }], night, office);
    expect(e.open).toBe(false);
    expect(e.reason?.code).toBe('SCREEN_CLOSED');
    expect(e.regions[0]?.showing).toBeNull();
    expect(e.regions[0]?.reason?.code).toBe('SCREEN_CLOSED');
    expect(screenShowing(manifestOf([{ id: 'main', considered }], office), night).open).toBe(false);
    // What would rotate if the screen were open is out for that reason; the rest keep their own.
    const codes = reasons(e);
    expect(codes['t-urgent']).toBe('SCREEN_CLOSED');
    expect(codes['t-a']).toBe('LOWER_PRIORITY');
    expect(codes['n-over']).toBe('NOTICE_ENDED');
    expect(e.regions[0]?.candidates.some((c) => c.included)).toBe(false);
  });

  it('explains empty regions: a widget, no playlist, nothing active', () => {
    const onlyLater = considered.filter((c) => c.item.id === 'n-later');
    const e = explain(
      [
        { id: 'clock', considered: [], playlistId: null, widget: 'clock' },
        { id: 'none', considered: [], playlistId: null },
        { id: 'later', considered: onlyLater },
      ],
      T,
    );
    const codes: (ExplainCode | undefined)[] = e.regions.map((r) => r.reason?.code);
    expect(codes).toEqual(['WIDGET', 'NO_PLAYLIST', 'NO_ACTIVE_ITEM']);
    expect(e.regions.map((r) => r.showing)).toEqual([null, null, null]);
  });

  it('gives a screen without a layout a reason', () => {
    const e = explainScreen({ ...manifestOf([]), layout: null }, [], T);
    expect(e.reason?.code).toBe('NO_LAYOUT');
    expect(e.regions).toEqual([]);
  });
});
