import { describe, expect, it } from 'vitest';
import { checkLayout } from '../../content/index.js';
import { defaultGrid, moveRect, newRegionId, nudgeRect, placeNewRegion, presetOf, resizeRect, scaleRegions, snapValue, type SnapContext } from '../../composer/src/lib/layout-editor.js';

const canvas = { width: 1920, height: 1080 };
const ctx = (over: Partial<SnapContext> = {}): SnapContext => ({ canvas, others: [{ x: 1000, y: 0, width: 920, height: 600 }], grid: 8, threshold: 10, snap: true, ...over });

describe('the layout editor’s geometry', () => {
  it('snaps to a nearby line first, else to the grid', () => {
    expect(snapValue(995, { grid: 8, threshold: 10, lines: [1000] })).toEqual({ value: 1000, line: 1000 });
    expect(snapValue(981, { grid: 8, threshold: 10, lines: [1000] })).toEqual({ value: 984, line: null });
    expect(snapValue(981.4, { grid: 0, threshold: 10, lines: [] })).toEqual({ value: 981, line: null });
  });

  it('moves a region so that its nearer edge meets another region, and keeps it on the canvas', () => {
    const r = { x: 0, y: 700, width: 400, height: 200 };
    // The right edge lands 6 px short of the other region's left edge: it snaps there.
    expect(moveRect(r, 594, 3, ctx())).toEqual({ x: 600, y: 704, width: 400, height: 200 });
    // Alt held: whole pixels, no snapping.
    expect(moveRect(r, 594, 3, ctx({ snap: false }))).toEqual({ x: 594, y: 703, width: 400, height: 200 });
    // Dragged off the canvas: it stops at the edge.
    expect(moveRect(r, 5000, 900, ctx())).toEqual({ x: 1520, y: 880, width: 400, height: 200 });
  });

  it('resizes by a handle, snapping only the edges it moves', () => {
    const r = { x: 100, y: 100, width: 300, height: 300 };
    expect(resizeRect(r, 'se', 597, 203, ctx())).toEqual({ x: 100, y: 100, width: 900, height: 500 });
    expect(resizeRect(r, 'w', -500, 0, ctx())).toEqual({ x: 0, y: 100, width: 400, height: 300 });
    expect(resizeRect(r, 'n', 0, 1000, ctx()).height).toBe(8);
    expect(resizeRect(r, 'e', 5000, 0, ctx())).toEqual({ x: 100, y: 100, width: 1820, height: 300 });
  });

  it('moves by 1 px with the arrows, by the grid with Shift, and resizes with Alt or Ctrl', () => {
    const r = { x: 10, y: 10, width: 100, height: 50 };
    const none = { shift: false, alt: false, ctrl: false };
    expect(nudgeRect(r, 'ArrowRight', none, 16, canvas)).toEqual({ ...r, x: 11 });
    expect(nudgeRect(r, 'ArrowUp', { ...none, shift: true }, 16, canvas)).toEqual({ ...r, y: 0 });
    expect(nudgeRect(r, 'ArrowDown', { ...none, alt: true }, 16, canvas)).toEqual({ ...r, height: 51 });
    expect(nudgeRect(r, 'ArrowLeft', { ...none, ctrl: true, shift: true }, 16, canvas)).toEqual({ ...r, width: 84 });
    expect(nudgeRect(r, 'Enter', none, 16, canvas)).toBeNull();
  });

  it('scales regions to a new canvas so that none leaves it and neighbours still touch', () => {
    const regions = [
      { id: 'a', x: 0, y: 0, width: 1190, height: 1036 },
      { id: 'b', x: 1190, y: 0, width: 730, height: 1036 },
      { id: 'c', x: 0, y: 1036, width: 1920, height: 44 },
    ];
    const scaled = scaleRegions(regions, canvas, { width: 1280, height: 720 });
    expect(scaled[0]).toMatchObject({ x: 0, width: 793 });
    expect(scaled[1]).toMatchObject({ x: 793, width: 1280 - 793 });
    expect(checkLayout({ width: 1280, height: 720, regions: scaled.map((r) => ({ ...r, name: r.id, playlistId: null })) })).toBeUndefined();
    expect(scaleRegions(regions, canvas, { width: 768, height: 256 }).every((r) => r.x + r.width <= 768 && r.y + r.height <= 256)).toBe(true);
  });

  it('names presets, new regions, their place and a grid step', () => {
    expect(presetOf(2880, 960)?.key).toBe('wide3');
    expect(presetOf(1000, 960)).toBeUndefined();
    expect(newRegionId(['region-1', 'main'])).toBe('region-2');
    expect(placeNewRegion(canvas, [{ x: 0, y: 0, width: 960, height: 540 }])).toEqual({ x: 960, y: 0, width: 480, height: 270 });
    expect(defaultGrid({ width: 768, height: 256 })).toBe(4);
    expect(defaultGrid(canvas)).toBe(16);
    expect(defaultGrid({ width: 3840, height: 2160 })).toBe(32);
  });
});
