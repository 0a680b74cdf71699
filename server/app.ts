import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from './config.js';
import authPlugin from './plugins/auth.js';
import cookiePlugin from './plugins/cookie.js';
import errorsPlugin from './plugins/errors.js';
import helmetPlugin from './plugins/helmet.js';
import multipartPlugin from './plugins/multipart.js';
import swaggerPlugin from './plugins/swagger.js';
import alertRoutes from './routes/alerts.js';
import auditRoutes from './routes/audit.js';
import authRoutes from './routes/auth.js';
import benchRoutes from './routes/bench.js';
import capRoutes from './routes/cap.js';
import composerRoutes from './routes/composer.js';
import contentRoutes from './routes/content.js';
import explainRoutes from './routes/explain.js';
import previewRoutes from './routes/preview.js';
import healthRoutes from './routes/health.js';
import layoutRoutes from './routes/layouts.js';
import mediaRoutes from './routes/media.js';
import playerRoutes from './routes/player.js';
import pairingRoutes from './routes/pairing.js';
import playlistRoutes from './routes/playlists.js';
import scheduleRoutes from './routes/schedules.js';
import screenRoutes from './routes/screens.js';
import tokenRoutes from './routes/tokens.js';
import userRoutes from './routes/users.js';
import zoneRoutes from './routes/zones.js';
import { alertsPlugin, auditPlugin, deliveriesPlugin, manifestsPlugin, mediaPlugin, pairingPlugin, realtimePlugin, schedulerPlugin, storePlugin } from './services/index.js';

export interface BuildOptions {
  readonly config: Config;
  readonly logger?: FastifyServerOptions['logger'];
}

/** Builds the whole app in memory; it never listens (main.ts does, tests use inject or port 0). */
export async function buildApp({ config, logger = false }: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    https: config.tls ? { cert: config.tls.cert, key: config.tls.key } : null,
    bodyLimit: 2 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }) as unknown as FastifyInstance;

  await app.register(
    fp(
      async (a: FastifyInstance) => {
        a.decorate('config', config);
      },
      { name: 'config' },
    ),
  );
  await app.register(errorsPlugin);
  await app.register(helmetPlugin);
  await app.register(multipartPlugin);
  await app.register(swaggerPlugin);
  await app.register(cookiePlugin);

  await app.register(storePlugin);
  // After the store: onClose hooks run in reverse, so the log's last append precedes the store's close.
  await app.register(auditPlugin);
  await app.register(deliveriesPlugin);
  await app.register(authPlugin);
  await app.register(mediaPlugin);
  await app.register(manifestsPlugin);
  await app.register(pairingPlugin);
  await app.register(alertsPlugin);
  await app.register(realtimePlugin);
  await app.register(schedulerPlugin);

  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(userRoutes);
  await app.register(tokenRoutes);
  await app.register(pairingRoutes);
  await app.register(alertRoutes);
  await app.register(capRoutes);
  await app.register(auditRoutes);
  await app.register(zoneRoutes);
  await app.register(screenRoutes);
  await app.register(explainRoutes);
  await app.register(previewRoutes);
  await app.register(contentRoutes);
  await app.register(layoutRoutes);
  await app.register(playlistRoutes);
  await app.register(scheduleRoutes);
  await app.register(mediaRoutes);
  await app.register(playerRoutes);
  await app.register(composerRoutes);
  if (config.benchRoutes) await app.register(benchRoutes);
  return app;
}
