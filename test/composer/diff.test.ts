import { describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../content/index.js';
import { flattenFields, recordChanges, textDiff, type DiffLine } from '../../composer/src/lib/diff.js';

const review = { createdBy: 'u1', updatedBy: 'u1', submittedBy: 'u1', submittedAt: '2026-01-05T09:00:00+08:00', reviewedBy: null, reviewedAt: null, returnReason: null };
const meta = { id: 'n1', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-05T00:00:00Z' };
const notice = {
  kind: 'notice' as const,
  zoneId: 'town',
  title: '关于坡头村低保评议结果的公示',
  validFrom: null,
  validTo: null,
  durationS: 20,
  body: '经村民代表会议评议，拟将以下三户纳入低保。\n公示期七天。\n联系人：张三',
  publicityStart: '2026-01-05T00:00:00+08:00',
  publicityEnd: '2026-01-12T00:00:00+08:00',
  contact: '029-1234567',
};

function record(changes: Partial<typeof notice>, published: boolean): ContentRecord {
  return { ...notice, ...changes, ...meta, status: 'submitted', review, published: published ? { ...notice, ...meta } : null };
}

const text = (line: DiffLine) => ('parts' in line ? line.parts.map((p) => p.text).join('') : `…${line.count}`);

describe('review diff', () => {
  it('shows every field of a first submission as new, without bookkeeping fields', () => {
    const changes = recordChanges(record({}, false));
    expect(changes.every((c) => c.kind === 'added' && c.before === null)).toBe(true);
    expect(changes.map((c) => c.path)).toEqual(['kind', 'zoneId', 'title', 'validFrom', 'validTo', 'durationS', 'body', 'publicityStart', 'publicityEnd', 'contact']);
  });

  it('lists only the fields that differ from the published version', () => {
    const changes = recordChanges(record({ title: '关于坡头村低保评议结果的公示(更正)', durationS: 30 }, true));
    expect(changes).toEqual([
      { path: 'title', kind: 'changed', before: notice.title, after: '关于坡头村低保评议结果的公示(更正)' },
      { path: 'durationS', kind: 'changed', before: '20', after: '30' },
    ]);
  });

  it('finds nothing when the working copy equals the published version', () => {
    expect(recordChanges(record({}, true))).toEqual([]);
  });

  it('flattens nested objects into dotted fields and lists into one line per entry', () => {
    const fields = flattenFields({
      interpretation: { title: '解读', body: '正文', sourceUrl: null },
      steps: ['申请', '审核'],
      rows: [{ item: '道路硬化', amount: '12000', note: '' }],
    });
    expect(Object.fromEntries(fields)).toEqual({
      'interpretation.title': '解读',
      'interpretation.body': '正文',
      'interpretation.sourceUrl': '',
      steps: '申请\n审核',
      rows: '道路硬化 | 12000 | ',
    });
  });

  it('diffs long text by line and marks the changed characters inside a changed line', () => {
    const lines = textDiff(notice.body, notice.body.replace('七天', '十天'));
    expect(lines.map((l) => [l.kind, text(l)])).toEqual([
      ['same', '经村民代表会议评议，拟将以下三户纳入低保。'],
      ['del', '公示期七天。'],
      ['add', '公示期十天。'],
      ['same', '联系人：张三'],
    ]);
    const del = lines[1];
    const add = lines[2];
    expect(del && 'parts' in del ? del.parts.filter((p) => p.changed).map((p) => p.text) : null).toEqual(['七']);
    expect(add && 'parts' in add ? add.parts.filter((p) => p.changed).map((p) => p.text) : null).toEqual(['十']);
  });

  it('collapses long unchanged runs into a gap around the change', () => {
    const before = Array.from({ length: 20 }, (_, i) => `第${i + 1}条`).join('\n');
    const after = before.replace('第10条', '第十条');
    const lines = textDiff(before, after, 2);
    expect(lines.map((l) => [l.kind, text(l)])).toEqual([
      ['gap', '…7'],
      ['same', '第8条'],
      ['same', '第9条'],
      ['del', '第10条'],
      ['add', '第十条'],
      ['same', '第11条'],
      ['same', '第12条'],
      ['gap', '…8'],
    ]);
  });

  it('shows added text as added lines', () => {
    expect(textDiff('', '甲\n乙').map((l) => [l.kind, text(l)])).toEqual([
      ['add', '甲'],
      ['add', '乙'],
    ]);
  });
});
