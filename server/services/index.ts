import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createManifests, type ManifestService } from './manifests.js';
import { createMedia, type MediaService } from './media.js';
import { createRealtime, type RealtimeService } from './realtime.js';
import { createStore, type Store } from './store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: Store;
    media: MediaService;
    manifests: ManifestService;
    realtime: RealtimeService;
  }
}

/** The durable lowdb store, closed after the last request. */
export const storePlugin = fp(
  async (app: FastifyInstance) => {
    const store = await createStore(app.config.dataDir);
    app.decorate('store', store);
    app.addHook('onClose', async () => store.close());
  },
  { name: 'store', dependencies: ['config'] },
);

/** The sharp media pipeline. */
export const mediaPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('media', createMedia({ store: app.store, dataDir: app.config.dataDir }));
  },
  { name: 'media', dependencies: ['store'] },
);

/** Manifest resolution. */
export const manifestsPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('manifests', createManifests({ store: app.store, media: app.media, timeZone: app.config.timeZone, mmPerMetre: app.config.mmPerMetre }));
  },
  { name: 'manifests', dependencies: ['store', 'media'] },
);

/** Socket.IO on the app's own HTTP server. */
export const realtimePlugin = fp(
  async (app: FastifyInstance) => {
    const realtime = createRealtime({ server: app.server, store: app.store, manifests: app.manifests, log: app.log });
    app.decorate('realtime', realtime);
    app.addHook('preClose', async () => realtime.close());
  },
  { name: 'realtime', dependencies: ['manifests'] },
);
