import { legibleCharHeightPx, regionTypeScale } from '../../../content/index.js';

/** Colours of the government-blue theme, chosen for contrast on LED walls. */
export const COLORS = {
  text: 0xffffff,
  muted: 0xb9c7dd,
  accent: 0xffd54f,
  title: 0xffe082,
  panel: 0x12305c,
  alert: 0xd32f2f,
  idle: 0x050b16,
} as const;

/** Type sizes for a region: never below the legible character height for the screen. */
export interface TypeScale {
  readonly body: number;
  readonly title: number;
  readonly small: number;
  readonly lineHeight: number;
  readonly padding: number;
}

/** Chooses sizes from the region height, bounded below by the screen's legible height. */
export function typeScale(regionHeight: number, viewingDistanceM: number, pixelPitchMm: number, mmPerMetre?: number): TypeScale {
  // The sums live in content/ so that the composer's legibility warnings agree with what is drawn.
  return regionTypeScale(regionHeight, legibleCharHeightPx(viewingDistanceM, pixelPitchMm, mmPerMetre));
}
