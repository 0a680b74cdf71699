/**
 * The geometry of the layout editor, pure: screen-size presets, snapping, moving and resizing
 * regions within the canvas, scaling regions to a new canvas, and ids for new regions. The page
 * and its canvas only translate pointer and key events into these calls.
 */

/** A rectangle in screen pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Common LED wall sizes, each with an i18n key for its name in words. */
export const SIZE_PRESETS = [
  { key: 'fhd', width: 1920, height: 1080 },
  { key: 'hd', width: 1280, height: 720 },
  { key: 'uhd', width: 3840, height: 2160 },
  { key: 'wide3', width: 2880, height: 960 },
  { key: 'strip3l', width: 1152, height: 384 },
  { key: 'strip3m', width: 960, height: 320 },
  { key: 'strip3s', width: 768, height: 256 },
  { key: 'portrait', width: 1080, height: 1920 },
] as const;
export type SizePreset = (typeof SIZE_PRESETS)[number];

/** The preset of a size, if it is one. */
export function presetOf(width: number, height: number): SizePreset | undefined {
  return SIZE_PRESETS.find((p) => p.width === width && p.height === height);
}

/** Which edges a resize handle moves: n, s, e, w and the corners. */
export const HANDLES = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'] as const;
export type Handle = (typeof HANDLES)[number];

/** The smallest region the editor makes (the schema allows 1, but nothing useful is smaller). */
export const MIN_REGION_PX = 8;

export interface SnapOptions {
  /** Grid step in screen pixels (0 or 1: no grid). */
  readonly grid: number;
  /** How far (screen pixels) an edge is pulled to a line. */
  readonly threshold: number;
  /** Lines to snap to on this axis besides the grid: the canvas edges and other regions' edges. */
  readonly lines: readonly number[];
}

/**
 * Snaps one coordinate: to the nearest line within the threshold, else to the grid. Returns the
 * snapped value and the line it met (for a guide), if any.
 */
export function snapValue(v: number, o: SnapOptions): { value: number; line: number | null } {
  let best: number | null = null;
  for (const l of o.lines) if (Math.abs(l - v) <= o.threshold && (best === null || Math.abs(l - v) < Math.abs(best - v))) best = l;
  if (best !== null) return { value: best, line: best };
  if (o.grid > 1) return { value: Math.round(v / o.grid) * o.grid, line: null };
  return { value: Math.round(v), line: null };
}

/** The vertical and horizontal edge lines of the canvas and of `others`. */
export function edgeLines(canvas: { width: number; height: number }, others: readonly Rect[]): { xs: number[]; ys: number[] } {
  const xs = [0, canvas.width];
  const ys = [0, canvas.height];
  for (const r of others) {
    xs.push(r.x, r.x + r.width);
    ys.push(r.y, r.y + r.height);
  }
  return { xs, ys };
}

export interface SnapContext {
  readonly canvas: { readonly width: number; readonly height: number };
  /** The other regions (edges to snap to). */
  readonly others: readonly Rect[];
  readonly grid: number;
  readonly threshold: number;
  /** False: whole pixels only (Alt held, or the toggle off). */
  readonly snap: boolean;
}

/** Keeps a rectangle on the canvas, at least MIN_REGION_PX (or the canvas) in each direction. */
export function clampRect(r: Rect, canvas: { width: number; height: number }): Rect {
  const width = Math.min(canvas.width, Math.max(Math.min(MIN_REGION_PX, canvas.width), Math.round(r.width)));
  const height = Math.min(canvas.height, Math.max(Math.min(MIN_REGION_PX, canvas.height), Math.round(r.height)));
  const x = Math.min(canvas.width - width, Math.max(0, Math.round(r.x)));
  const y = Math.min(canvas.height - height, Math.max(0, Math.round(r.y)));
  return { x, y, width, height };
}

/**
 * Where a region dragged by (dx, dy) from `start` lands: whichever of its edges is nearer a line
 * snaps to it (else its top-left corner to the grid), and it stays on the canvas.
 */
export function moveRect(start: Rect, dx: number, dy: number, ctx: SnapContext): Rect {
  let x = start.x + dx;
  let y = start.y + dy;
  if (ctx.snap) {
    const { xs, ys } = edgeLines(ctx.canvas, ctx.others);
    x = snapEdges(x, start.width, xs, ctx);
    y = snapEdges(y, start.height, ys, ctx);
  }
  return clampRect({ x, y, width: start.width, height: start.height }, ctx.canvas);
}

function snapEdges(pos: number, size: number, lines: readonly number[], ctx: SnapContext): number {
  const lead = snapValue(pos, { grid: 0, threshold: ctx.threshold, lines });
  const trail = snapValue(pos + size, { grid: 0, threshold: ctx.threshold, lines });
  const dLead = lead.line === null ? Infinity : Math.abs(lead.value - pos);
  const dTrail = trail.line === null ? Infinity : Math.abs(trail.value - (pos + size));
  if (dLead === Infinity && dTrail === Infinity) return snapValue(pos, { grid: ctx.grid, threshold: 0, lines: [] }).value;
  return dLead <= dTrail ? lead.value : trail.value - size;
}

