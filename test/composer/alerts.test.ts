import { describe, expect, it } from 'vitest';
import { AlertInputSchema, type Delivery, type Zone } from '../../content/index.js';
import {
  alertImageFor,
  boardCounts,
  boardDeliveries,
  coveredByAncestor,
  coveredZones,
  fitBox,
  mergeDelivery,
  minimalTargets,
  screensPerSubtree,
  screensReached,
  splitTtl,
  toggleTarget,
  ttlMinutes,
  uploadPercent,
} from '../../composer/src/lib/alerts.js';
import { checkValue } from '../../composer/src/lib/validate.js';

const zone = (id: string, tier: Zone['tier'], parentId: string | null, code: string): Zone =>
  ({ id, tier, parentId, divisionCode: code, shortName: id, name: id, createdAt: '', updatedAt: '' }) as unknown as Zone;

// The demo city: 彬州市 → 城关街道 (南街社区), 北极镇 (坡头村, 丁家村).
const ZONES = [
  zone('binzhou', 'city', null, '610482000000'),
  zone('chengguan', 'town', 'binzhou', '610482001000'),
  zone('beiji', 'town', 'binzhou', '610482101000'),
  zone('nanjie', 'village', 'chengguan', '610482001002'),
  zone('potou', 'village', 'beiji', '610482101201'),
  zone('dingjia', 'village', 'beiji', '610482101205'),
];
const byId = new Map(ZONES.map((z) => [z.id, z]));
const SCREENS = [
  { id: 'scr-city-hall', zoneId: 'binzhou' },
  { id: 'scr-chengguan', zoneId: 'chengguan' },
  { id: 'scr-beiji', zoneId: 'beiji' },
  { id: 'scr-nanjie', zoneId: 'nanjie' },
  { id: 'scr-potou', zoneId: 'potou' },
  { id: 'scr-dingjia', zoneId: 'dingjia' },
];

const delivery = (screenId: string, state: Delivery['state'], alertId = 'a1'): Delivery => ({
  alertId, screenId, zoneId: 'beiji', state, attempts: 1, lastAttemptAt: null, deliveredAt: null, displayedAt: null, frameAt: null, nextRetryAt: null,
});

describe('alert targets on the zone tree', () => {
  it('ticking a town covers its villages, and its villages are dropped as targets', () => {
    let targets = toggleTarget([], 'potou', true, byId);
    targets = toggleTarget(targets, 'beiji', true, byId);
    expect(targets).toEqual(['beiji']);
    expect([...coveredZones(targets, ZONES)].sort()).toEqual(['beiji', 'dingjia', 'potou']);
    expect(coveredByAncestor('potou', targets, byId)).toBe(true);
    expect(coveredByAncestor('beiji', targets, byId)).toBe(false);
  });

  it('ticking every village of a town does not target the town itself (its own screens stay out)', () => {
    const targets = toggleTarget(toggleTarget([], 'potou', true, byId), 'dingjia', true, byId);
    expect(targets).toEqual(['potou', 'dingjia']);
    expect(screensReached(SCREENS, targets, byId).map((s) => s.id)).toEqual(['scr-potou', 'scr-dingjia']);
  });

  it('unticking removes only that target', () => {
    expect(toggleTarget(['chengguan', 'potou'], 'chengguan', false, byId)).toEqual(['potou']);
  });

  it('keeps only the topmost of nested targets, in order, once each', () => {
    expect(minimalTargets(['potou', 'chengguan', 'beiji', 'nanjie', 'beiji'], byId)).toEqual(['chengguan', 'beiji']);
  });

  it('counts the screens a target reaches, its subtree included', () => {
    expect(screensReached(SCREENS, ['beiji'], byId).map((s) => s.id)).toEqual(['scr-beiji', 'scr-potou', 'scr-dingjia']);
    expect(screensReached(SCREENS, ['binzhou'], byId)).toHaveLength(6);
    expect(screensReached(SCREENS, [], byId)).toEqual([]);
    const counts = screensPerSubtree(SCREENS, byId);
    expect(Object.fromEntries(counts)).toEqual({ binzhou: 6, chengguan: 2, beiji: 3, nanjie: 1, potou: 1, dingjia: 1 });
  });

  it('counts screens under the zones the user can read when the city above is not among them', () => {
    const town = new Map([...byId].filter(([id]) => id !== 'binzhou'));
    expect(screensPerSubtree(SCREENS, town).get('beiji')).toBe(3);
    expect(screensPerSubtree(SCREENS, town).has('binzhou')).toBe(false);
  });
});

