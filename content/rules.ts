import type { Daypart, Window } from './common.js';
import type { Candidate, Manifest, ManifestRegion } from './manifest.js';
import { localTime, parseClock, type IsoWeekday, type LocalTime } from './time.js';

/** True when a daypart holds at local time `lt`; a range with start > end runs past midnight. */
export function daypartHolds(d: Daypart, lt: LocalTime): boolean {
  const start = parseClock(d.start) ?? 0;
  const end = parseClock(d.end) ?? 0;
  const minute = Math.floor(lt.msOfDay / 60_000);
  const today = d.days.includes(lt.weekday);
  if (start === end) return today;
  if (start < end) return today && minute >= start && minute < end;
  const yesterday = d.days.includes(((lt.weekday + 5) % 7) + 1 as IsoWeekday);
  return (today && minute >= start) || (yesterday && minute < end);
}

/** True when any daypart holds, or there are none. */
export function anyDaypartHolds(dayparts: readonly Daypart[], lt: LocalTime): boolean {
  return dayparts.length === 0 || dayparts.some((d) => daypartHolds(d, lt));
}

/** True when `t` lies in the closed-open window [from, to). */
export function windowHolds(w: Window, t: number): boolean {
  return (w.from === null || t >= w.from) && (w.to === null || t < w.to);
}

/** The intersection of windows; `from >= to` means empty. */
export function intersectWindows(...ws: Window[]): Window {
  let from: number | null = null;
  let to: number | null = null;
  for (const w of ws) {
    if (w.from !== null) from = from === null ? w.from : Math.max(from, w.from);
    if (w.to !== null) to = to === null ? w.to : Math.min(to, w.to);
  }
  return { from, to };
}

/** True when a candidate may show at `t` by its validity window and dayparts. */
export function candidateActive(c: Candidate, t: number, lt: LocalTime): boolean {
  return windowHolds(c, t) && anyDaypartHolds(c.dayparts, lt);
}

/** The candidates that show at `t`: the active ones of the highest active priority, in manifest order. */
export function activeCandidates(candidates: readonly Candidate[], t: number, lt: LocalTime): Candidate[] {
  const active = candidates.filter((c) => candidateActive(c, t, lt));
  if (active.length === 0) return active;
  const top = Math.max(...active.map((c) => c.priority));
  return active.filter((c) => c.priority === top);
}

/**
 * Smooth weighted round-robin: a fixed order in which each index appears `weight` times,
 * spread out rather than bunched (weights 3,1 give a,a,b,a not a,a,a,b).
 */
export function weightedOrder(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  const order: number[] = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] = (current[i] ?? 0) + (weights[i] ?? 0);
      if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
    }
    current[best] = (current[best] ?? 0) - total;
    order.push(best);
  }
  return order;
}

/** What a region shows at an instant, and the slot it is in. */
export interface RegionShowing {
  readonly itemId: string;
  /** When this slot began (epoch ms); pagination inside the slot counts from here. */
  readonly slotStart: number;
  /** When it ends at the latest; the active set may change earlier. */
  readonly slotEnd: number;
  /** The position of this slot in the day's rotation, counted from local midnight. */
  readonly slotIndex: number;
}

/**
 * The item a region shows at `t`. The rotation restarts at local midnight in the city's time
 * zone, so the answer is a pure function of (candidates, t, timeZone).
 */
export function regionShowing(region: Pick<ManifestRegion, 'candidates'>, t: number, timeZone: string, lt = localTime(t, timeZone)): RegionShowing | null {
  const active = activeCandidates(region.candidates, t, lt);
  if (active.length === 0) return null;
  const order = weightedOrder(active.map((c) => c.weight));
  const cycleMs = order.reduce((sum, i) => sum + (active[i]?.durationMs ?? 0), 0);
  const sinceMidnight = t - lt.midnight;
  const cycles = Math.floor(sinceMidnight / cycleMs);
  let offset = sinceMidnight - cycles * cycleMs;
  for (let k = 0; k < order.length; k++) {
    const c = active[order[k] ?? 0];
    if (!c) break;
    if (offset < c.durationMs) {
      const slotStart = t - offset;
      const nextMidnight = lt.midnight + 24 * 60 * 60 * 1000;
      return {
        itemId: c.itemId,
        slotStart,
        slotEnd: Math.min(slotStart + c.durationMs, nextMidnight),
        slotIndex: cycles * order.length + k,
      };
    }
    offset -= c.durationMs;
  }
  return null;
}

/** True when the screen is inside its opening hours at `t` (no hours means always open). */
export function screenOpen(
  manifest: { readonly screen: { readonly openingHours: readonly Daypart[] }; readonly timeZone: string },
  t: number,
  lt = localTime(t, manifest.timeZone),
): boolean {
  return anyDaypartHolds(manifest.screen.openingHours, lt);
}

/** What each region of a screen shows at `t`, and whether the screen is open. */
export function screenShowing(
  manifest: Pick<Manifest, 'layout' | 'screen' | 'timeZone'>,
  t: number,
): { open: boolean; regions: Record<string, RegionShowing | null> } {
  const lt = localTime(t, manifest.timeZone);
  const regions: Record<string, RegionShowing | null> = {};
  for (const r of manifest.layout?.regions ?? []) regions[r.id] = regionShowing(r, t, manifest.timeZone, lt);
  return { open: screenOpen(manifest, t, lt), regions };
}
