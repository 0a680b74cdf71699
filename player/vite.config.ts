import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { ownFontFamily } from './vite-fonts.js';

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
