import { describe, expect, it } from 'vitest';
import type { ContentRecord, Zone } from '../../content/index.js';
import { blankItem, cityInstant, draftProblems, draftValid, fieldSchema, filterRecords, instantOfWallClock, moveRow, textsOf, validityOf, wallClockOf } from '../../composer/src/lib/library.js';

const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
const NO_REVIEW = { createdBy: null, updatedBy: null, submittedBy: null, submittedAt: null, reviewedBy: null, reviewedAt: null, returnReason: null };

function record(over: Partial<ContentRecord> & Pick<ContentRecord, 'id'>): ContentRecord {
  return {
    kind: 'text', zoneId: 'chengguan', title: '欢迎', validFrom: null, validTo: null, durationS: null, body: '欢迎来到城关街道', align: 'left',
    createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', status: 'draft', published: null, review: NO_REVIEW,
    ...over,
  } as ContentRecord;
}

describe('instants on the city’s clock', () => {
  it('writes an instant with the city’s offset, and reads a wall-clock time back as the same instant', () => {
    const t = Date.parse('2026-03-01T00:30:00Z');
    expect(cityInstant(t, TZ)).toBe('2026-03-01T08:30:00+08:00');
    expect(wallClockOf('2026-03-01T00:30:00Z', TZ)).toBe('2026-03-01T08:30:00');
    expect(instantOfWallClock('2026-03-01T08:30:00', TZ)).toBe('2026-03-01T08:30:00+08:00');
    expect(instantOfWallClock('2026-03-01T08:30:00', 'Europe/London')).toBe('2026-03-01T08:30:00+00:00');
    expect(instantOfWallClock('not a time', TZ)).toBeNull();
  });
});

describe('new items', () => {
  it('start with every field of their kind, and a notice’s publicity period covers now', () => {
    const now = Date.parse('2026-05-01T02:00:00Z');
    const notice = blankItem('notice', 'chengguan', now, TZ);
    if (notice.kind !== 'notice') throw new Error('kind');
    expect(Date.parse(notice.publicityStart)).toBeLessThanOrEqual(now);
    expect(Date.parse(notice.publicityEnd)).toBeGreaterThan(now);
    // Blank titles and bodies are not yet acceptable; filled in, the schema takes them.
    expect(draftValid(notice)).toBe(false);
    expect(draftProblems(notice)).toContain('/title');
    expect(draftValid({ ...notice, title: '公示', body: '内容' })).toBe(true);
    for (const kind of ['policy', 'service-map', 'service-guide', 'three-affairs', 'text', 'image', 'video'] as const) {
      expect(blankItem(kind, 'chengguan', now, TZ).kind).toBe(kind);
    }
  });

  it('finds the schema of nested fields, so rows are checked by the contract', () => {
    expect(fieldSchema('service-map', ['markers', 0, 'x'])).toMatchObject({ minimum: 0, maximum: 1 });
    expect(fieldSchema('policy', ['interpretation', 'title'])).toMatchObject({ maxLength: 120 });
    expect(fieldSchema('service-guide', ['steps', 3])).toMatchObject({ maxLength: 200 });
  });
});

describe('rows', () => {
  it('moves a row up and down, and leaves the ends as they are', () => {
    expect(moveRow(['a', 'b', 'c'], 1, -1)).toEqual(['b', 'a', 'c']);
    expect(moveRow(['a', 'b', 'c'], 1, 1)).toEqual(['a', 'c', 'b']);
    expect(moveRow(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
  });
});

describe('validity, as the player decides it', () => {
  const now = Date.parse('2026-05-01T02:00:00Z');
  const iso = (t: number) => new Date(t).toISOString();
  it('intersects validity with a notice’s publicity period', () => {
    expect(validityOf(record({ id: 'a' }), now).state).toBe('current');
    expect(validityOf(record({ id: 'b', validFrom: iso(now + DAY) }), now).state).toBe('pending');
    expect(validityOf(record({ id: 'c', validTo: iso(now) }), now).state).toBe('ended');
    const notice = { kind: 'notice', body: '', contact: '', publicityStart: iso(now - 2 * DAY), publicityEnd: iso(now - DAY) } as const;
    expect(validityOf(record({ id: 'd', ...notice } as Partial<ContentRecord> & { id: string }), now).state).toBe('ended');
    // A validity that never meets the publicity period never opens.
    expect(validityOf(record({ id: 'e', ...notice, publicityEnd: iso(now + DAY), validFrom: iso(now + 2 * DAY) } as Partial<ContentRecord> & { id: string }), now).state).toBe('ended');
  });
});

describe('search and filters', () => {
  const zones = new Map<string, Pick<Zone, 'id' | 'parentId'>>([
    ['binzhou', { id: 'binzhou', parentId: null }],
    ['chengguan', { id: 'chengguan', parentId: 'binzhou' }],
    ['nanjie', { id: 'nanjie', parentId: 'chengguan' }],
    ['beiji', { id: 'beiji', parentId: 'binzhou' }],
  ]);
  const records = [
    record({ id: 'r1', title: '低保公示', zoneId: 'nanjie', updatedAt: '2026-01-03T00:00:00Z' }),
    record({ id: 'r2', title: '欢迎', body: '便民服务热线 12345', zoneId: 'beiji', status: 'published', updatedAt: '2026-01-02T00:00:00Z' }),
    record({ id: 'r3', kind: 'service-guide', title: '办事', zoneId: 'chengguan', matter: '居住证办理', department: '派出所', steps: ['携带身份证'], materials: [], timeLimit: '', fee: '', location: '', phone: '' } as Partial<ContentRecord> & { id: string }),
  ];
  const all = { search: '', kind: null, zoneId: null, status: null, validity: null };
  it('searches titles and text fields, rows included', () => {
    expect(filterRecords(records, { ...all, search: '热线' }, zones, 0).map((r) => r.id)).toEqual(['r2']);
    expect(filterRecords(records, { ...all, search: '身份证' }, zones, 0).map((r) => r.id)).toEqual(['r3']);
    expect(textsOf(records[0])).not.toContain('nanjie');
  });
  it('filters by a zone and its subtree, kind and status; newest change first', () => {
    expect(filterRecords(records, { ...all, zoneId: 'chengguan' }, zones, 0).map((r) => r.id)).toEqual(['r1', 'r3']);
    expect(filterRecords(records, { ...all, kind: 'service-guide' }, zones, 0).map((r) => r.id)).toEqual(['r3']);
    expect(filterRecords(records, { ...all, status: 'published' }, zones, 0).map((r) => r.id)).toEqual(['r2']);
  });
});
