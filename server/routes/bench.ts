import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { IdSchema, rooms } from '../../content/index.js';

/**
 * Registered only with ZONECAST_BENCH_ROUTES=1: a bare Socket.IO broadcast to a zone's room,
 * the baseline that `npm run bench:push` compares manifest pushes against.
 */
export default async function benchRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/_bench/broadcast',
    {
      config: { auth: { permission: 'zone:write' } },
      schema: {
        hide: true,
        body: Type.Object({ zoneId: IdSchema, seq: Type.Integer(), bytes: Type.Integer({ minimum: 0, maximum: 10_000_000 }) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const { zoneId, seq, bytes } = req.body;
      app.realtime.io.to(rooms.zone(zoneId)).emit('bench:ping', { seq, pad: 'x'.repeat(bytes) });
      return { ok: true };
    },
  );
}