describe('alert time to live', () => {
  it('turns hours into minutes and checks them against the schema', () => {
    expect(ttlMinutes(2, 'hours')).toBe(120);
    expect(ttlMinutes(45, 'minutes')).toBe(45);
    expect(ttlMinutes(undefined, 'hours')).toBeUndefined();
    expect(checkValue(AlertInputSchema.properties.ttlMinutes, ttlMinutes(168, 'hours'))).toBeNull();
    expect(checkValue(AlertInputSchema.properties.ttlMinutes, ttlMinutes(169, 'hours'))).toEqual({ key: 'maximum', limit: 10080 });
    expect(checkValue(AlertInputSchema.properties.ttlMinutes, ttlMinutes(0, 'minutes'))).toEqual({ key: 'minimum', limit: 1 });
  });

  it('shows whole hours in hours', () => {
    expect(splitTtl(180)).toEqual({ value: 3, unit: 'hours' });
    expect(splitTtl(90)).toEqual({ value: 90, unit: 'minutes' });
    expect(splitTtl(30)).toEqual({ value: 30, unit: 'minutes' });
  });

  it('asks for at least one target and a title, as the server does', () => {
    expect(checkValue(AlertInputSchema.properties.targetZoneIds, [])).toEqual({ key: 'minItems', limit: 1 });
    expect(checkValue(AlertInputSchema.properties.title, '')).toEqual({ key: 'required' });
    expect(checkValue(AlertInputSchema.properties.title, '暴'.repeat(61))).toEqual({ key: 'maxLength', limit: 60 });
    expect(checkValue(AlertInputSchema.properties.severity, null)).toEqual({ key: 'required' });
    expect(checkValue(AlertInputSchema.properties.text, '', true)).toBeNull();
  });
});

describe('the delivery board', () => {
  it('counts screens by state', () => {
    const counts = boardCounts([delivery('a', 'displayed'), delivery('b', 'displayed'), delivery('c', 'pending'), delivery('d', 'unreachable')]);
    expect(counts).toEqual({ pending: 1, delivered: 0, displayed: 2, unreachable: 1, total: 4 });
  });

  it('puts a pushed change in place, and adds a screen it has not seen', () => {
    const board = [delivery('a', 'pending'), delivery('b', 'pending')];
    const next = mergeDelivery(board, delivery('b', 'displayed'));
    expect(next.map((d) => d.state)).toEqual(['pending', 'displayed']);
    expect(board[1]?.state).toBe('pending');
    expect(mergeDelivery(board, delivery('c', 'delivered')).map((d) => d.screenId)).toEqual(['a', 'b', 'c']);
  });

  it('reads the board whether the server sends the list or an object around it', () => {
    const list = [delivery('a', 'pending')];
    expect(boardDeliveries(list)).toEqual(list);
    expect(boardDeliveries({ alertId: 'a1', revision: 1, status: 'active', deliveries: list })).toEqual(list);
    expect(boardDeliveries(null)).toEqual([]);
  });
});

describe('the preview', () => {
  it('scales a screen into the page at its own aspect ratio, never up', () => {
    expect(fitBox(1152, 384, 576, 380)).toEqual({ width: 576, height: 192, scale: 0.5 });
    expect(fitBox(1080, 1920, 600, 380)).toMatchObject({ width: 213, height: 380 });
    expect(fitBox(320, 160, 600, 380)).toEqual({ width: 320, height: 160, scale: 1 });
    expect(fitBox(0, 100, 600, 380).scale).toBe(0);
  });

  it('takes the picture a screen gets: its own rendition, else the largest, else the original', () => {
    const media = {
      hash: 'f'.repeat(64),
      originalFile: 'original.png',
      width: 4000,
      height: 3000,
      renditions: [
        { box: '960x320', file: '960x320.webp', width: 427, height: 320, bytes: 1, sha256: 'a'.repeat(64) },
        { box: '1920x1080', file: '1920x1080.webp', width: 1440, height: 1080, bytes: 1, sha256: 'b'.repeat(64) },
      ],
    };
    expect(alertImageFor(media, { width: 960, height: 320 }).url).toBe(`/media/${media.hash}/960x320.webp`);
    expect(alertImageFor(media, { width: 1152, height: 384 }).url).toBe(`/media/${media.hash}/1920x1080.webp`);
    expect(alertImageFor({ ...media, renditions: [] }, null)).toEqual({ url: `/media/${media.hash}/original.png`, width: 4000, height: 3000 });
  });

  it('reports upload progress in whole percent', () => {
    expect(uploadPercent(512, 1024)).toBe(50);
    expect(uploadPercent(1024, 1024)).toBe(100);
    expect(uploadPercent(10, null)).toBe(0);
  });
});
