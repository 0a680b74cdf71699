import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** OpenAPI 3 generated from the routes' TypeBox schemas, browsable at /api/docs. */
export default fp(
  async function swaggerPlugin(app: FastifyInstance) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'ZoneCast API 政务公开专区信息发布系统',
          description: 'Zones, screens, content, layouts, playlists, schedules and media. Errors carry a code and a Chinese and English message.',
          version: '0.1.0',
        },
        components: {
          securitySchemes: {
            deviceToken: { type: 'http', scheme: 'bearer', description: 'A screen’s device token' },
          },
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  },
  { name: 'zonecast-swagger' },
);
