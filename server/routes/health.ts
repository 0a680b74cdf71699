import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

const HealthSchema = Type.Object({
  ok: Type.Literal(true),
  version: Type.String(),
  time: Type.Number({ description: 'Server wall clock, epoch ms' }),
  timeZone: Type.String(),
  uptimeS: Type.Number(),
  counts: Type.Record(Type.String(), Type.Integer()),
  connectedScreens: Type.Integer(),
});

/** GET /api/health: liveness with the server clock and store counts. */
export default async function healthRoutes(appIn: FastifyInstance): Promise<void> {
  const app = appIn.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/health', { config: { auth: 'public' }, schema: { tags: ['system 系统'], summary: 'Health and server time', response: { 200: HealthSchema } } }, async () => {
    const d = app.store.read();
    return {
      ok: true as const,
      version: '0.1.0',
      time: Date.now(),
      timeZone: app.config.timeZone,
      uptimeS: Math.round(process.uptime()),
      counts: {
        zones: d.zones.length,
        screens: d.screens.length,
        content: d.content.length,
        layouts: d.layouts.length,
        playlists: d.playlists.length,
        schedules: d.schedules.length,
        media: d.media.length,
      },
      connectedScreens: app.realtime.io.of('/').sockets.size,
    };
  });
}
