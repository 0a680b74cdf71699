import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDate, localTime, type Explain, type Timeline } from '../../../content/index.js';
import { buildTestApp, type TestApp, type TestUser } from '../../helpers/app.js';

/*
 * The day's timeline of a screen (GET /api/screens/:id/timeline) agrees with the explain API at
 * every stretch it draws: the same open or closed state, the same items in rotation, and the
 * item explain says is on screen is one of them.
 */

let t: TestApp;
let editor: TestUser;
beforeAll(async () => {
  t = await buildTestApp({ demo: true });
  editor = await t.addUser({ username: 'cg-editor', role: 'editor', zoneId: 'chengguan' });
  // A morning-only schedule on the ticker's first entry too, so the ticker's day has more cuts.
  await t.api('POST', '/api/schedules', { id: 'sch-noon', zoneId: 'binzhou', name: '午间', validFrom: null, validTo: null, dayparts: [{ days: [1, 2, 3, 4, 5, 6, 7], start: '11:30', end: '13:30' }], priority: 5, weight: 1 });
  await t.api('PUT', '/api/playlists/pl-ticker', {
    name: '滚动字幕',
    zoneId: 'binzhou',
    mode: 'fixed',
    entries: [
      { contentId: 'c-text-welcome', durationS: 30 },
      { contentId: 'c-text-hotline', durationS: 20, scheduleId: 'sch-morning' },
      { contentId: 'c-text-hotline', durationS: 10, scheduleId: 'sch-noon' },
    ],
    rule: null,
    defaultDurationS: 30,
    scheduleId: null,
  });
});
afterAll(() => t?.close());

const explainAt = async (at: number) => (await t.api('GET', `/api/screens/scr-chengguan/explain?at=${encodeURIComponent(new Date(at).toISOString())}`, undefined, editor)) as unknown as Explain;

describe('the timeline of a screen', () => {
  it('cuts the day where the items in rotation or the opening hours change, as explain says at each stretch', async () => {
    const tl = (await t.api('GET', '/api/screens/scr-chengguan/timeline', undefined, editor)) as unknown as Timeline;
    expect(tl.date).toBe(localDate(Date.now(), tl.timeZone));
    expect(tl.from).toBe(localTime(Date.now(), tl.timeZone).midnight);
    expect(tl.to - tl.from).toBe(24 * 3_600_000);
    expect(tl.regions.map((r) => r.regionId)).toEqual(['main', 'side', 'ticker', 'clock']);
    for (const r of tl.regions) {
      // Lanes cover the day without gaps.
      expect(r.segments[0]?.start).toBe(tl.from);
      expect(r.segments.at(-1)?.end).toBe(tl.to);
      r.segments.forEach((s, i) => i > 0 && expect(s.start).toBe(r.segments[i - 1]?.end));
      for (const s of r.segments) if (s.items.length > 0) expect(s.items.reduce((a, x) => a + x.share, 0)).toBeCloseTo(1, 6);
    }
    const weekday = localTime(tl.from + 12 * 3_600_000, tl.timeZone).weekday;
    const ticker = tl.regions.find((r) => r.regionId === 'ticker');
    const at = (hhmm: string) => tl.from + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * 60_000;
    const ids = (s: Timeline['regions'][number]['segments'][number] | undefined) => s?.items.map((i) => i.itemId);
    // The noon schedule's priority 5 pushes everything else out of the ticker between 11:30 and 13:30.
    expect(ids(ticker?.segments.find((s) => s.start === at('11:30')))).toEqual(['c-text-hotline']);
    if (weekday <= 5) expect(ids(ticker?.segments.find((s) => s.start === at('08:00')))).toEqual(['c-text-welcome', 'c-text-hotline']);
    expect(tl.items['c-text-hotline']?.title).toBeTruthy();

    // Every stretch of every lane against explain, at its start and its middle (one call per instant).
    const instants = new Set<number>();
    for (const r of tl.regions) for (const s of r.segments) instants.add(s.start).add(Math.floor((s.start + s.end) / 2));
    for (const when of instants) {
      const e = await explainAt(when);
      for (const r of tl.regions) {
        const seg = r.segments.find((s) => s.start <= when && when < s.end);
        const ex = e.regions.find((x) => x.regionId === r.regionId);
        expect(seg?.open, `${r.regionId} at ${new Date(when).toISOString()}`).toBe(e.open);
        const inRotation = (ex?.candidates ?? []).filter((c) => c.candidate && (c.reason.code === 'SHOWN' || c.reason.code === 'WAITING_IN_ROTATION' || (!e.open && c.reason.code === 'SCREEN_CLOSED')));
        expect(ids(seg), `${r.regionId} at ${new Date(when).toISOString()}`).toEqual(inRotation.map((c) => c.itemId));
        if (ex?.showing) expect(ids(seg)).toContain(ex.showing);
      }
    }
    expect(tl.open.length).toBeGreaterThanOrEqual(weekday === 7 ? 0 : 1);
  });

  it('draws another day when asked, and refuses a date that does not exist', async () => {
    const tomorrow = localDate(Date.now() + 86_400_000, 'Asia/Shanghai');
    const tl = (await t.api('GET', `/api/screens/scr-chengguan/timeline?date=${tomorrow}`, undefined, editor)) as unknown as Timeline;
    expect(tl.date).toBe(tomorrow);
    expect(localDate(tl.from, tl.timeZone)).toBe(tomorrow);
    const bad = await t.app.inject({ method: 'GET', url: '/api/screens/scr-chengguan/timeline?date=2026-02-30', headers: { cookie: editor.cookie } });
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    const other = await t.addUser({ username: 'bj-editor', role: 'editor', zoneId: 'beiji' });
    const refused = await t.app.inject({ method: 'GET', url: '/api/screens/scr-chengguan/timeline', headers: { cookie: other.cookie } });
    expect(refused.statusCode).toBe(403);
  });
});
