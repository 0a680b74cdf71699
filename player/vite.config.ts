import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** The family name pagination depends on; Noto Sans SC is bundled under it so no system font can stand in. */
export const FONT_FAMILY = 'ZoneCast Sans';

/**
 * Renames @fontsource's "Noto Sans SC" faces to our own family and keeps only the woff2 sources,
 * which every supported browser (Chromium 109 and later) reads.
 */
function ownFontFamily(): Plugin {
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

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/player/',
  define: {
    // Changes with every build, so that tests and diagnostics can see an app update land.
    __ZONECAST_BUILD__: JSON.stringify(process.env.ZONECAST_BUILD ?? new Date().toISOString()),
  },
  plugins: [
    ownFontFamily(),
    // The service worker (src/sw.ts) is ours; Workbox injects the precache list of the app shell.
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      injectRegister: false,
      manifest: false,
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,woff2}'],
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
        rollupFormat: 'iife',
      },
    }),
  ],
  build: {
    outDir: fileURLToPath(new URL('../dist/player', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome109',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
});
