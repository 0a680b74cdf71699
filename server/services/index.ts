import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createAlerts, type AlertRuntime } from './alerts.js';
import { createAudit, type AuditService } from './audit-log.js';
import { createDeliveryJournal, migrateLegacyDeliveries, type DeliveryStore } from './delivery-journal.js';
import { createManifests, type ManifestService } from './manifests.js';
import { createMedia, type MediaService } from './media.js';
import { createPairing, type PairingService } from './pairing.js';
import { createRealtime, emitScreenStatus, type RealtimeService } from './realtime.js';
import { createScheduler, housekeepingJobs, type AlertRetrier, type Scheduler } from './scheduler.js';
import { createStore, type Store } from './store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: Store;
    deliveries: DeliveryStore;
    media: MediaService;
    manifests: ManifestService;
    realtime: RealtimeService;
    audit: AuditService;
    pairing: PairingService;
    alerts: AlertRuntime;
    scheduler: Scheduler;
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

/**
 * The delivery journal (`deliveries.jsonl`): the alerts' delivery boards, out of the store's one
 * document so that an acknowledgement appends a line instead of rewriting the document. A
 * document from before it hands its boards over once, here. Closed after the alert service,
 * which writes its last batch on close.
 */
export const deliveriesPlugin = fp(
  async (app: FastifyInstance) => {
    const deliveries = await createDeliveryJournal(app.config.dataDir, { log: app.log });
    const moved = await migrateLegacyDeliveries(app.store, deliveries);
    if (moved > 0) app.log.info({ deliveries: moved }, 'delivery boards moved from the store document to the delivery journal');
    app.decorate('deliveries', deliveries);
    app.addHook('onClose', async () => deliveries.close());
  },
  { name: 'deliveries', dependencies: ['config', 'store'] },
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

/**
 * Urgent alerts. Registered before realtime, whose socket handlers use it; it reaches realtime's
 * io only when it emits, by then decorated. Its batch of acknowledgements is written on close.
 */
export const alertsPlugin = fp(
  async (app: FastifyInstance) => {
    const alerts = createAlerts({ store: app.store, deliveries: app.deliveries, media: app.media, io: () => app.realtime.io, log: app.log });
    app.decorate('alerts', alerts);
    app.addHook('onClose', async () => alerts.close());
  },
  { name: 'alerts', dependencies: ['store', 'deliveries', 'media'] },
);

/** Socket.IO on the app's own HTTP server. */
export const realtimePlugin = fp(
  async (app: FastifyInstance) => {
    const realtime = createRealtime({ server: app.server, store: app.store, manifests: app.manifests, auth: app.auth, pairing: app.pairing, alerts: app.alerts, log: app.log });
    app.decorate('realtime', realtime);
    app.addHook('preClose', async () => realtime.close());
  },
  { name: 'realtime', dependencies: ['manifests', 'zonecast-auth', 'pairing', 'alerts'] },
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

/**
 * The housekeeping jobs on the city's clock. Started once the app is ready when ZONECAST_JOBS
 * is on (runNow works either way), and stopped, waiting for a running job, before the store closes.
 */
export const schedulerPlugin = fp(
  async (app: FastifyInstance) => {
    const scheduler = createScheduler({
      timeZone: app.config.timeZone,
      log: app.log,
      jobs: housekeepingJobs({
        store: app.store,
        deliveries: app.deliveries,
        audit: app.audit,
        offlineAfterS: app.config.offlineAfterS,
        announceOffline: (screenId, zoneId) => emitScreenStatus(app.realtime.io, app.store, screenId, zoneId, false),
        // The alert service is optional here: looked up on each run, not declared as a dependency.
        alerts: () => (app.hasDecorator('alerts') ? (app as unknown as { alerts: AlertRetrier }).alerts : null),
        log: app.log,
      }),
    });
    app.decorate('scheduler', scheduler);
    if (app.config.jobs) app.addHook('onReady', async () => scheduler.start());
    app.addHook('preClose', async () => scheduler.stop());
  },
  { name: 'scheduler', dependencies: ['config', 'store', 'deliveries', 'audit', 'realtime'] },
);
