import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MEDIA_LIMITS } from '../../content/index.js';

/** multipart/form-data for uploads: one file, bounded in size, rejected (not truncated) when over. */
export default fp(
  async function multipartPlugin(app: FastifyInstance) {
    await app.register(multipart, {
      limits: { fileSize: MEDIA_LIMITS.maxBytes, files: 1, fields: 4, parts: 6 },
      throwFileSizeLimit: true,
    });
  },
  { name: 'zonecast-multipart' },
);
