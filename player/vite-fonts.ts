import type { Plugin } from 'vite';
import { FONT_FAMILY } from './src/renderer/font-family.js';

/**
 * Renames @fontsource's "Noto Sans SC" faces to our own family and keeps only the woff2 sources,
 * which every supported browser (Chromium 109 and later) reads. The player and the composer
 * (whose previews use the player's renderer) both build with it.
 */
export function ownFontFamily(): Plugin {
  return {
    name: 'zonecast-own-font-family',
    enforce: 'pre',
    transform(code, id) {
      if (!/@fontsource[\\/]noto-sans-sc[\\/].*\.css$/.test(id)) return null;
      return code
        .replace(/font-family: 'Noto Sans SC';/g, `font-family: '${FONT_FAMILY}';`)
        .replace(/, url\([^)]*\.woff\) format\('woff'\)/g, '')
        .replace(/font-display: swap;/g, 'font-display: block;');
    },
  };
}
