import { describe, expect, it } from 'vitest';
import {
  CLIENT_TO_SERVER_EVENTS,
  ERRORS,
  SERVER_TO_CLIENT_EVENTS,
  canonicalJson,
  errorBody,
  legibleCharHeightPx,
  zoneOffsetMs,
} from '../../content/index.js';

describe('socket contract', () => {
  it('lists every event once, named domain:action', () => {
    const all = [...SERVER_TO_CLIENT_EVENTS, ...CLIENT_TO_SERVER_EVENTS];
    expect(new Set(all).size).toBe(all.length);
    for (const e of all) expect(e).toMatch(/^[a-z]+:[a-z-]+$/);
    expect(SERVER_TO_CLIENT_EVENTS).toContain('manifest:changed');
    expect(CLIENT_TO_SERVER_EVENTS).toContain('screen:heartbeat');
  });
});

describe('errors', () => {
  it('gives every code a 4xx/5xx status and a Chinese and an English message', () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      expect(e.zh, code).toMatch(/[\u4e00-\u9fff]/);
      expect(e.en, code).toMatch(/^[A-Z]/);
    }
    expect(errorBody('NOT_FOUND', 'zones/x')).toEqual({ ok: false, code: 'NOT_FOUND', message: { zh: ERRORS.NOT_FOUND.zh, en: ERRORS.NOT_FOUND.en }, detail: 'zones/x' });
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined, so equal bodies hash equally', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":2,"f":1}]},"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
});

describe('legibility', () => {
  it('is max(16 px, ⌈distance × 8.3 mm ÷ pitch⌉)', () => {
    expect(legibleCharHeightPx(8, 2.5)).toBe(27);
    expect(legibleCharHeightPx(2, 4)).toBe(16);
    expect(legibleCharHeightPx(10, 4, 10)).toBe(25);
  });
});

describe('time zones', () => {
  it('knows Beijing is UTC+8 all year', () => {
    expect(zoneOffsetMs(Date.parse('2026-01-15T00:00:00Z'), 'Asia/Shanghai')).toBe(8 * 3600_000);
    expect(zoneOffsetMs(Date.parse('2026-07-15T00:00:00Z'), 'Asia/Shanghai')).toBe(8 * 3600_000);
  });
});
