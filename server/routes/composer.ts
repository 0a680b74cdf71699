import type { FastifyInstance } from 'fastify';
import { serveBuiltApp } from './player.js';

/** The composer (Vite, Vue 3 + Element Plus, dist/composer) for staff, at /composer/. */
export default async function composerRoutes(app: FastifyInstance): Promise<void> {
  await serveBuiltApp(app, 'composer', '管理后台', 'The composer');
  app.get('/', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.redirect('/composer/'));
}
