import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Security headers. The CSP allows what pixi.js needs (textures decoded in blob: workers) and
 * drops upgrade-insecure-requests, which would break plain-http players on a LAN.
 */
export default fp(
  async function helmetPlugin(app: FastifyInstance) {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'worker-src': ["'self'", 'blob:'],
          'img-src': ["'self'", 'data:', 'blob:'],
          // pixi probes video codec support with a data: URL.
          'media-src': ["'self'", 'data:', 'blob:'],
          'connect-src': ["'self'", 'ws:', 'wss:'],
          'upgrade-insecure-requests': null,
        },
      },
      // Media is fetched cross-origin by previews and service workers.
      crossOriginResourcePolicy: { policy: 'same-site' },
      strictTransportSecurity: false,
    });
  },
  { name: 'zonecast-helmet' },
);
