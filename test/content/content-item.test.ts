import { describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { ContentInputSchema, mediaHashesOf, type ContentInput } from '../../content/index.js';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const common = { zoneId: 'chengguan', title: '公示', validFrom: null, validTo: null, durationS: null };
const notice = {
  ...common,
  kind: 'notice',
  body: '现予公示。',
  publicityStart: '2026-01-01T00:00:00+08:00',
  publicityEnd: '2026-01-08T00:00:00+08:00',
  contact: '',
} as const satisfies ContentInput;

describe('mediaHashesOf', () => {
  it('names the picture of an image, a video and a service map', () => {
    expect(mediaHashesOf({ ...common, kind: 'image', mediaHash: H1, fit: 'contain', caption: '' })).toEqual([H1]);
    expect(mediaHashesOf({ ...common, kind: 'video', mediaHash: H2, muted: true })).toEqual([H2]);
    expect(mediaHashesOf({ ...common, kind: 'service-map', mediaHash: H1, caption: '', markers: [] })).toEqual([H1]);
    expect(mediaHashesOf({ ...common, kind: 'service-map', mediaHash: null, caption: '', markers: [] })).toEqual([]);
  });

  it('names a notice’s optional picture, and nothing when it has none', () => {
    expect(mediaHashesOf({ ...notice, mediaHash: H1 })).toEqual([H1]);
    expect(mediaHashesOf({ ...notice, mediaHash: null })).toEqual([]);
    expect(mediaHashesOf(notice)).toEqual([]);
  });

  it('names nothing for the text-only kinds', () => {
    expect(mediaHashesOf({ ...common, kind: 'text', body: '欢迎', align: 'center' })).toEqual([]);
  });
});

describe('a notice’s picture in the contract', () => {
  it('is optional: absent, null or a SHA-256 hash, nothing else', () => {
    expect(Value.Check(ContentInputSchema, notice)).toBe(true);
    expect(Value.Check(ContentInputSchema, { ...notice, mediaHash: null })).toBe(true);
    expect(Value.Check(ContentInputSchema, { ...notice, mediaHash: H1 })).toBe(true);
    expect(Value.Check(ContentInputSchema, { ...notice, mediaHash: 'not-a-hash' })).toBe(false);
  });
});
