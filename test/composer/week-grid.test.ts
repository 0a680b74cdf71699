import { describe, expect, it } from 'vitest';
import { DaypartSchema, ScheduleSchema, daypartHolds, localTime } from '../../content/index.js';
import { Value } from 'typebox/value';
import { CELLS_PER_DAY, daypartsToGrid, emptyGrid, gridToDayparts, instantToWall, moveItem, setCell, wallToInstant } from '../../composer/src/lib/week-grid.js';

describe('the week grid', () => {
  it('merges the same hours on several days into one daypart', () => {
    let g = emptyGrid();
    for (const day of [1, 2, 3, 4, 5]) for (let c = 17; c < 36; c++) g = setCell(g, day, c, true);
    for (let c = 18; c < 34; c++) g = setCell(g, 6, c, true);
    expect(gridToDayparts(g)).toEqual([
      { days: [1, 2, 3, 4, 5], start: '08:30', end: '18:00' },
      { days: [6], start: '09:00', end: '17:00' },
    ]);
  });

  it('ends a run at midnight with 24:00, and round-trips through the grid', () => {
    let g = emptyGrid();
    for (let c = 44; c < CELLS_PER_DAY; c++) g = setCell(g, 7, c, true);
    g = setCell(g, 3, 0, true);
    const parts = gridToDayparts(g);
    expect(parts).toEqual([
      { days: [3], start: '00:00', end: '00:30' },
      { days: [7], start: '22:00', end: '24:00' },
    ]);
    for (const p of parts) expect(Value.Check(DaypartSchema, p)).toBe(true);
    expect(daypartsToGrid(parts)).toEqual({ grid: g, exact: true });
  });

  it('reads dayparts past midnight and off the half hour, saying when the grid is not exact', () => {
    const { grid, exact } = daypartsToGrid([{ days: [7], start: '22:00', end: '01:15' }]);
    expect(exact).toBe(false);
    expect(grid[6]?.slice(44)).toEqual([true, true, true, true]);
    expect(grid[0]?.slice(0, 4)).toEqual([true, true, true, false]);
  });

  it('paints what the rules read: every cell of the grid holds exactly when its dayparts hold', () => {
    let g = emptyGrid();
    for (const [day, from, to] of [[1, 10, 20], [2, 10, 20], [2, 30, 31], [5, 0, 48]] as const) for (let c = from; c < to; c++) g = setCell(g, day, c, true);
    const parts = gridToDayparts(g);
    const monday = Date.parse('2026-03-02T00:00:00+08:00');
    for (let day = 1; day <= 7; day++) {
      for (let c = 0; c < CELLS_PER_DAY; c++) {
        const lt = localTime(monday + ((day - 1) * 48 + c) * 30 * 60_000 + 60_000, 'Asia/Shanghai');
        expect(parts.some((p) => daypartHolds(p, lt)), `day ${day} cell ${c}`).toBe(g[day - 1]?.[c]);
      }
    }
  });

  it('says when a pattern needs more dayparts than a schedule holds', () => {
    let g = emptyGrid();
    for (let c = 0; c < CELLS_PER_DAY; c += 2) g = setCell(setCell(g, 1, c, true), 2, c + 1, true);
    const max = Number(Reflect.get(ScheduleSchema.properties.dayparts, 'maxItems'));
    expect(gridToDayparts(g).length).toBeGreaterThan(max);
  });
});

describe('wall clock and instants in the city', () => {
  it('writes the city offset whatever the browser zone is', () => {
    expect(wallToInstant('2026-03-02T08:30', 'Asia/Shanghai')).toBe('2026-03-02T08:30:00+08:00');
    expect(wallToInstant('2026-07-01T08:30', 'Europe/Berlin')).toBe('2026-07-01T08:30:00+02:00');
    expect(instantToWall('2026-03-02T00:30:00Z', 'Asia/Shanghai')).toBe('2026-03-02T08:30');
    expect(wallToInstant('nonsense', 'Asia/Shanghai')).toBeNull();
  });

  it('moves an entry', () => {
    expect(moveItem(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moveItem(['a', 'b'], 0, 5)).toEqual(['a', 'b']);
  });
});
