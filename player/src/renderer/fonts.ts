import '@fontsource/noto-sans-sc/400.css';
import '@fontsource/noto-sans-sc/700.css';
import { FONT_FAMILY } from './font-family.js';

export { FONT_FAMILY };

/** A CSS font shorthand in the bundled family. */
export function fontString(px: number, weight: 400 | 700 = 400): string {
  return `${weight} ${px}px "${FONT_FAMILY}"`;
}

/**
 * Loads the font subsets covering `text` in both weights. Pagination measures text, so this must
 * finish before any layout, or a fallback font's metrics would move the page breaks.
 */
export async function loadGlyphs(text: string): Promise<void> {
  const sample = text.length > 0 ? text : '政务公开';
  await Promise.all([document.fonts.load(fontString(16, 400), sample), document.fonts.load(fontString(16, 700), sample)]);
}
