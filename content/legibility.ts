/** Millimetres of character height needed per metre of viewing distance (a common signage rule). */
export const DEFAULT_MM_PER_METRE = 8.3;

/** The smallest character height in pixels that stays legible on a screen: max(16, ⌈d × k ÷ pitch⌉). */
export function legibleCharHeightPx(viewingDistanceM: number, pixelPitchMm: number, mmPerMetre = DEFAULT_MM_PER_METRE): number {
  return Math.max(16, Math.ceil((viewingDistanceM * mmPerMetre) / pixelPitchMm));
}
