import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  activeCandidates,
  daypartHolds,
  localTime,
  regionShowing,
  screenOpen,
  weightedOrder,
  windowHolds,
  type Candidate,
} from '../../content/index.js';

const TZ = 'Asia/Shanghai';
/** Epoch ms of a Beijing wall-clock time. */
const bj = (s: string) => Date.parse(`${s}+08:00`);

const cand = (itemId: string, over: Partial<Candidate> = {}): Candidate => ({
  itemId,
  from: null,
  to: null,
  dayparts: [],
  priority: 0,
  weight: 1,
  durationMs: 10_000,
  ...over,
});

describe('dayparts', () => {
  // 2026-11-30 is a Monday.
  const night = { days: [1], start: '22:00', end: '06:00' };

  it('holds a range that crosses midnight on the evening it starts and the morning after', () => {
    expect(daypartHolds(night, localTime(bj('2026-11-30T23:30:00'), TZ))).toBe(true);
    expect(daypartHolds(night, localTime(bj('2026-12-01T05:59:00'), TZ))).toBe(true);
  });

  it('ends a midnight-crossing range at its end minute and does not start on unlisted days', () => {
    expect(daypartHolds(night, localTime(bj('2026-12-01T06:00:00'), TZ))).toBe(false);
    expect(daypartHolds(night, localTime(bj('2026-12-01T23:00:00'), TZ))).toBe(false); // Tuesday evening
    expect(daypartHolds(night, localTime(bj('2026-11-30T03:00:00'), TZ))).toBe(false); // Monday morning: Sunday not listed
    expect(daypartHolds(night, localTime(bj('2026-11-30T21:59:00'), TZ))).toBe(false);
  });

  it('wraps Sunday night into Monday morning', () => {
    const sunday = { days: [7], start: '20:00', end: '02:00' };
    expect(daypartHolds(sunday, localTime(bj('2026-11-30T01:00:00'), TZ))).toBe(true);
    expect(daypartHolds(sunday, localTime(bj('2026-12-01T01:00:00'), TZ))).toBe(false);
  });

  it('treats equal start and end as the whole day, and 24:00 as the end of the day', () => {
    const allMonday = { days: [1], start: '00:00', end: '00:00' };
    expect(daypartHolds(allMonday, localTime(bj('2026-11-30T00:00:00'), TZ))).toBe(true);
    expect(daypartHolds(allMonday, localTime(bj('2026-11-30T23:59:59'), TZ))).toBe(true);
    expect(daypartHolds(allMonday, localTime(bj('2026-12-01T00:00:00'), TZ))).toBe(false);
    const evening = { days: [1], start: '18:00', end: '24:00' };
    expect(daypartHolds(evening, localTime(bj('2026-11-30T23:59:00'), TZ))).toBe(true);
    expect(daypartHolds(evening, localTime(bj('2026-12-01T00:00:00'), TZ))).toBe(false);
  });

  it('judges dayparts on the city’s wall clock, not UTC', () => {
    // 09:00 Beijing is 01:00 UTC; an 08:30–18:00 daypart holds.
    const office = { days: [1, 2, 3, 4, 5], start: '08:30', end: '18:00' };
    expect(daypartHolds(office, localTime(Date.parse('2026-12-01T01:00:00Z'), TZ))).toBe(true);
    expect(daypartHolds(office, localTime(Date.parse('2026-12-01T00:29:00Z'), TZ))).toBe(false);
  });
});

describe('validity windows', () => {
  it('starts at its from instant and ends just before its to instant', () => {
    const w = { from: 1000, to: 2000 };
    expect(windowHolds(w, 999)).toBe(false);
    expect(windowHolds(w, 1000)).toBe(true);
    expect(windowHolds(w, 1999)).toBe(true);
    expect(windowHolds(w, 2000)).toBe(false);
  });

  it('hides a notice once its publicity period ends', () => {
    const end = bj('2026-12-07T17:00:00');
    const region = { candidates: [cand('notice', { from: bj('2026-12-01T00:00:00'), to: end }), cand('text')] };
    expect(regionShowing(region, end - 1, TZ)).not.toBeNull();
    const after = [0, 10_000, 20_000, 3_600_000].map((d) => regionShowing(region, end + d, TZ)?.itemId);
    expect(after.every((id) => id === 'text')).toBe(true);
  });
});