/** The rectangle after dragging `handle` by (dx, dy): the moved edges snap; the others stay put. */
export function resizeRect(start: Rect, handle: Handle, dx: number, dy: number, ctx: SnapContext): Rect {
  const { xs, ys } = edgeLines(ctx.canvas, ctx.others);
  const snapX = (v: number) => (ctx.snap ? snapValue(v, { grid: ctx.grid, threshold: ctx.threshold, lines: xs }).value : Math.round(v));
  const snapY = (v: number) => (ctx.snap ? snapValue(v, { grid: ctx.grid, threshold: ctx.threshold, lines: ys }).value : Math.round(v));
  let left = start.x;
  let top = start.y;
  let right = start.x + start.width;
  let bottom = start.y + start.height;
  const min = MIN_REGION_PX;
  if (handle.includes('w')) left = Math.min(right - min, Math.max(0, snapX(left + dx)));
  if (handle.includes('e')) right = Math.max(left + min, Math.min(ctx.canvas.width, snapX(right + dx)));
  if (handle.includes('n')) top = Math.min(bottom - min, Math.max(0, snapY(top + dy)));
  if (handle.includes('s')) bottom = Math.max(top + min, Math.min(ctx.canvas.height, snapY(bottom + dy)));
  return clampRect({ x: left, y: top, width: right - left, height: bottom - top }, ctx.canvas);
}

/**
 * A key press on a selected region: arrows move by 1 px (`step` with Shift); with Alt or Ctrl
 * they resize (right/down grow, left/up shrink). Null when the key is not one of these.
 */
export function nudgeRect(
  r: Rect,
  key: string,
  mods: { shift: boolean; alt: boolean; ctrl: boolean },
  step: number,
  canvas: { width: number; height: number },
): Rect | null {
  const d = mods.shift ? Math.max(1, step) : 1;
  const dir: Record<string, [number, number]> = { ArrowLeft: [-d, 0], ArrowRight: [d, 0], ArrowUp: [0, -d], ArrowDown: [0, d] };
  const v = dir[key];
  if (!v) return null;
  const [dx, dy] = v;
  if (mods.alt || mods.ctrl) {
    const width = Math.max(MIN_REGION_PX, Math.min(canvas.width - r.x, r.width + dx));
    const height = Math.max(MIN_REGION_PX, Math.min(canvas.height - r.y, r.height + dy));
    return clampRect({ ...r, width, height }, canvas);
  }
  return clampRect({ ...r, x: r.x + dx, y: r.y + dy }, canvas);
}

/**
 * Regions scaled from one canvas size to another, edges rounded so that regions that touched
 * still touch and none leaves the canvas.
 */
export function scaleRegions<R extends Rect>(regions: readonly R[], from: { width: number; height: number }, to: { width: number; height: number }): R[] {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  return regions.map((r) => {
    const left = Math.round(r.x * sx);
    const top = Math.round(r.y * sy);
    const right = Math.min(to.width, Math.round((r.x + r.width) * sx));
    const bottom = Math.min(to.height, Math.round((r.y + r.height) * sy));
    const rect = clampRect({ x: left, y: top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) }, to);
    return { ...r, ...rect };
  });
}

/** True when a region lies wholly on the canvas. */
export function onCanvas(r: Rect, canvas: { width: number; height: number }): boolean {
  return r.x >= 0 && r.y >= 0 && r.x + r.width <= canvas.width && r.y + r.height <= canvas.height;
}

/** An id for a new region that none of `taken` has: region-1, region-2, … */
export function newRegionId(taken: readonly string[], stem = 'region'): string {
  for (let i = 1; ; i++) {
    const id = `${stem}-${i}`;
    if (!taken.includes(id)) return id;
  }
}

/**
 * Where a new region goes: the largest free box along the canvas grid not covered by `occupied`,
 * else a quarter of the canvas in the top-left corner.
 */
export function placeNewRegion(canvas: { width: number; height: number }, occupied: readonly Rect[]): Rect {
  const w = Math.max(MIN_REGION_PX, Math.round(canvas.width / 4));
  const h = Math.max(MIN_REGION_PX, Math.round(canvas.height / 4));
  const free = (r: Rect) => !occupied.some((o) => r.x < o.x + o.width && o.x < r.x + r.width && r.y < o.y + o.height && o.y < r.y + r.height);
  for (let y = 0; y + h <= canvas.height; y += h) for (let x = 0; x + w <= canvas.width; x += w) if (free({ x, y, width: w, height: h })) return { x, y, width: w, height: h };
  return clampRect({ x: 0, y: 0, width: w, height: h }, canvas);
}

/** A default grid step for a canvas: about a hundredth of its longer side, a power of two from 4 to 32. */
export function defaultGrid(canvas: { width: number; height: number }): number {
  const target = Math.max(canvas.width, canvas.height) / 100;
  let g = 4;
  while (g * 2 <= target && g < 32) g *= 2;
  return g;
}
