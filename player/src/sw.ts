/// <reference lib="webworker" />
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { clientsClaim } from 'workbox-core';
import { CacheOnly, NetworkOnly } from 'workbox-strategies';
import { MEDIA_CACHE } from './cache-names.js';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

// The app shell: HTML, scripts, styles and every font subset, versioned by Workbox.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// The first start's page is controlled at once, so prefetched media reach it offline and an app
// update can take it over.
clientsClaim();

// Any navigation in /player/ (with ?token=, ?x= …) gets the precached shell, online or not.
registerRoute(new NavigationRoute(createHandlerBoundToURL('/player/index.html'), { allowlist: [/^\/player\//] }));

// Media comes only from the cache the page fills after checking each file's SHA-256; a file
// not there yet (the prefetcher's own download, among others) goes to the network and is not
// cached here, so nothing unverified is ever kept.
const fromVerifiedCache = new CacheOnly({ cacheName: MEDIA_CACHE });
const fromNetwork = new NetworkOnly();
registerRoute(
  ({ url }) => url.pathname.startsWith('/media/'),
  async (options) => {
    try {
      return await fromVerifiedCache.handle(options);
    } catch {
      return fromNetwork.handle(options);
    }
  },
);

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data = event.data as { type?: string } | null;
  if (data?.type === 'SKIP_WAITING') void self.skipWaiting();
});
