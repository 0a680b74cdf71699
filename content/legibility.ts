/** Millimetres of character height needed per metre of viewing distance (a common signage rule). */
export const DEFAULT_MM_PER_METRE = 8.3;

/** The smallest character height in pixels that stays legible on a screen: max(16, ⌈d × k ÷ pitch⌉). */
export function legibleCharHeightPx(viewingDistanceM: number, pixelPitchMm: number, mmPerMetre = DEFAULT_MM_PER_METRE): number {
  return Math.max(16, Math.ceil((viewingDistanceM * mmPerMetre) / pixelPitchMm));
}

/*
 * Whether a layout region has room for what its playlist may show, at a screen's pixel pitch and
 * viewing distance. The rule follows the player's renderer (player/src/renderer: theme.ts
 * typeScale, items/index.ts, items/paged-text.ts, items/ticker.ts, clock.ts), which never draws
 * text below the legible height: a region too small for it clips the text instead. So the
 * question is where that clipping starts.
 */

/** Kinds drawn as text (paged documents, or a ticker in a one-line region). */
export const TEXT_KINDS = ['policy', 'notice', 'service-guide', 'three-affairs', 'text'] as const;
/** Text kinds whose pages carry a header (label, title, a line of facts) above the body. */
const HEADED_KINDS: readonly string[] = ['policy', 'notice', 'service-guide', 'three-affairs'];

/** Characters a line of paged text must hold to read as a document, and a scrolling line to read at all. */
export const MIN_CHARS_PER_LINE = 8;
export const MIN_TICKER_CHARS = 4;
/** A ticker draws its line at 70% of the region height, a clock at 60% (ticker.ts, region.ts). */
const TICKER_FILL = 0.7;
const CLOCK_FILL = 0.6;
/**
 * Width of the clock's text ("12月28日 星期六 14:05:06") in character heights: seven CJK
 * characters at 1 em, ten digits and colons at about 0.55 em, two spaces at 0.3 em.
 */
export const CLOCK_EMS = 12.6;

/** The type sizes the renderer chooses for a region (the same sums as player/src/renderer/theme.ts typeScale). */
export function regionTypeScale(regionHeight: number, legiblePx: number): { body: number; title: number; small: number; lineHeight: number; padding: number } {
  const body = Math.max(legiblePx, Math.floor(regionHeight / 16));
  return { body, title: Math.round(body * 1.2), small: legiblePx, lineHeight: Math.round(body * 1.45), padding: Math.max(4, Math.round(body * 0.5)) };
}

/** What a region is too small for, with the sizes involved in screen pixels. */
export type LegibilityProblem =
  /** Too short for one scrolling line of legible text. */
  | { readonly code: 'line-height'; readonly have: number; readonly need: number; readonly legiblePx: number }
  /** Tall enough to page text, but the header leaves no room for a line of the body. */
  | { readonly code: 'body-height'; readonly have: number; readonly need: number; readonly legiblePx: number }
  /** Too narrow for `chars` legible characters a line. */
  | { readonly code: 'text-width'; readonly have: number; readonly need: number; readonly chars: number; readonly legiblePx: number }
  /** Too short for the clock's digits at the legible height. */
  | { readonly code: 'clock-height'; readonly have: number; readonly need: number; readonly legiblePx: number }
  /** Too narrow for the clock's date and time at the size it is drawn. */
  | { readonly code: 'clock-width'; readonly have: number; readonly need: number; readonly legiblePx: number };

/** What the legibility rule needs of a screen (a manifest's `screen` has it). */
export interface ViewingConditions {
  readonly pixelPitchMm: number;
  readonly viewingDistanceM: number;
  readonly mmPerMetre?: number;
}

/**
 * The legibility problems of a `width`×`height` region showing `kinds` (the content kinds its
 * playlist may show) or the clock widget, at the screen's pitch and distance. Empty when it is fine;
 * pictures and video have no text, so they never warn.
 */
export function regionLegibility(
  region: { readonly width: number; readonly height: number; readonly widget?: 'clock' | null },
  kinds: readonly string[],
  screen: ViewingConditions,
): LegibilityProblem[] {
  const legiblePx = legibleCharHeightPx(screen.viewingDistanceM, screen.pixelPitchMm, screen.mmPerMetre);
  const { width, height } = region;
  const type = regionTypeScale(height, legiblePx);
  const out: LegibilityProblem[] = [];
  if (region.widget === 'clock') {
    const needH = Math.ceil(legiblePx / CLOCK_FILL - 1e-9);
    if (height < needH) out.push({ code: 'clock-height', have: height, need: needH, legiblePx });
    const px = Math.max(type.small, Math.min(type.body, Math.floor(height * CLOCK_FILL)));
    const needW = Math.ceil(px * CLOCK_EMS);
    if (width < needW) out.push({ code: 'clock-width', have: width, need: needW, legiblePx });
    return out;
  }
  const text = kinds.filter((k) => (TEXT_KINDS as readonly string[]).includes(k));
  if (text.length === 0) return out;
  // items/index.ts isTickerRegion: under 2.2 body lines, text scrolls as one line.
  const ticker = height < type.lineHeight * 2.2;
  if (ticker) {
    const needH = Math.ceil(legiblePx / TICKER_FILL - 1e-9);
    if (height < needH) out.push({ code: 'line-height', have: height, need: needH, legiblePx });
    const px = Math.max(type.small, Math.min(type.body, Math.floor(height * TICKER_FILL)));
    const needW = Math.ceil(px * MIN_TICKER_CHARS);
    if (width < needW) out.push({ code: 'text-width', have: width, need: needW, chars: MIN_TICKER_CHARS, legiblePx });
    return out;
  }
  // items/paged-text.ts: padding, [label, one title line, one line of facts, the rule], body lines, footer, padding.
  const pad = type.padding;
  const header = text.some((k) => HEADED_KINDS.includes(k))
    ? Math.round(type.small * 1.4) + Math.round(type.title * 1.3) + Math.round(pad / 2) + Math.round(type.small * 1.35) + Math.round(pad / 2) + 4
    : 0;
  const footer = Math.round(type.small * 1.4);
  const needH = pad + header + type.lineHeight + footer + pad;
  if (height < needH) out.push({ code: 'body-height', have: height, need: needH, legiblePx });
  const needW = 2 * pad + MIN_CHARS_PER_LINE * type.body;
  if (width < needW) out.push({ code: 'text-width', have: width, need: needW, chars: MIN_CHARS_PER_LINE, legiblePx });
  return out;
}
