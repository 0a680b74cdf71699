import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';
import { ownFontFamily } from '../player/vite-fonts.js';

/** Where `npm run dev:composer` sends /api and /socket.io (the server started with `npm run dev`). */
const devServer = process.env.ZONECAST_API ?? 'http://localhost:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/composer/',
  // The player's font transform too: previews draw with the player's renderer and its font family.
  plugins: [ownFontFamily(), vue()],
  server: {
    // No changeOrigin: the server's cross-site check compares Origin with Host, which must stay ours.
    proxy: {
      '/api': devServer,
      '/media': devServer,
      '/socket.io': { target: devServer, ws: true },
    },
  },
  build: {
    outDir: fileURLToPath(new URL('../dist/composer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome109',
    // Element Plus is one vendor chunk of about 1 MB; staff load it once per version.
    chunkSizeWarningLimit: 1500,
    modulePreload: { polyfill: false },
  },
});
