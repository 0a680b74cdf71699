import { localTime, parseClock, zoneOffsetMs, type Daypart } from '../../../content/index.js';

/*
 * The week grid of the schedule editor: 7 days (ISO 1 = Monday) × 48 half-hour cells, turned
 * into the `Daypart[]` a schedule stores and back. The rule that reads dayparts lives in
 * content/rules.ts; this only draws and writes them.
 */

export const CELL_MINUTES = 30;
export const CELLS_PER_DAY = (24 * 60) / CELL_MINUTES;
export const DAYS = [1, 2, 3, 4, 5, 6, 7] as const;

/** Painted cells: `grid[day - 1][cell]`. */
export type WeekGrid = boolean[][];

/** An empty grid. */
export function emptyGrid(): WeekGrid {
  return DAYS.map(() => Array.from({ length: CELLS_PER_DAY }, () => false));
}

/** A copy of `grid` with one cell set. */
export function setCell(grid: WeekGrid, day: number, cell: number, on: boolean): WeekGrid {
  return grid.map((row, d) => (d === day - 1 ? row.map((v, c) => (c === cell ? on : v)) : row));
}

/** True when no cell is painted. */
export function isEmptyGrid(grid: WeekGrid): boolean {
  return grid.every((row) => row.every((v) => !v));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "HH:MM" of a cell boundary (0…48; 48 is "24:00"). */
export function cellClock(boundary: number): string {
  const m = boundary * CELL_MINUTES;
  return `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/**
 * The dayparts of a grid: each day's runs of painted cells, with days that share the same run
 * merged into one daypart (Mon–Fri 08:30–18:00 is one). A run reaching midnight ends at "24:00".
 */
export function gridToDayparts(grid: WeekGrid): Daypart[] {
  const byRange = new Map<string, { start: number; end: number; days: number[] }>();
  grid.forEach((row, d) => {
    let c = 0;
    while (c < row.length) {
      if (!row[c]) {
        c++;
        continue;
      }
      const start = c;
      while (c < row.length && row[c]) c++;
      const key = `${start}-${c}`;
      const entry = byRange.get(key) ?? { start, end: c, days: [] };
      entry.days.push(d + 1);
      byRange.set(key, entry);
    }
  });
  return [...byRange.values()]
    .sort((a, b) => (a.days[0] ?? 0) - (b.days[0] ?? 0) || a.start - b.start)
    .map((r) => ({ days: r.days, start: cellClock(r.start), end: cellClock(r.end) }));
}

/**
 * The grid of a list of dayparts, and whether it is exact: a time off the half hour is widened
 * to the cells it touches, so saving the grid would change it.
 */
export function daypartsToGrid(dayparts: readonly Daypart[]): { grid: WeekGrid; exact: boolean } {
  const grid = emptyGrid();
  let exact = true;
  const paint = (day: number, from: number, to: number) => {
    const row = grid[((day - 1 + 7) % 7)];
    if (!row) return;
    for (let c = from; c < to; c++) row[c] = true;
  };
  for (const d of dayparts) {
    const start = parseClock(d.start) ?? 0;
    const end = parseClock(d.end) ?? 0;
    if (start % CELL_MINUTES !== 0 || end % CELL_MINUTES !== 0) exact = false;
    const s = Math.floor(start / CELL_MINUTES);
    const e = Math.ceil(end / CELL_MINUTES);
    for (const day of d.days) {
      if (start === end) paint(day, 0, CELLS_PER_DAY);
      else if (start < end) paint(day, s, e);
      else {
        // Past midnight: the evening on its day, the small hours on the next.
        paint(day, s, CELLS_PER_DAY);
        paint((day % 7) + 1, 0, e);
      }
    }
  }
  return { grid, exact };
}

/** A wall-clock date and time "YYYY-MM-DDTHH:MM" in `timeZone` as an ISO instant with that zone's offset. */
export function wallToInstant(wall: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(wall);
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  // The offset at the instant itself (try the guess's offset, then re-check once for a change of offset).
  let offset = zoneOffsetMs(asUtc - zoneOffsetMs(asUtc, timeZone), timeZone);
  offset = zoneOffsetMs(asUtc - offset, timeZone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An instant as the wall clock "YYYY-MM-DDTHH:MM" of `timeZone`. */
export function instantToWall(iso: string | number, timeZone: string): string {
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  const lt = localTime(t, timeZone);
  const minutes = Math.floor(lt.msOfDay / 60_000);
  return `${lt.year}-${pad(lt.month)}-${pad(lt.day)}T${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** "HH:MM:SS" of an instant on the wall clock of `timeZone`. */
export function wallClockOf(t: number, timeZone: string, seconds = true): string {
  const s = Math.floor(localTime(t, timeZone).msOfDay / 1000);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}${seconds ? `:${pad(s % 60)}` : ''}`;
}

/** `list` with the element at `from` moved to `to`. */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  if (from < 0 || from >= out.length || to < 0 || to >= out.length || from === to) return out;
  const [x] = out.splice(from, 1);
  if (x !== undefined) out.splice(to, 0, x);
  return out;
}
