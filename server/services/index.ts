import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createAudit, type AuditService } from './audit-log.js';
import { createManifests, type ManifestService } from './manifests.js';
import { createMedia, type MediaService } from './media.js';
import { createPairing, type PairingService } from './pairing.js';
import { createRealtime, type RealtimeService } from './realtime.js';
import { createStore, type Store } from './store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: Store;
    media: MediaService;
    manifests: ManifestService;
    realtime: RealtimeService;
    audit: AuditService;
    pairing: PairingService;
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

/** Pairing codes for fresh players. */
export const pairingPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('pairing', createPairing({ store: app.store }));
  },
  { name: 'pairing', dependencies: ['store'] },
);

/** Socket.IO on the app's own HTTP server. */
export const realtimePlugin = fp(
  async (app: FastifyInstance) => {
    const realtime = createRealtime({ server: app.server, store: app.store, manifests: app.manifests, auth: app.auth, pairing: app.pairing, log: app.log });
    app.decorate('realtime', realtime);
    app.addHook('preClose', async () => realtime.close());
  },
  { name: 'realtime', dependencies: ['manifests', 'zonecast-auth', 'pairing'] },
);

/**
 * The hash-chained audit log: appends what each store commit put in the outbox, and finishes
 * the last append on close (its onClose runs before the store's, which was registered first).
 */
export const auditPlugin = fp(
  async (app: FastifyInstance) => {
    const audit = await createAudit({ store: app.store, dataDir: app.config.dataDir, retentionMonths: app.config.auditRetentionMonths, log: app.log });
    app.decorate('audit', audit);
    app.addHook('onClose', async () => audit.close());
  },
  { name: 'audit', dependencies: ['config', 'store'] },
);