describe('priorities and weights', () => {
  it('shows only the highest active priority, and falls back when it ends', () => {
    const urgent = cand('urgent', { priority: 10, from: bj('2026-12-01T09:00:00'), to: bj('2026-12-01T10:00:00') });
    const region = { candidates: [cand('a'), cand('b'), urgent] };
    const during = bj('2026-12-01T09:30:00');
    expect(activeCandidates(region.candidates, during, localTime(during, TZ)).map((c) => c.itemId)).toEqual(['urgent']);
    const after = bj('2026-12-01T10:00:00');
    expect(activeCandidates(region.candidates, after, localTime(after, TZ)).map((c) => c.itemId)).toEqual(['a', 'b']);
  });

  it('spreads weights smoothly: 3:1 gives a,a,b,a in each cycle', () => {
    expect(weightedOrder([3, 1]).map((i) => 'ab'[i]).join('')).toBe('aaba');
    const order = weightedOrder([5, 2, 1]);
    expect(order.filter((i) => i === 0)).toHaveLength(5);
    expect(order.filter((i) => i === 1)).toHaveLength(2);
    expect(order.filter((i) => i === 2)).toHaveLength(1);
  });

  it('gives each item screen time in proportion to weight × duration over a day', () => {
    const region = { candidates: [cand('a', { weight: 3 }), cand('b', { weight: 1, durationMs: 20_000 })] };
    const counts: Record<string, number> = { a: 0, b: 0 };
    const start = bj('2026-12-01T00:00:00');
    for (let t = start; t < start + 86_400_000; t += 1000) {
      const id = regionShowing(region, t, TZ)?.itemId;
      if (id) counts[id] = (counts[id] ?? 0) + 1;
    }
    // a: 3 × 10 s, b: 1 × 20 s per 50 s cycle.
    expect((counts.a ?? 0) / (counts.b ?? 1)).toBeCloseTo(30 / 20, 2);
  });
});

describe('rotation', () => {
  const region = { candidates: [cand('a'), cand('b', { durationMs: 15_000 }), cand('c', { durationMs: 5_000 })] };

  it('restarts the cycle at midnight in the city’s time zone', () => {
    const midnight = bj('2026-12-01T00:00:00');
    const s = regionShowing(region, midnight, TZ);
    expect(s).toEqual({ itemId: 'a', slotStart: midnight, slotEnd: midnight + 10_000, slotIndex: 0 });
    expect(regionShowing(region, midnight + 10_000, TZ)?.itemId).toBe('b');
    expect(regionShowing(region, midnight + 25_000, TZ)?.itemId).toBe('c');
    expect(regionShowing(region, midnight + 30_000, TZ)?.slotIndex).toBe(3);
  });

  it('cuts the last slot of the day at the next midnight', () => {
    const beforeMidnight = bj('2026-12-01T23:59:59');
    const s = regionShowing(region, beforeMidnight, TZ);
    expect(s?.slotEnd).toBeLessThanOrEqual(bj('2026-12-02T00:00:00'));
  });

  it('is a pure function of the candidates and the instant', () => {
    const t = bj('2026-12-01T14:23:17.250');
    expect(regionShowing(region, t, TZ)).toEqual(regionShowing({ candidates: [...region.candidates] }, t, TZ));
  });

  it('anchors to local midnight in zones with daylight saving time', () => {
    // 2026-03-29 is the spring-forward day in Berlin; midnight is 23:00 UTC the day before.
    const lt = localTime(Date.parse('2026-03-29T12:00:00Z'), 'Europe/Berlin');
    expect(lt.midnight).toBe(Date.parse('2026-03-28T23:00:00Z'));
    expect(lt.weekday).toBe(7);
  });

  it('gives the same answer on a machine in another time zone', () => {
    const t = bj('2026-12-01T07:59:58');
    const here = regionShowing(region, t, TZ);
    const script = `import { regionShowing } from './content/index.ts';
      const r = ${JSON.stringify(region)};
      process.stdout.write(JSON.stringify(regionShowing(r, ${t}, '${TZ}')));`;
    for (const tz of ['America/Los_Angeles', 'UTC', 'Pacific/Kiritimati']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, TZ: tz },
        cwd: new URL('../..', import.meta.url).pathname,
      }).toString();
      expect(JSON.parse(out)).toEqual(here);
    }
  }, 60_000);
});

describe('opening hours', () => {
  it('treats a screen without opening hours as always open, and honours the hours otherwise', () => {
    const screen = { name: 's', width: 10, height: 10, pixelPitchMm: 2, viewingDistanceM: 3, openingHours: [] as { days: number[]; start: string; end: string }[] };
    expect(screenOpen({ screen, timeZone: TZ }, bj('2026-12-06T03:00:00'))).toBe(true);
    screen.openingHours = [{ days: [1, 2, 3, 4, 5], start: '08:30', end: '18:00' }];
    expect(screenOpen({ screen, timeZone: TZ }, bj('2026-12-01T08:30:00'))).toBe(true);
    expect(screenOpen({ screen, timeZone: TZ }, bj('2026-12-01T18:00:00'))).toBe(false);
    expect(screenOpen({ screen, timeZone: TZ }, bj('2026-12-06T10:00:00'))).toBe(false); // Sunday
  });
});
